import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength, Validate, ValidatorConstraint, type ValidatorConstraintInterface } from 'class-validator';
import { MAX_EXEC_TIMEOUT_MS } from '../kernel/userspace/runtime';

/** most characters of a command line (bash's own limit is ARG_MAX-ish; this one keeps requests small) */
export const MAX_COMMAND = 128 * 1024;
export const MAX_STDIN = 1024 * 1024;

@ValidatorConstraint({ name: 'envMap' })
class EnvMap implements ValidatorConstraintInterface {
  validate(v: unknown): boolean {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
    const entries = Object.entries(v as Record<string, unknown>);
    return entries.length <= 256 && entries.every(([k, x]) => /^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(k) && typeof x === 'string' && x.length <= 4096);
  }
  defaultMessage(): string {
    return 'env must map variable names ([A-Za-z_][A-Za-z0-9_]*) to strings (at most 256 entries of 4096 characters)';
  }
}

export class ExecDto {
  @ApiProperty({ example: 'cat /proc/meminfo | grep Mem', description: 'a bash command line, run as `bash -c` by root in the machine' })
  @IsString() @MinLength(1) @MaxLength(MAX_COMMAND) command!: string;

  @ApiPropertyOptional({ example: 'hello\n', description: 'what the command reads on its standard input' })
  @IsOptional() @IsString() @MaxLength(MAX_STDIN) stdin?: string;

  @ApiPropertyOptional({
    example: 5000,
    default: 30000,
    description: `a command still running after this many ms (of the machine's time) is stopped as timeout(1) does: exit code 124. At most ${MAX_EXEC_TIMEOUT_MS}.`,
  })
  @IsOptional() @IsInt() @Min(1) @Max(MAX_EXEC_TIMEOUT_MS) timeoutMs?: number;

  @ApiPropertyOptional({ example: { LC_ALL: 'C' }, description: 'variables added to the default root environment' })
  @IsOptional() @IsObject() @Validate(EnvMap) env?: Record<string, string>;

  @ApiPropertyOptional({ example: '/root', default: '/root', description: 'working directory (absolute)' })
  @IsOptional() @IsString() @Matches(/^\/[^\0]{0,4095}$/, { message: 'cwd must be an absolute path' }) cwd?: string;
}

export class ExecResultView {
  @ApiProperty({ example: 'MemTotal:         505672 kB\n' }) stdout!: string;
  @ApiProperty({ example: '' }) stderr!: string;
  @ApiProperty({ example: 0, description: "bash's exit status: 127 command not found, 126 not executable, 124 timed out, 128+N killed by signal N" }) exitCode!: number;
  @ApiProperty({ example: 1042, description: 'pid of the `bash -c` process in the machine' }) pid!: number;
  @ApiProperty({ example: '2026-01-01T00:00:05.120Z', description: "start time on the machine's wall clock" }) startedAt!: string;
  @ApiProperty({ example: 183000, description: "how long it ran in the machine's virtual time (ns)" }) durationNs!: number;
  @ApiProperty({ example: false, description: 'output went over the per-call cap and was cut (the end of stderr says so)' }) truncated!: boolean;
  @ApiProperty({ example: false, description: 'stopped at timeoutMs (exitCode 124)' }) timedOut!: boolean;
}
