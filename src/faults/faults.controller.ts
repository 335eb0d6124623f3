import { Body, Controller, Get, HttpCode, Param, ParseIntPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { CurrentTenant } from '../auth/decorators';
import type { Tenant } from '../database/entities';
import type { MachineInfo } from '../kernel/machine';
import { SessionsService } from '../sessions/sessions.service';

export class SysrqDto {
  @ApiProperty({ example: 'm', description: 'a SysRq key: b (reboot) c (crash) e i (SIGTERM/SIGKILL all) f (OOM kill) h (help) l m s t u w …; keys masked off by kernel.sysrq print "This sysrq operation is disabled."' })
  @IsString() @Matches(/^[0-9a-z]$/, { message: 'key must be one SysRq key (0-9, a-z)' }) key!: string;
}

@ApiTags('faults')
@ApiBearerAuth('tenant')
@Controller('v1/sessions')
export class FaultsController {
  constructor(private readonly sessions: SessionsService) {}

  @Post(':id/sysrq')
  @HttpCode(200)
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({
    summary: 'Press a magic SysRq key (as on the console keyboard: honours the kernel.sysrq bitmask)',
    description: 'The output goes to the kernel log (GET …/dmesg). `c` crashes the machine (state `crashed`, a crash record); `b` reboots it. Writing to /proc/sysrq-trigger (PUT …/proc/sysrq-trigger) is the root path, which ignores the bitmask, as in Linux.',
  })
  @ApiOkResponse({ description: '{log, state, stateReason?, boot}: what the key printed to the kernel log, and the machine after it' })
  async sysrq(
    @CurrentTenant() t: Tenant,
    @Param('id') id: string,
    @Body() dto: SysrqDto,
  ): Promise<{ log: string } & Pick<MachineInfo, 'state' | 'stateReason' | 'boot'>> {
    const r = (await this.sessions.apply(t, id, { type: 'sysrq', key: dto.key })).value as { log: string };
    const info = await (await this.sessions.machine(t, id)).info();
    return { log: r.log, state: info.state, stateReason: info.stateReason, boot: info.boot };
  }

  @Post(':id/reboot')
  @HttpCode(200)
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: 'Boot the machine again: new boot log, modules unloaded, sysctls reset, uptime 0; crash records are kept' })
  @ApiOkResponse({ description: '{state, boot, uptimeNs}' })
  async reboot(@CurrentTenant() t: Tenant, @Param('id') id: string): Promise<Pick<MachineInfo, 'state' | 'boot' | 'uptimeNs'>> {
    await this.sessions.apply(t, id, { type: 'reboot' });
    const info = await (await this.sessions.machine(t, id)).info();
    return { state: info.state, boot: info.boot, uptimeNs: info.uptimeNs };
  }

  @Get(':id/crashes')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: 'kdump crash records of the machine (every boot), oldest first: {id, title, type, frame, module, taint, panic, timeNs, wallMs, boot}' })
  @ApiOkResponse({ description: 'crash summaries' })
  async crashes(@CurrentTenant() t: Tenant, @Param('id') id: string): Promise<unknown> {
    return (await this.sessions.machine(t, id)).query({ type: 'crashes' });
  }

  @Get(':id/crashes/:crashId')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiParam({ name: 'crashId', example: 1 })
  @ApiOperation({ summary: 'One whole crash record: the summary plus report (as dmesg showed it), dmesgTail and the task list' })
  @ApiOkResponse({ description: '{id, title, type, frame, module, report, taint, panic, dmesgTail, tasks, timeNs, wallMs, boot}' })
  async crash(@CurrentTenant() t: Tenant, @Param('id') id: string, @Param('crashId', new ParseIntPipe({ errorHttpStatusCode: 400 })) crashId: number): Promise<unknown> {
    return (await this.sessions.machine(t, id)).query({ type: 'crash', id: crashId });
  }
}
