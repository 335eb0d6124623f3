import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  ValidateNested,
  Matches,
  Max,
  MaxLength,
  Min,
  Validate,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';

@ValidatorConstraint({ name: 'labels' })
export class LabelsConstraint implements ValidatorConstraintInterface {
  validate(v: unknown): boolean {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
    const entries = Object.entries(v as Record<string, unknown>);
    return (
      entries.length <= 32 &&
      entries.every(([k, val]) => /^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,62}$/.test(k) && typeof val === 'string' && val.length <= 256)
    );
  }
  defaultMessage(): string {
    return 'labels must be an object of at most 32 string values (keys: letters, digits, _ . - /; values ≤ 256 chars)';
  }
}

export class KernelConfigDto {
  @ApiPropertyOptional({ example: true, description: 'KASAN: use-after-free and out-of-bounds accesses are reported (BUG: KASAN: …) instead of silently corrupting memory' })
  @IsOptional() @IsBoolean() kasan?: boolean;

  @ApiPropertyOptional({ example: true, description: "lockdep: lock-order inversions are reported (possible circular locking dependency detected)" })
  @IsOptional() @IsBoolean() lockdep?: boolean;

  @ApiPropertyOptional({ example: 30, description: 'kernel.hung_task_timeout_secs at boot (0 disables the hung task detector; default 120)' })
  @IsOptional() @IsInt() @Min(0) @Max(86400) hungTaskTimeoutSecs?: number;

  @ApiPropertyOptional({ example: false, description: "allow bpftrace's unsafe actions (system, signal, override) in this session; refused otherwise" })
  @IsOptional() @IsBoolean() allowUnsafe?: boolean;
}

export class CreateSessionDto {
  @ApiPropertyOptional({ enum: ['sim', 'qemu'], default: 'sim', description: "Machine driver; 'qemu' answers 501 until available" })
  @IsOptional() @IsString() @MaxLength(16) driver?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 64, default: 2, example: 2 })
  @IsOptional() @IsInt() @Min(1) @Max(64) cpus?: number;

  @ApiPropertyOptional({ minimum: 64, maximum: 65536, default: 2048, example: 2048 })
  @IsOptional() @IsInt() @Min(64) @Max(65536) memoryMb?: number;

  @ApiPropertyOptional({ example: 'lab3-student42', description: 'PRNG seed: same seed + same inputs => identical outputs' })
  @IsOptional() @IsString() @MaxLength(128) seed?: string;

  @ApiPropertyOptional({ example: 3600, description: "Lifetime in seconds (capped by the tenant's ceiling)" })
  @IsOptional() @IsInt() @Min(1) ttlSeconds?: number;

  @ApiPropertyOptional({ example: { course: 'os101', student: '42' }, description: 'String labels to filter by' })
  @IsOptional() @IsObject() @Validate(LabelsConstraint) labels?: Record<string, string>;

  @ApiPropertyOptional({ enum: ['realtime', 'manual'], default: 'realtime', description: "'manual': virtual time moves only through /clock/advance (deterministic runs)" })
  @IsOptional() @IsIn(['realtime', 'manual']) clock?: 'realtime' | 'manual';

  @ApiPropertyOptional({ example: 'kernelab', description: 'Machine hostname' })
  @IsOptional() @IsString() @Matches(/^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$/) hostname?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Clone a machine from one of your snapshots' })
  @IsOptional() @IsUUID() fromSnapshot?: string;

  @ApiPropertyOptional({ type: KernelConfigDto, description: 'debug-kernel options of the machine' })
  @IsOptional() @ValidateNested() @Type(() => KernelConfigDto) kernelConfig?: KernelConfigDto;
}

export class UpdateSessionDto {
  @ApiProperty({ example: 7200, description: 'New lifetime counted from now, seconds' })
  @IsInt() @Min(1) ttlSeconds!: number;
}

export class ListSessionsQuery {
  @ApiPropertyOptional({ enum: ['provisioning', 'running', 'crashed', 'stopped', 'deleted'] })
  @IsOptional() @IsIn(['provisioning', 'running', 'crashed', 'stopped', 'deleted']) state?: string;

  @ApiPropertyOptional({ example: 'course=os101', description: 'key=value; repeat to require several' })
  @IsOptional()
  @Transform(({ value }) => (Array.isArray(value) ? value : [value]))
  @IsString({ each: true })
  @Matches(/^[^=]+=.*$/, { each: true, message: 'label must be key=value' })
  label?: string[];

  @ApiPropertyOptional({ default: 20, minimum: 1, maximum: 100 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100) limit?: number;

  @ApiPropertyOptional({ default: 0, minimum: 0 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) offset?: number;
}

export class SessionView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['sim', 'qemu'], example: 'sim' }) driver!: string;
  @ApiProperty({ enum: ['provisioning', 'running', 'crashed', 'stopped', 'deleted'], example: 'running' }) state!: string;
  @ApiProperty({ example: '6.1.0-56-amd64' }) kernelRelease!: string;
  @ApiProperty({ example: 2 }) cpus!: number;
  @ApiProperty({ example: 2048 }) memoryMb!: number;
  @ApiProperty({ enum: ['realtime', 'manual'], example: 'realtime' }) clock!: string;
  @ApiProperty({ example: 'lab3-student42' }) seed!: string;
  @ApiProperty({ example: 'kernelab' }) hostname!: string;
  @ApiProperty({ example: { course: 'os101' } }) labels!: Record<string, string>;
  @ApiProperty({ example: '2026-11-27T10:00:00.000Z' }) createdAt!: string;
  @ApiProperty({ example: '2026-11-27T11:00:00.000Z' }) expiresAt!: string;
  @ApiProperty({ example: '2026-11-27T10:05:00.000Z' }) lastActiveAt!: string;
  @ApiPropertyOptional({ example: 'expired', nullable: true }) stateReason!: string | null;
  @ApiPropertyOptional({ type: KernelConfigDto, nullable: true }) kernelConfig!: KernelConfigDto | null;
}

export class SessionPage {
  @ApiProperty({ type: SessionView, isArray: true }) items!: SessionView[];
  @ApiProperty({ example: 1 }) total!: number;
  @ApiProperty({ example: 20 }) limit!: number;
  @ApiProperty({ example: 0 }) offset!: number;
}

export class CreateSnapshotDto {
  @ApiPropertyOptional({ example: 'before-lab-3' })
  @IsOptional() @IsString() @MaxLength(128) name?: string;
}

export class SnapshotView {
  @ApiProperty({ format: 'uuid' }) snapshotId!: string;
  @ApiProperty({ format: 'uuid' }) sessionId!: string;
  @ApiPropertyOptional({ example: 'before-lab-3', nullable: true }) name!: string | null;
  @ApiProperty({ example: 'sim' }) driver!: string;
  @ApiProperty({ example: 48211 }) sizeBytes!: number;
  @ApiProperty({ example: 12000000000, description: 'Machine uptime when taken, ns' }) uptimeNs!: number;
  @ApiProperty({ example: '2026-11-27T10:00:00.000Z' }) createdAt!: string;
}

export class RestoreDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID() snapshotId!: string;
}

export class AdvanceClockDto {
  @ApiProperty({ example: 1000000000, description: 'Nanoseconds of virtual time to run (manual-clock sessions)' })
  @IsInt() @Min(0) @Max(24 * 3600 * 1e9) ns!: number;
}

export class ClockView {
  @ApiProperty({ example: 'manual' }) clock!: string;
  @ApiProperty({ example: 5000000000 }) uptimeNs!: number;
}
