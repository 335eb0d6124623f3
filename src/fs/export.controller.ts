import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentTenant } from '../auth/decorators';
import { ApiError } from '../common/errors';
import type { Tenant } from '../database/entities';
import { SessionsService } from '../sessions/sessions.service';
import { exportTar } from './export';

const ALLOWED = /^\/(proc|sys)(\/[A-Za-z0-9._:+@-]+)*$/;

@ApiTags('procfs & sysfs')
@ApiBearerAuth('tenant')
@Controller('v1/sessions')
export class ExportController {
  constructor(private readonly sessions: SessionsService) {}

  @Get(':id/export')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiQuery({ name: 'paths', required: false, example: '/proc,/sys', description: 'comma-separated trees under /proc or /sys (default /proc,/sys)' })
  @ApiOperation({ summary: 'A tar of /proc and /sys trees as rendered now, for offline tools and graders' })
  @ApiProduces('application/x-tar')
  @ApiOkResponse({ description: 'tar archive' })
  async export(@CurrentTenant() t: Tenant, @Param('id') id: string, @Query('paths') paths: string | undefined, @Res() res: Response): Promise<void> {
    const roots = (paths ?? '/proc,/sys')
      .split(',')
      .map((p) => p.trim().replace(/\/+$/, ''))
      .filter(Boolean);
    if (roots.length === 0 || roots.length > 8) throw new ApiError(400, 'INVALID_PATH', 'paths must name 1 to 8 trees');
    for (const r of roots) {
      if (!ALLOWED.test(r) || r.split('/').some((seg) => seg === '..' || seg === '.')) {
        throw new ApiError(400, 'INVALID_PATH', `'${r}' is not a tree under /proc or /sys`);
      }
    }
    const m = await this.sessions.machine(t, id);
    for (const r of roots) await m.list(r); // ENOENT/ENOTDIR answer before the archive starts
    const { pack, done } = await exportTar(m, roots);
    res.status(200).type('application/x-tar').setHeader('content-disposition', `attachment; filename="${id}.tar"`);
    pack.pipe(res);
    await done.catch(() => res.destroy());
  }
}
