import { Column, CreateDateColumn, Entity, OneToMany, PrimaryGeneratedColumn } from 'typeorm';
import type { ApiKey } from './api-key.entity';

export interface TenantLimits {
  /** concurrent live sessions */
  maxSessions: number;
  /** ceiling on a session's TTL, seconds */
  maxTtlSeconds: number;
  /** requests per minute across the tenant's keys */
  requestsPerMinute: number;
}

@Entity('tenants')
export class Tenant {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text', unique: true }) name!: string;
  @Column({ type: 'jsonb' }) limits!: TenantLimits;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @OneToMany('ApiKey', 'tenant') keys?: ApiKey[];
}
