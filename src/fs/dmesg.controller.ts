import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNumber, IsOptional, IsString, Matches, Min } from 'class-validator';
import type { Response } from 'express';
import { CurrentTenant } from '../auth/decorators';
import { ApiError } from '../common/errors';
import type { Tenant } from '../database/entities';
import { defaultDmesgOptions, renderDmesg, toDmesgJsonRecord } from '../kernel/printk/dmesg';
import { formatKmsgRecord } from '../kernel/printk/kmsg';
import { FACILITY_NAMES, LEVEL_NAMES } from '../kernel/printk/printk';
import { SessionsService } from '../sessions/sessions.service';

const LEVELS = LEVEL_NAMES as readonly string[];
const FACILITIES = (FACILITY_NAMES as readonly string[]).slice(0, 12);

export class DmesgQuery {
  @ApiPropertyOptional({ example: 'err,warn', description: `comma-separated levels (${LEVEL_NAMES.join(', ')})` })
  @IsOptional() @IsString() @Matches(/^[a-z]+(,[a-z]+)*$/) level?: string;

  @ApiPropertyOptional({ example: 'kern', description: `comma-separated facilities (${FACILITIES.join(', ')})` })
  @IsOptional() @IsString() @Matches(/^[a-z]+(,[a-z]+)*$/) facility?: string;

  @ApiPropertyOptional({ example: 4.5, description: 'only records at or after this many seconds since boot' })
  @IsOptional() @Type(() => Number) @IsNumber() @Min(0) since?: number;

  @ApiPropertyOptional({ example: 120, description: 'only records with a sequence number ≥ fromSeq' })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) fromSeq?: number;

  @ApiPropertyOptional({
    enum: ['text', 'raw', 'decode', 'json', 'kmsg'],
    default: 'text',
    description: 'text = `dmesg`, raw = `dmesg -r`, decode = `dmesg -x`, kmsg = /dev/kmsg records, json = typed records',
  })
  @IsOptional() @IsIn(['text', 'raw', 'decode', 'json', 'kmsg']) format?: string;
}

const names = (list: string, known: readonly string[], what: string): number[] =>
  list.split(',').map((n) => {
    const i = known.indexOf(n);
    if (i < 0) throw new ApiError(400, 'VALIDATION_FAILED', `unknown ${what} '${n}' (known: ${known.join(', ')})`);
    return i;
  });

@ApiTags('dmesg')
@ApiBearerAuth('tenant')
@Controller('v1/sessions')
export class DmesgController {
  constructor(private readonly sessions: SessionsService) {}

  @Get(':id/dmesg')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({
    summary: 'The kernel log, as util-linux dmesg prints it (or typed JSON records)',
    description: 'For a live follow (`dmesg -w`) subscribe to the `dmesg` WebSocket stream, resumable by seq.',
  })
  @ApiProduces('text/plain', 'application/json')
  @ApiOkResponse({ description: 'dmesg output, or an array of {seq, timeNs, time, level, levelName, facility, facilityName, text, dict?}' })
  async dmesg(@CurrentTenant() t: Tenant, @Param('id') id: string, @Query() q: DmesgQuery, @Res() res: Response): Promise<void> {
    const levels = q.level ? names(q.level, LEVELS, 'level') : undefined;
    const facilities = q.facility ? names(q.facility, FACILITIES, 'facility') : undefined;
    const m = await this.sessions.machine(t, id);
    const info = await m.info();
    const records = (await m.kmsg(q.fromSeq ?? 0)).filter(
      (r) =>
        (!levels || levels.includes(r.level)) && (!facilities || facilities.includes(r.facility)) && (q.since === undefined || r.tsNs >= q.since * 1e9),
    );
    const format = q.format ?? 'text';
    if (format === 'json') {
      res.status(200).json(records.map(toDmesgJsonRecord));
      return;
    }
    let text: string;
    if (format === 'kmsg') text = records.map(formatKmsgRecord).join('');
    else {
      const opts = { ...defaultDmesgOptions(), raw: format === 'raw', decode: format === 'decode' };
      text = renderDmesg(records, opts, { bootEpochMs: info.bootEpochMs, nowMs: info.bootEpochMs + info.uptimeNs / 1e6 });
    }
    res.status(200).type('text/plain; charset=utf-8').send(text);
  }
}
