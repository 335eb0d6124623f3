import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiProperty, ApiPropertyOptional, ApiQuery, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import type { Response } from 'express';
import { CurrentTenant } from '../auth/decorators';
import { ApiError } from '../common/errors';
import type { Tenant } from '../database/entities';
import type { CmdOutcome, ModprobeOutcome, ModuleDetail, ModuleView } from '../kernel/machine';
import { LabModulesService } from '../lab-modules/lab-modules.service';
import { SessionsService } from '../sessions/sessions.service';

export class ModprobeDto {
  @ApiProperty({ example: 'btrfs', description: 'a module name or alias (fs-ext4, a device alias) of the kernel, or one of the tenant\'s lab modules' })
  @IsString() @Matches(/^[A-Za-z0-9_:.-]{1,64}$/, { message: 'name must be a module name or alias (letters, digits, _ : . -)' }) name!: string;

  @ApiPropertyOptional({ example: 'max_loop=16', description: 'module parameters as on the modprobe command line' })
  @IsOptional() @IsString() @MaxLength(4096) params?: string;
}

export class RmmodQuery {
  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'rmmod -f: unload even when in use (taints the kernel R)' })
  @IsOptional() @IsIn(['true', 'false', '1', '0']) force?: string;
}

/** kmod's message -> the HTTP answer of a failed modprobe/rmmod */
function kmodError(r: CmdOutcome, what: string): ApiError {
  const msg = (r.stderr || r.stdout).trim() || `${what} failed`;
  if (/not found|No such file|does not exist|is not currently loaded|not currently loaded/i.test(msg)) return new ApiError(404, 'MODULE_NOT_FOUND', msg);
  if (/in use|is builtin|File exists|Resource busy|Resource temporarily unavailable/i.test(msg)) return new ApiError(409, 'MODULE_IN_USE', msg);
  if (/Operation not permitted|Permission denied|blacklist/i.test(msg)) return new ApiError(403, 'MODULE_REFUSED', msg);
  return new ApiError(422, 'MODULE_LOAD_FAILED', msg);
}

@ApiTags('modules')
@ApiBearerAuth('tenant')
@Controller('v1/sessions')
export class ModulesController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly labs: LabModulesService,
  ) {}

  @Get(':id/modules')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: 'Loaded kernel modules (JSON), or lsmod output with Accept: text/plain' })
  @ApiProduces('application/json', 'text/plain')
  @ApiOkResponse({ description: '[{name, size, refcount, holders, state, address, taint, lab}] or lsmod text' })
  async list(@CurrentTenant() t: Tenant, @Param('id') id: string, @Headers('accept') accept: string | undefined, @Res() res: Response): Promise<void> {
    const m = await this.sessions.machine(t, id);
    if (accept && /text\/plain/.test(accept) && !/application\/json/.test(accept)) {
      res.type('text/plain').send((await m.query({ type: 'modules', lsmod: true })) as string);
      return;
    }
    res.json((await m.query({ type: 'modules' })) as ModuleView[]);
  }

  @Post(':id/modules')
  @HttpCode(200)
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({
    summary: 'modprobe: load a module with its dependencies and soft dependencies',
    description:
      'Answers with every module the call loaded, in load order. Failures answer with kmod\'s own message: 404 MODULE_NOT_FOUND, 409 MODULE_IN_USE, 403 MODULE_REFUSED (blacklisted), 422 MODULE_LOAD_FAILED (e.g. Unknown symbol; see dmesg). Journaled.',
  })
  @ApiOkResponse({ description: '{loaded: [names], modules: [{name, size, ...}], stdout, stderr}' })
  async modprobe(@CurrentTenant() t: Tenant, @Param('id') id: string, @Body() dto: ModprobeDto): Promise<{ loaded: string[]; modules: ModuleView[]; stdout: string; stderr: string }> {
    await this.sessions.machine(t, id);
    await this.labs.syncInto(t, id);
    const r = (await this.sessions.apply(t, id, { type: 'modprobe', name: dto.name, params: dto.params })).value as ModprobeOutcome;
    if (r.exitCode !== 0) throw kmodError(r, 'modprobe');
    const all = (await (await this.sessions.machine(t, id)).query({ type: 'modules' })) as ModuleView[];
    return { loaded: r.loaded, modules: r.loaded.map((n) => all.find((m) => m.name === n)).filter((m): m is ModuleView => !!m), stdout: r.stdout, stderr: r.stderr };
  }

  @Delete(':id/modules/:name')
  @HttpCode(204)
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiParam({ name: 'name', example: 'btrfs' })
  @ApiQuery({ name: 'force', required: false, enum: ['true', 'false'] })
  @ApiOperation({ summary: "rmmod: unload a module (409 with kmod's message when it is in use; force=true forces and taints)" })
  async rmmod(@CurrentTenant() t: Tenant, @Param('id') id: string, @Param('name') name: string, @Query() q: RmmodQuery): Promise<void> {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw new ApiError(400, 'VALIDATION_FAILED', 'name must be a module name');
    const r = (await this.sessions.apply(t, id, { type: 'rmmod', name, force: q.force === 'true' || q.force === '1' })).value as CmdOutcome;
    if (r.exitCode !== 0) throw kmodError(r, 'rmmod');
  }

  @Get(':id/modules/:name')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiParam({ name: 'name', example: 'ext4' })
  @ApiOperation({ summary: 'One module: modinfo fields, status (loaded/builtin/available), refcount, holders, parameters' })
  @ApiOkResponse({ description: '{name, status, modinfo: [[key, value]], modinfoText, loaded?: {...}, parameters}' })
  async get(@CurrentTenant() t: Tenant, @Param('id') id: string, @Param('name') name: string): Promise<ModuleDetail> {
    await this.labs.syncInto(t, id);
    return (await (await this.sessions.machine(t, id)).query({ type: 'module', name })) as ModuleDetail;
  }
}
