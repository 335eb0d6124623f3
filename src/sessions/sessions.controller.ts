import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentTenant } from '../auth/decorators';
import type { Tenant } from '../database/entities';
import {
  AdvanceClockDto,
  ClockView,
  CreateSessionDto,
  CreateSnapshotDto,
  ListSessionsQuery,
  RestoreDto,
  SessionPage,
  SessionView,
  SnapshotView,
  UpdateSessionDto,
} from './sessions.dto';
import { SessionsService } from './sessions.service';

@ApiTags('sessions')
@ApiBearerAuth('tenant')
@Controller('v1/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a session (boots a machine), or clone one from a snapshot' })
  @ApiCreatedResponse({ type: SessionView })
  create(@CurrentTenant() t: Tenant, @Body() dto: CreateSessionDto): Promise<SessionView> {
    return this.sessions.create(t, dto);
  }

  @Get()
  @ApiOperation({ summary: "List the tenant's sessions (paged; deleted ones only with state=deleted)" })
  @ApiOkResponse({ type: SessionPage })
  list(@CurrentTenant() t: Tenant, @Query() q: ListSessionsQuery): Promise<SessionPage> {
    return this.sessions.list(t, q);
  }

  @Get(':id')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: 'Get a session' })
  @ApiOkResponse({ type: SessionView })
  get(@CurrentTenant() t: Tenant, @Param('id') id: string): Promise<SessionView> {
    return this.sessions.get(t, id);
  }

  @Patch(':id')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: 'Extend a session: its TTL counts again from now' })
  @ApiOkResponse({ type: SessionView })
  update(@CurrentTenant() t: Tenant, @Param('id') id: string, @Body() dto: UpdateSessionDto): Promise<SessionView> {
    return this.sessions.extend(t, id, dto.ttlSeconds);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: 'Delete a session: its machine is destroyed, its record kept as deleted' })
  @ApiNoContentResponse()
  remove(@CurrentTenant() t: Tenant, @Param('id') id: string): Promise<void> {
    return this.sessions.remove(t, id);
  }

  @Post(':id/snapshots')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: 'Snapshot the machine' })
  @ApiCreatedResponse({ type: SnapshotView })
  snapshot(@CurrentTenant() t: Tenant, @Param('id') id: string, @Body() dto: CreateSnapshotDto): Promise<SnapshotView> {
    return this.sessions.snapshot(t, id, dto.name);
  }

  @Get(':id/snapshots')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: "List the session's snapshots" })
  @ApiOkResponse({ type: SnapshotView, isArray: true })
  snapshots(@CurrentTenant() t: Tenant, @Param('id') id: string): Promise<SnapshotView[]> {
    return this.sessions.listSnapshots(t, id);
  }

  @Post(':id/restore')
  @HttpCode(200)
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: 'Restore the machine from one of your snapshots' })
  @ApiOkResponse({ type: SessionView })
  restore(@CurrentTenant() t: Tenant, @Param('id') id: string, @Body() dto: RestoreDto): Promise<SessionView> {
    return this.sessions.restore(t, id, dto.snapshotId);
  }

  @Post(':id/clock/advance')
  @HttpCode(200)
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: 'Run a manual-clock machine for ns nanoseconds of virtual time' })
  @ApiOkResponse({ type: ClockView })
  async advance(@CurrentTenant() t: Tenant, @Param('id') id: string, @Body() dto: AdvanceClockDto): Promise<ClockView> {
    await this.sessions.apply(t, id, { type: 'advance', ns: dto.ns });
    const info = await (await this.sessions.machine(t, id)).info();
    return { clock: info.clock, uptimeNs: info.uptimeNs };
  }
}
