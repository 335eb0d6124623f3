import { Body, Controller, Get, HttpCode, Param, ParseIntPipe, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiProperty, ApiPropertyOptional, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import type { Response } from 'express';
import { CurrentTenant } from '../auth/decorators';
import { ApiError } from '../common/errors';
import type { Tenant } from '../database/entities';
import type { ExecOutcome } from '../kernel/userspace/runtime';
import { SessionsService } from '../sessions/sessions.service';

const NAME = /^[A-Za-z0-9_:.*?[\]!-]{1,128}$/;

export class TraceRecordDto {
  @ApiPropertyOptional({ enum: ['function', 'function_graph', 'nop'], default: 'nop', description: 'trace-cmd record -p' })
  @IsOptional() @IsIn(['function', 'function_graph', 'nop']) plugin?: string;

  @ApiPropertyOptional({ example: ['vfs_read'], description: 'functions to trace (-l, globs)' })
  @IsOptional() @IsArray() @ArrayMaxSize(64) @Matches(NAME, { each: true }) functions?: string[];

  @ApiPropertyOptional({ example: ['do_sys_openat2'], description: 'function_graph roots (-g)' })
  @IsOptional() @IsArray() @ArrayMaxSize(64) @Matches(NAME, { each: true }) graphFunctions?: string[];

  @ApiPropertyOptional({ example: ['sched:sched_switch', 'syscalls:sys_enter_openat'], description: 'events (-e): system:event, a system, or globs' })
  @IsOptional() @IsArray() @ArrayMaxSize(64) @Matches(NAME, { each: true }) events?: string[];

  @ApiPropertyOptional({ example: 'prev_pid != 0', description: "an event filter in the kernel's grammar, set on every listed event (-f)" })
  @IsOptional() @IsString() @MaxLength(1024) filter?: string;

  @ApiPropertyOptional({ example: 1, description: 'trace only this pid (-P)' })
  @IsOptional() @IsInt() @Min(0) pid?: number;

  @ApiPropertyOptional({ example: 'cat /etc/hostname', description: 'trace while this command runs (-F); or give durationMs' })
  @IsOptional() @IsString() @MaxLength(64 * 1024) command?: string;

  @ApiPropertyOptional({ example: 1000, description: "trace for this long (ms of the machine's time)" })
  @IsOptional() @IsInt() @Min(1) @Max(600_000) durationMs?: number;
}

export class PerfStatDto {
  @ApiProperty({ example: 'dd if=/dev/zero of=/dev/null bs=4k count=1000', description: 'the workload (run as bash -c)' })
  @IsString() @MaxLength(64 * 1024) command!: string;

  @ApiPropertyOptional({ example: ['task-clock', 'context-switches', 'cycles', 'instructions'], description: 'events (-e)' })
  @IsOptional() @IsArray() @ArrayMaxSize(32) @Matches(/^[a-z0-9_:/.,=-]{1,64}$/, { each: true }) events?: string[];

  @ApiPropertyOptional({ example: false, description: 'all CPUs (-a)' })
  @IsOptional() @IsBoolean() all?: boolean;
}

export class PerfRecordDto {
  @ApiProperty({ example: 'stress-ng --cpu 1 --timeout 1', description: 'the workload (run as bash -c)' })
  @IsString() @MaxLength(64 * 1024) command!: string;

  @ApiPropertyOptional({ example: 99, default: 99, description: 'sampling frequency, Hz (-F)' })
  @IsOptional() @IsInt() @Min(1) @Max(10_000) frequency?: number;

  @ApiPropertyOptional({ example: true, description: 'record call graphs (-g)' })
  @IsOptional() @IsBoolean() callGraph?: boolean;

  @ApiPropertyOptional({ example: false, description: 'all CPUs (-a)' })
  @IsOptional() @IsBoolean() all?: boolean;
}

/** POSIX single-quoting for a word of a bash command line. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** perf stat's counter lines -> {event: value} (counts as numbers; msec for clocks). */
export function parsePerfStat(text: string): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const line of text.split('\n')) {
    const m = /^\s+(<not supported>|<not counted>|[\d,.]+)\s+(?:msec\s+)?([A-Za-z][\w:/=.-]*)/.exec(line);
    if (!m) continue;
    out[m[2]] = m[1].startsWith('<') ? null : Number(m[1].replace(/,/g, ''));
  }
  return out;
}

@ApiTags('tracing')
@ApiBearerAuth('tenant')
@Controller('v1/sessions')
export class TracingController {
  constructor(private readonly sessions: SessionsService) {}

