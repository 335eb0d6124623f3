import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentTenant } from '../auth/decorators';
import type { Tenant } from '../database/entities';
import type { ExecOutcome } from '../kernel/userspace/runtime';
import { LabModulesService } from '../lab-modules/lab-modules.service';
import { SessionsService } from '../sessions/sessions.service';
import { ExecDto, ExecResultView } from './exec.dto';

@ApiTags('exec')
@ApiBearerAuth('tenant')
@Controller('v1/sessions')
export class ExecController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly labs: LabModulesService,
  ) {}

  @Post(':id/exec')
  @HttpCode(200)
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({
    summary: 'Runs a command in the machine (bash -c) and answers with its output and exit code',
    description:
      'Every command is a process of the machine (fork, exec, exit through its scheduler) and its file operations are system calls of the model. ' +
      'Output past the per-call cap is cut (truncated: true); a command still running at timeoutMs exits 124. The command is journaled: its effects survive a restart. ' +
      'For an interactive shell use the `terminal` WebSocket stream.',
  })
  @ApiOkResponse({ type: ExecResultView })
  async exec(@CurrentTenant() t: Tenant, @Param('id') id: string, @Body() dto: ExecDto): Promise<ExecResultView> {
    const info = await (await this.sessions.machine(t, id)).info();
    await this.labs.syncInto(t, id);
    const r = await this.sessions.apply(t, id, { type: 'exec', command: dto.command, stdin: dto.stdin, env: dto.env, cwd: dto.cwd, timeoutMs: dto.timeoutMs });
    const o = r.value as ExecOutcome;
    return {
      stdout: o.stdout,
      stderr: o.stderr,
      exitCode: o.exitCode,
      pid: o.pid,
      startedAt: new Date(info.bootEpochMs + Math.floor(o.startedAtNs / 1e6)).toISOString(),
      durationNs: o.durationNs,
      truncated: o.truncated,
      timedOut: o.timedOut,
    };
  }
}
