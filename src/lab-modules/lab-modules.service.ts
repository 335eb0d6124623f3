import { randomUUID } from 'crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { ApiError } from '../common/errors';
import { LabModuleRow, type Tenant } from '../database/entities';
import { type LabManifest, validateLabManifest } from '../kernel/modules/lab';
import { SessionsService } from '../sessions/sessions.service';

export interface LabModuleView {
  name: string;
  version: string;
  createdAt: string;
  updatedAt: string;
  manifest: LabManifest;
}

const view = (r: LabModuleRow): LabModuleView => ({
  name: r.name,
  version: r.version,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
  manifest: r.manifest as unknown as LabManifest,
});

/** most lab modules one tenant may register */
export const MAX_LAB_MODULES = 200;

/**
 * Tenants' lab modules: validated manifests stored per tenant. A session
 * learns its tenant's manifests through a journaled machine op before a
 * command that may load one (see `manifests`).
 */
@Injectable()
export class LabModulesService {
  /** per-tenant cache of the manifests, dropped on every change */
  private readonly cache = new Map<string, LabManifest[]>();
  /** per-tenant change counter; with the process nonce it names a version of the tenant's set */
  private readonly versions = new Map<string, number>();
  private readonly nonce = randomUUID();
  /** the version each live session last received (a restart re-sends it once) */
  private readonly synced = new Map<string, string>();

  constructor(
    @InjectRepository(LabModuleRow) private readonly rows: Repository<LabModuleRow>,
    @Inject(Clock) private readonly clock: Clock,
    private readonly sessions: SessionsService,
  ) {}

  private validate(body: unknown): LabManifest {
    const r = validateLabManifest(body);
    if (!r.ok) throw new ApiError(400, 'INVALID_MANIFEST', r.errors.join('; '), r.errors);
    return r.manifest;
  }

  async list(t: Tenant): Promise<LabModuleView[]> {
    return (await this.rows.find({ where: { tenantId: t.id }, order: { name: 'ASC' } })).map(view);
  }

  async get(t: Tenant, name: string): Promise<LabModuleView> {
    const r = await this.rows.findOne({ where: { tenantId: t.id, name } });
    if (!r) throw new ApiError(404, 'NOT_FOUND', `lab module '${name}' not found`);
    return view(r);
  }

  async create(t: Tenant, body: unknown): Promise<LabModuleView> {
    const m = this.validate(body);
    if (await this.rows.exist({ where: { tenantId: t.id, name: m.name } })) {
      throw new ApiError(409, 'LAB_MODULE_EXISTS', `lab module '${m.name}' exists; PUT /v1/lab-modules/${m.name} replaces it`);
    }
    if ((await this.rows.count({ where: { tenantId: t.id } })) >= MAX_LAB_MODULES) {
      throw new ApiError(429, 'LAB_MODULE_QUOTA_EXCEEDED', `a tenant may register at most ${MAX_LAB_MODULES} lab modules`);
    }
    const now = new Date(this.clock.now());
    const row = this.rows.create({ tenantId: t.id, name: m.name, version: m.version, manifest: m as unknown as object, createdAt: now, updatedAt: now });
    try {
      await this.rows.insert(row);
    } catch {
      // a concurrent create of the same name lost the race on the unique index
      throw new ApiError(409, 'LAB_MODULE_EXISTS', `lab module '${m.name}' exists`);
    }
    this.changed(t.id);
    return view(row);
  }

  async replace(t: Tenant, name: string, body: unknown): Promise<LabModuleView> {
    const m = this.validate(body);
    if (m.name !== name) throw new ApiError(400, 'INVALID_MANIFEST', `name: the manifest is '${m.name}' but the URL names '${name}'`);
    const r = await this.rows.findOne({ where: { tenantId: t.id, name } });
    if (!r) throw new ApiError(404, 'NOT_FOUND', `lab module '${name}' not found`);
    r.manifest = m as unknown as object;
    r.version = m.version;
    r.updatedAt = new Date(this.clock.now());
    await this.rows.save(r);
    this.changed(t.id);
    return view(r);
  }

  async remove(t: Tenant, name: string): Promise<void> {
    const r = await this.rows.delete({ tenantId: t.id, name });
    if (!r.affected) throw new ApiError(404, 'NOT_FOUND', `lab module '${name}' not found`);
    this.changed(t.id);
  }

  private changed(tenantId: string): void {
    this.cache.delete(tenantId);
    this.versions.set(tenantId, (this.versions.get(tenantId) ?? 0) + 1);
  }

  /**
   * Gives a session's machine its tenant's current lab modules (a journaled
   * op, sent only when the set changed since the session last got it). Call
   * before anything that may load a module: exec, terminal input, modprobe.
   */
  async syncInto(t: Tenant, sessionId: string): Promise<void> {
    const version = `${this.nonce}:${this.versions.get(t.id) ?? 0}`;
    if (this.synced.get(sessionId) === version) return;
    const manifests = await this.manifests(t);
    const known = this.synced.get(sessionId);
    // a session never given any lab module needs no op while the tenant has none
    if (known !== undefined || manifests.length > 0) await this.sessions.apply(t, sessionId, { type: 'lab-sync', manifests });
    if (this.synced.size > 100_000) this.synced.clear();
    this.synced.set(sessionId, version);
  }

  /** The tenant's manifests, sorted by name (what its machines may load). */
  async manifests(t: Tenant): Promise<LabManifest[]> {
    const hit = this.cache.get(t.id);
    if (hit) return hit;
    const list = (await this.rows.find({ where: { tenantId: t.id }, order: { name: 'ASC' } })).map((r) => r.manifest as unknown as LabManifest);
    this.cache.set(t.id, list);
    return list;
  }
}
