import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { KernelDebugConfig } from '../../kernel/types';

export type SessionState = 'provisioning' | 'running' | 'crashed' | 'stopped' | 'deleted';
export const LIVE_STATES: SessionState[] = ['provisioning', 'running', 'crashed', 'stopped'];

const bigintNumber = { to: (v: number | null) => v, from: (v: string | number | null) => (v === null ? null : Number(v)) };

@Entity('sessions')
@Index(['tenantId', 'state'])
export class SessionRow {
  @PrimaryColumn('uuid') id!: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId!: string;
  @Column({ type: 'text' }) driver!: string;
  @Column({ type: 'text' }) state!: SessionState;
  @Column({ name: 'kernel_release', type: 'text' }) kernelRelease!: string;
  @Column({ type: 'int' }) cpus!: number;
  @Column({ name: 'memory_mb', type: 'int' }) memoryMb!: number;
  @Column({ type: 'text' }) seed!: string;
  @Column({ type: 'text' }) clock!: string;
  @Column({ type: 'text' }) hostname!: string;
  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" }) labels!: Record<string, string>;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  @Column({ name: 'last_active_at', type: 'timestamptz' }) lastActiveAt!: Date;
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true }) deletedAt!: Date | null;
  @Column({ name: 'state_reason', type: 'text', nullable: true }) stateReason!: string | null;
  /** debug-kernel options (KASAN, lockdep, hung task timeout) */
  @Column({ name: 'kernel_config', type: 'jsonb', nullable: true }) kernelConfig!: KernelDebugConfig | null;
  /** latest checkpoint of the machine (driver snapshot bytes) */
  @Column({ type: 'bytea', nullable: true, select: false }) checkpoint!: Buffer | null;
  /** journal seq included in the checkpoint */
  @Column({ name: 'checkpoint_seq', type: 'bigint', default: 0, transformer: bigintNumber }) checkpointSeq!: number;
  /** seq of the latest lifecycle event on the session stream */
  @Column({ name: 'event_seq', type: 'bigint', default: 0, transformer: bigintNumber }) eventSeq!: number;
}

@Entity('session_journal')
export class JournalRow {
  @PrimaryColumn({ name: 'session_id', type: 'uuid' }) sessionId!: string;
  @PrimaryColumn({ type: 'bigint', transformer: bigintNumber }) seq!: number;
  @Column({ name: 'vtime_ns', type: 'bigint', transformer: bigintNumber }) vtimeNs!: number;
  @Column({ type: 'jsonb' }) op!: unknown;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
}

/** A large immutable part of a session's checkpoint (see SimMachine.checkpoint), referenced by key from its head. */
@Entity('checkpoint_blobs')
export class CheckpointBlobRow {
  @PrimaryColumn({ name: 'session_id', type: 'uuid' }) sessionId!: string;
  @PrimaryColumn({ type: 'text' }) key!: string;
  @Column({ type: 'bytea', select: false }) data!: Buffer;
}

@Entity('session_events')
export class SessionEventRow {
  @PrimaryColumn({ name: 'session_id', type: 'uuid' }) sessionId!: string;
  @PrimaryColumn({ type: 'bigint', transformer: bigintNumber }) seq!: number;
  @Column({ type: 'text' }) type!: string;
  @Column({ type: 'jsonb' }) data!: Record<string, unknown>;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

@Entity('snapshots')
export class SnapshotRow {
  @PrimaryColumn('uuid') id!: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId!: string;
  @Index() @Column({ name: 'session_id', type: 'uuid' }) sessionId!: string;
  @Column({ type: 'text', nullable: true }) name!: string | null;
  @Column({ type: 'text' }) driver!: string;
  @Column({ type: 'bytea', select: false }) data!: Buffer;
  @Column({ name: 'size_bytes', type: 'int' }) sizeBytes!: number;
  @Column({ name: 'uptime_ns', type: 'bigint', transformer: bigintNumber }) uptimeNs!: number;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
