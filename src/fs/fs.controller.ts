import { Body, Controller, Get, Headers, HttpCode, Param, Put, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentTenant } from '../auth/decorators';
import { ApiError } from '../common/errors';
import type { Tenant } from '../database/entities';
import type { Machine } from '../kernel/machine';
import { SessionsService } from '../sessions/sessions.service';
import { DirEntryView } from './fs.dto';
import { jsonView } from './json-views';

const MAX_PATH = 4095;

/** Joins the wildcard segments of a /proc or /sys route into a machine path, rejecting escapes. */
export function machinePath(root: '/proc' | '/sys', segments: string[] | string | undefined): string {
  const parts = segments === undefined ? [] : Array.isArray(segments) ? segments : segments.split('/');
  for (const p of parts) {
    if (p.includes('\0')) throw new ApiError(400, 'INVALID_PATH', 'path contains a NUL byte');
    if (p === '..' || p === '.') throw new ApiError(400, 'INVALID_PATH', "path segments '.' and '..' are not allowed");
    if (p.includes('/')) throw new ApiError(400, 'INVALID_PATH', 'encoded slashes are not allowed in a path');
  }
  const path = [root, ...parts.filter((p) => p !== '')].join('/');
  if (path.length > MAX_PATH) throw new ApiError(400, 'ENAMETOOLONG', 'File name too long');
  return path;
}

@ApiTags('procfs & sysfs')
@ApiBearerAuth('tenant')
@Controller('v1/sessions')
export class FsController {
  constructor(private readonly sessions: SessionsService) {}

  private async read(t: Tenant, id: string, path: string, accept: string | undefined, res: Response): Promise<void> {
    const m = await this.sessions.machine(t, id);
    let text: string;
    try {
      text = await m.read(path);
    } catch (e) {
      if ((e as { code?: string }).code === 'EISDIR') {
        if (wantsJson(accept) && (path === '/proc/sys' || path.startsWith('/proc/sys/'))) {
          res.status(200).json(await sysctlTree(m, path));
          return;
        }
        const entries = await m.list(path);
        res.status(200).json(entries.map((e) => ({ name: e.name, type: e.type, mode: modeString(e.type, e.mode), size: e.size })));
        return;
      }
      throw e;
    }
    if (wantsJson(accept)) {
      const json = jsonView(path, text);
      if (json === undefined) throw new ApiError(406, 'NOT_ACCEPTABLE', `${path} has no JSON form; ask for text/plain`);
      res.status(200).json(json);
      return;
    }
    res.status(200).type('text/plain; charset=utf-8').send(text);
  }

  @Get([':id/proc', ':id/proc/*path'])
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiParam({ name: 'path', description: 'path under /proc, e.g. meminfo or sys/vm/swappiness', required: false })
  @ApiOperation({
    summary: 'Read a /proc file (text/plain, exactly as the kernel prints it) or list a directory (JSON)',
    description: 'Send Accept: application/json on structured files (meminfo, stat, loadavg, uptime, vmstat, ...) to get typed JSON.',
  })
  @ApiProduces('text/plain', 'application/json')
  @ApiOkResponse({ description: 'file content, or a directory listing', type: DirEntryView, isArray: true })
  async getProc(@CurrentTenant() t: Tenant, @Param('id') id: string, @Param('path') p: string[] | undefined, @Headers('accept') accept: string | undefined, @Res() res: Response): Promise<void> {
    await this.read(t, id, machinePath('/proc', p), accept, res);
  }

  @Get([':id/sys', ':id/sys/*path'])
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiParam({ name: 'path', description: 'path under /sys, e.g. block/vda/queue/scheduler', required: false })
  @ApiOperation({ summary: 'Read a /sys attribute (text/plain) or list a directory (JSON)' })
  @ApiProduces('text/plain', 'application/json')
  @ApiOkResponse({ description: 'attribute content, or a directory listing', type: DirEntryView, isArray: true })
  async getSys(@CurrentTenant() t: Tenant, @Param('id') id: string, @Param('path') p: string[] | undefined, @Headers('accept') accept: string | undefined, @Res() res: Response): Promise<void> {
    await this.read(t, id, machinePath('/sys', p), accept, res);
  }

  @Put(':id/proc/*path')
  @HttpCode(204)
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiParam({ name: 'path', description: 'e.g. sys/vm/swappiness' })
  @ApiConsumes('text/plain')
  @ApiBody({ description: 'what `echo … >` would write, e.g. "10\\n"', schema: { type: 'string', example: '10\n' } })
  @ApiOperation({ summary: 'Write a /proc file with Linux semantics; errno mapped to HTTP (EINVAL 400, EACCES 403, ENOENT 404, ...)' })
  async putProc(@CurrentTenant() t: Tenant, @Param('id') id: string, @Param('path') p: string[], @Body() body: unknown): Promise<void> {
    await this.sessions.apply(t, id, { type: 'write', path: machinePath('/proc', p), data: bodyText(body) });
  }

  @Put(':id/sys/*path')
  @HttpCode(204)
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiParam({ name: 'path', description: 'e.g. block/vda/queue/scheduler' })
  @ApiConsumes('text/plain')
  @ApiBody({ description: 'what `echo … >` would write', schema: { type: 'string', example: 'mq-deadline\n' } })
  @ApiOperation({ summary: 'Write a /sys attribute with Linux semantics' })
  async putSys(@CurrentTenant() t: Tenant, @Param('id') id: string, @Param('path') p: string[], @Body() body: unknown): Promise<void> {
    await this.sessions.apply(t, id, { type: 'write', path: machinePath('/sys', p), data: bodyText(body) });
  }
}

function wantsJson(accept: string | undefined): boolean {
  return !!accept && /application\/json/.test(accept) && !/text\/plain/.test(accept);
}

/**
 * A sysctl directory as typed JSON, keyed like `sysctl -a` (vm.swappiness):
 * numbers, arrays for vectors, strings; unreadable knobs (write-only, errors) are left out.
 */
async function sysctlTree(m: Machine, dir: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await m.list(d)) {
      const p = `${d}/${e.name}`;
      if (e.type === 'dir') await walk(p);
      else if (e.type === 'file') {
        try {
          const v = jsonView(p, await m.read(p)) as { value: unknown } | undefined;
          if (v) out[p.slice('/proc/sys/'.length).replace(/\//g, '.')] = v.value;
        } catch {
          // unreadable knob: sysctl -a leaves it out too
        }
      }
    }
  };
  await walk(dir);
  return out;
}

function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the value as text/plain');
}

function modeString(type: string, mode: number): string {
  const t = type === 'dir' ? 'd' : type === 'link' ? 'l' : '-';
  const bits = 'rwxrwxrwx';
  let s = '';
  for (let i = 0; i < 9; i++) s += mode & (1 << (8 - i)) ? bits[i] : '-';
  return t + s;
}
