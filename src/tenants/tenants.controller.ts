import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { AuthService } from '../auth/auth.service';
import { AdminOnly } from '../auth/decorators';
import { ApiError, notFound } from '../common/errors';
import { ApiKey, Tenant } from '../database/entities';
import { ApiKeyView, CreateApiKeyDto, CreateTenantDto, IssuedApiKeyView, TenantView } from './tenants.dto';

const uuid = new ParseUUIDPipe({ exceptionFactory: () => notFound('tenant') });

@ApiTags('admin')
@ApiBearerAuth('admin')
@AdminOnly()
@Controller('v1/tenants')
export class TenantsController {
  constructor(
    private readonly auth: AuthService,
    @InjectRepository(Tenant) private readonly tenants: Repository<Tenant>,
    @InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a tenant' })
  @ApiCreatedResponse({ type: TenantView })
  async create(@Body() dto: CreateTenantDto): Promise<TenantView> {
    if (await this.tenants.exist({ where: { name: dto.name } })) throw new ApiError(409, 'TENANT_EXISTS', `tenant '${dto.name}' exists`);
    const limits = { ...this.auth.defaultLimits(), ...stripUndefined(dto.limits ?? {}) };
    const t = await this.tenants.save(this.tenants.create({ name: dto.name, limits }));
    return tenantView(t);
  }

  @Get()
  @ApiOperation({ summary: 'List tenants' })
  @ApiOkResponse({ type: TenantView, isArray: true })
  async list(): Promise<TenantView[]> {
    return (await this.tenants.find({ order: { createdAt: 'ASC' } })).map(tenantView);
  }

  @Post(':id/api-keys')
  @ApiOperation({ summary: 'Issue an API key for a tenant (the key is shown once)' })
  @ApiCreatedResponse({ type: IssuedApiKeyView })
  async issue(@Param('id', uuid) id: string, @Body() dto: CreateApiKeyDto): Promise<IssuedApiKeyView> {
    if (!(await this.tenants.exist({ where: { id } }))) throw notFound('tenant');
    const { key, row } = await this.auth.issueKey(id, dto.label);
    return { ...keyView(row), key };
  }

  @Get(':id/api-keys')
  @ApiOperation({ summary: "List a tenant's live API keys (prefixes only)" })
  @ApiOkResponse({ type: ApiKeyView, isArray: true })
  async keysOf(@Param('id', uuid) id: string): Promise<ApiKeyView[]> {
    if (!(await this.tenants.exist({ where: { id } }))) throw notFound('tenant');
    return (await this.keys.find({ where: { tenantId: id, revokedAt: IsNull() }, order: { createdAt: 'ASC' } })).map(keyView);
  }

  @Delete(':id/api-keys/:keyId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key (effective immediately)' })
  @ApiNoContentResponse()
  async revoke(@Param('id', uuid) id: string, @Param('keyId', new ParseUUIDPipe({ exceptionFactory: () => notFound('api key') })) keyId: string): Promise<void> {
    const r = await this.keys.update({ id: keyId, tenantId: id, revokedAt: IsNull() }, { revokedAt: new Date() });
    if (!r.affected) throw notFound('api key');
    this.auth.forgetKeys();
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function tenantView(t: Tenant): TenantView {
  return { id: t.id, name: t.name, limits: t.limits, createdAt: t.createdAt.toISOString() };
}

function keyView(k: ApiKey): ApiKeyView {
  return { id: k.id, tenantId: k.tenantId, prefix: k.prefix, label: k.label, createdAt: k.createdAt.toISOString() };
}
