import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Repository } from 'typeorm';
import { ENV_CONFIG, type EnvConfig } from '../config/configuration';
import { AdminToken, ApiKey, Tenant } from '../database/entities';
import type { TenantLimits } from '../database/entities/tenant.entity';
import { hashSecret, newAdminToken, newApiKey, safeEqual } from './keys';

@Injectable()
export class AuthService implements OnApplicationBootstrap {
  private readonly log = new Logger('Auth');

  constructor(
    @Inject(ENV_CONFIG) private readonly cfg: EnvConfig,
    @InjectRepository(Tenant) private readonly tenants: Repository<Tenant>,
    @InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>,
    @InjectRepository(AdminToken) private readonly adminTokens: Repository<AdminToken>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bootstrap();
  }

  defaultLimits(): TenantLimits {
    return {
      maxSessions: this.cfg.KERNELAB_DEFAULT_MAX_SESSIONS,
      maxTtlSeconds: this.cfg.KERNELAB_MAX_TTL_SECONDS,
      requestsPerMinute: this.cfg.KERNELAB_DEFAULT_RATE_LIMIT,
    };
  }

  /**
   * Tenant lookups by key hash, cached briefly: every request authenticates,
   * and the cache is dropped in this process the moment a key is revoked.
   */
  private readonly keyCache = new Map<string, { tenant: Tenant; until: number }>();
  private static readonly KEY_CACHE_MS = 2000;

  forgetKeys(): void {
    this.keyCache.clear();
  }

  async tenantForKey(key: string): Promise<Tenant | null> {
    const hash = hashSecret(key);
    const hit = this.keyCache.get(hash);
    const now = performance.now();
    if (hit && hit.until > now) return hit.tenant;
    const tenant = await this.lookupKey(hash);
    if (tenant) {
      if (this.keyCache.size > 10_000) this.keyCache.clear();
      this.keyCache.set(hash, { tenant, until: now + AuthService.KEY_CACHE_MS });
    } else this.keyCache.delete(hash);
    return tenant;
  }

  private async lookupKey(hash: string): Promise<Tenant | null> {
    const rows = (await this.tenants.query(
      `SELECT t.id, t.name, t.limits, t.created_at FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
      [hash],
    )) as { id: string; name: string; limits: TenantLimits | string; created_at: Date | string }[];
    if (rows.length === 0) return null;
    const r = rows[0];
    return this.tenants.create({
      id: r.id,
      name: r.name,
      limits: typeof r.limits === 'string' ? (JSON.parse(r.limits) as TenantLimits) : r.limits,
      createdAt: new Date(r.created_at),
    });
  }

  async isAdmin(token: string): Promise<boolean> {
    if (this.cfg.KERNELAB_ADMIN_TOKEN) return safeEqual(token, this.cfg.KERNELAB_ADMIN_TOKEN);
    return (await this.adminTokens.count({ where: { tokenHash: hashSecret(token) } })) > 0;
  }

  /** Issues a key for a tenant; the plain key is returned once and stored only as a hash. */
  async issueKey(tenantId: string, label?: string): Promise<{ key: string; row: ApiKey }> {
    const key = newApiKey();
    const row = await this.keys.save(this.keys.create({ tenantId, keyHash: hashSecret(key), prefix: key.slice(0, 10), label: label ?? null, revokedAt: null }));
    return { key, row };
  }

  /**
   * First start on an empty database without KERNELAB_ADMIN_TOKEN: creates the
   * tenant "default" with an API key and an admin token, prints both once and
   * writes them to KERNELAB_DATA_DIR/credentials.json (mode 0600).
   */
  async bootstrap(): Promise<{ tenantKey: string; adminToken?: string } | null> {
    if ((await this.tenants.count()) > 0) return null;
    const tenant = await this.tenants.save(this.tenants.create({ name: 'default', limits: this.defaultLimits() }));
    const { key } = await this.issueKey(tenant.id, 'bootstrap');
    let adminToken: string | undefined;
    if (!this.cfg.KERNELAB_ADMIN_TOKEN) {
      adminToken = newAdminToken();
      await this.adminTokens.save(this.adminTokens.create({ tokenHash: hashSecret(adminToken) }));
    }
    const file = path.resolve(this.cfg.KERNELAB_DATA_DIR, 'credentials.json');
    await mkdir(path.dirname(file), { recursive: true });
    const creds = { tenant: 'default', tenantId: tenant.id, apiKey: key, ...(adminToken ? { adminToken } : {}) };
    await writeFile(file, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
    await chmod(file, 0o600);
    // printed once, on purpose: the newcomer needs them to call the API
    if (this.cfg.LOG_LEVEL !== 'silent') process.stdout.write(
      `\nKernelab first start: created tenant "default".\n  API key:     ${key}\n` +
        (adminToken ? `  admin token: ${adminToken}\n` : '') +
        `  (also written to ${file}, mode 0600)\n\n`,
    );
    this.log.log(`bootstrap credentials written to ${file}`);
    return { tenantKey: key, adminToken };
  }
}