  @Post(':id/trace-cmd/record')
  @HttpCode(200)
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({
    summary: 'trace-cmd record: trace while a command runs (or for durationMs) and answer with `trace-cmd report`',
    description: 'The recording is kept by the machine (the newest 8) and downloadable from …/recordings/{recordingId}. For a live view subscribe to the `trace_pipe` or `events` WebSocket streams.',
  })
  @ApiOkResponse({ description: '{recordingId, report}' })
  async record(@CurrentTenant() t: Tenant, @Param('id') id: string, @Body() dto: TraceRecordDto): Promise<{ recordingId: number; report: string }> {
    if ((dto.command === undefined) === (dto.durationMs === undefined)) throw new ApiError(400, 'VALIDATION_FAILED', 'give either command or durationMs');
    const r = await this.sessions.apply(t, id, {
      type: 'trace-record',
      tracer: dto.plugin,
      functions: dto.functions,
      graphFunctions: dto.graphFunctions,
      events: dto.events,
      filter: dto.filter,
      pid: dto.pid,
      command: dto.command,
      durationMs: dto.durationMs,
    });
    return r.value as { recordingId: number; report: string };
  }

  @Get(':id/recordings')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: 'Trace recordings kept by the machine: {id, kind, created, command, tracer, count, truncated}' })
  async list(@CurrentTenant() t: Tenant, @Param('id') id: string): Promise<unknown> {
    return (await this.sessions.machine(t, id)).query({ type: 'recordings' });
  }

  @Get(':id/recordings/:recordingId')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiParam({ name: 'recordingId', example: 1 })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'text', 'raw'], description: 'json: metadata, records and report; text: the trace-cmd report; raw: the trace.dat file' })
  @ApiProduces('application/json', 'text/plain', 'application/octet-stream')
  @ApiOperation({ summary: 'One recording: its records as JSON, its trace-cmd report, or its trace.dat' })
  async get(
    @CurrentTenant() t: Tenant,
    @Param('id') id: string,
    @Param('recordingId', new ParseIntPipe({ errorHttpStatusCode: 400 })) recordingId: number,
    @Query('format') format: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    if (format !== undefined && !['json', 'text', 'raw'].includes(format)) throw new ApiError(400, 'VALIDATION_FAILED', 'format must be json, text or raw');
    const r = (await (await this.sessions.machine(t, id)).query({ type: 'recording', id: recordingId })) as { report: string; dat: string } & Record<string, unknown>;
    if (format === 'text') {
      res.type('text/plain').send(r.report);
      return;
    }
    if (format === 'raw') {
      res.type('application/octet-stream').setHeader('content-disposition', `attachment; filename="trace-${recordingId}.dat"`);
      res.send(Buffer.from(r.dat));
      return;
    }
    const { dat: _dat, ...rest } = r;
    res.json(rest);
  }

  @Post(':id/perf/stat')
  @HttpCode(200)
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: 'perf stat over a command: the text perf prints and its counters as JSON (a simulated PMU, deterministic)' })
  @ApiOkResponse({ description: '{text, counters: {event: value}, exitCode, output}' })
  async stat(@CurrentTenant() t: Tenant, @Param('id') id: string, @Body() dto: PerfStatDto): Promise<{ text: string; counters: Record<string, number | null>; exitCode: number; output: string }> {
    const ev = dto.events?.length ? ` -e ${shq(dto.events.join(','))}` : '';
    const cmd = `perf stat${ev}${dto.all ? ' -a' : ''} -- bash -c ${shq(dto.command)}`;
    const o = (await this.sessions.apply(t, id, { type: 'exec', command: cmd })).value as ExecOutcome;
    // perf stat writes its report to stderr; the workload's output is on stdout
    const i = o.stderr.indexOf('\n Performance counter stats');
    const text = i >= 0 ? o.stderr.slice(i + 1) : o.stderr;
    return { text, counters: parsePerfStat(text), exitCode: o.exitCode, output: o.stdout };
  }

  @Post(':id/perf/record')
  @HttpCode(200)
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: 'perf record -F N [-g] over a command, answered with `perf report --stdio`' })
  @ApiOkResponse({ description: '{report, exitCode}' })
  async perfRecord(@CurrentTenant() t: Tenant, @Param('id') id: string, @Body() dto: PerfRecordDto): Promise<{ report: string; exitCode: number; stderr: string }> {
    const file = '/tmp/.kernelab-perf.data';
    const cmd =
      `perf record -q -F ${dto.frequency ?? 99}${dto.callGraph ? ' -g' : ''}${dto.all ? ' -a' : ''} -o ${file} -- bash -c ${shq(dto.command)} > /dev/null` +
      ` && perf report --stdio -i ${file}; s=$?; rm -f ${file}; exit $s`;
    const o = (await this.sessions.apply(t, id, { type: 'exec', command: cmd })).value as ExecOutcome;
    return { report: o.stdout, exitCode: o.exitCode, stderr: o.stderr };
  }
}
