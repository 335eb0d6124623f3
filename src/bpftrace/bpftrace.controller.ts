import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { CurrentTenant } from '../auth/decorators';
import { Clock } from '../common/clock';
import type { Tenant } from '../database/entities';
import { ApiError } from '../common/errors';
import type { BpftraceResult } from '../kernel/bpftrace/driver';
import { SessionsService } from '../sessions/sessions.service';

const MAX_PROGRAM = 64 * 1024;
const MAX_DURATION_MS = 600_000;

export class BpftraceDto {
  @ApiProperty({ example: 'kprobe:vfs_read { @[comm] = count(); }', description: 'a bpftrace 0.17 program' })
  @IsString() @MaxLength(MAX_PROGRAM) program!: string;

  @ApiProperty({ example: 2000, description: "how long it runs (ms of the machine's time) unless it calls exit(); then it is stopped as by Ctrl-C (END runs, maps print)" })
  @IsInt() @Min(1) @Max(MAX_DURATION_MS) durationMs!: number;

  @ApiPropertyOptional({ enum: ['text', 'json'], default: 'text', description: 'json = bpftrace -f json (NDJSON)' })
  @IsOptional() @IsIn(['text', 'json']) format?: 'text' | 'json';

  @ApiPropertyOptional({ example: ['5'], description: 'positional parameters $1, $2, …' })
  @IsOptional() @IsArray() @ArrayMaxSize(16) @IsString({ each: true }) @MaxLength(256, { each: true }) args?: string[];
}

export class BpftraceRunDto {
  @ApiProperty({ example: 'tracepoint:syscalls:sys_enter_openat { printf("%s %s\\n", comm, str(args->filename)); }' })
  @IsString() @MaxLength(MAX_PROGRAM) program!: string;

  @ApiPropertyOptional({ example: 60000, description: 'stop by itself after this long (ms of machine time); default: until stopped' })
  @IsOptional() @IsInt() @Min(1) @Max(24 * 3600 * 1000) maxDurationMs?: number;

  @ApiPropertyOptional({ enum: ['text', 'json'], default: 'text' })
  @IsOptional() @IsIn(['text', 'json']) format?: 'text' | 'json';

  @ApiPropertyOptional({ example: [] })
  @IsOptional() @IsArray() @ArrayMaxSize(16) @IsString({ each: true }) @MaxLength(256, { each: true }) args?: string[];
}

const RUN_ID = /^bt-\d{1,9}$/;

@ApiTags('bpftrace')
@ApiBearerAuth('tenant')
@Controller('v1/sessions')
export class BpftraceController {
  constructor(
    private readonly sessions: SessionsService,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  @Post(':id/bpftrace')
  @HttpCode(200)
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({
    summary: 'Run a bpftrace program for durationMs against the machine and answer with its output',
    description:
      "Output and errors exactly as bpftrace 0.17 prints them (`stdin:1:1-8: ERROR: …` with the source line and `~~~`; exit code 1 and nothing runs). On a manual-clock machine the run moves the clock by durationMs; on a realtime one it observes the machine for durationMs of wall time while other requests go on.",
  })
  @ApiOkResponse({ description: '{stdout, stderr, exitCode}' })
  async run(@CurrentTenant() t: Tenant, @Param('id') id: string, @Body() dto: BpftraceDto): Promise<BpftraceResult> {
    const m = await this.sessions.machine(t, id);
    if ((await m.info()).clock === 'manual') {
      return (await this.sessions.apply(t, id, { type: 'bpftrace', program: dto.program, durationMs: dto.durationMs, format: dto.format, args: dto.args })).value as BpftraceResult;
    }
    // realtime: start, let the machine run (other requests may drive it meanwhile), stop as by Ctrl-C
    const { runId } = (await this.sessions.apply(t, id, { type: 'bpftrace-start', program: dto.program, format: dto.format, args: dto.args, maxDurationMs: dto.durationMs })).value as { runId: string };
    await new Promise<void>((resolve) => this.clock.schedule(dto.durationMs, resolve));
    return (await this.sessions.apply(t, id, { type: 'bpftrace-stop', runId })).value as BpftraceResult;
  }

  @Post(':id/bpftrace/runs')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: 'Start a long bpftrace run; follow its output on the `bpftrace` WebSocket stream (subscribe with runId)' })
  @ApiOkResponse({ description: '{runId}' })
  async start(@CurrentTenant() t: Tenant, @Param('id') id: string, @Body() dto: BpftraceRunDto): Promise<{ runId: string }> {
    return (await this.sessions.apply(t, id, { type: 'bpftrace-start', program: dto.program, format: dto.format, args: dto.args, maxDurationMs: dto.maxDurationMs })).value as { runId: string };
  }

  @Get(':id/bpftrace/runs')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: 'The bpftrace runs of the current boot with their status' })
  async list(@CurrentTenant() t: Tenant, @Param('id') id: string): Promise<unknown> {
    return (await this.sessions.machine(t, id)).query({ type: 'bpftrace-runs' });
  }

  @Get(':id/bpftrace/runs/:runId')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiParam({ name: 'runId', example: 'bt-1' })
  @ApiOperation({ summary: "A run's status, its maps as JSON (and text), and its result once it has exited" })
  async get(@CurrentTenant() t: Tenant, @Param('id') id: string, @Param('runId') runId: string): Promise<unknown> {
    if (!RUN_ID.test(runId)) throw new ApiError(400, 'VALIDATION_FAILED', 'runId must look like bt-N');
    return (await this.sessions.machine(t, id)).query({ type: 'bpftrace-run', runId });
  }

  @Delete(':id/bpftrace/runs/:runId')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiParam({ name: 'runId', example: 'bt-1' })
  @ApiOperation({ summary: 'Stop a run as by Ctrl-C (END runs, maps print) and answer with its result' })
  @ApiOkResponse({ description: '{stdout, stderr, exitCode}' })
  async stop(@CurrentTenant() t: Tenant, @Param('id') id: string, @Param('runId') runId: string): Promise<BpftraceResult> {
    if (!RUN_ID.test(runId)) throw new ApiError(400, 'VALIDATION_FAILED', 'runId must look like bt-N');
    return (await this.sessions.apply(t, id, { type: 'bpftrace-stop', runId })).value as BpftraceResult;
  }
}
