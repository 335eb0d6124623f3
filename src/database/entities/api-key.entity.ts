import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { Tenant } from './tenant.entity';

/** A tenant API key; only its SHA-256 hash is stored. */
@Entity('api_keys')
export class ApiKey {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId!: string;
  @ManyToOne('Tenant', 'keys', { onDelete: 'CASCADE' }) @JoinColumn({ name: 'tenant_id' }) tenant?: Tenant;
  @Index({ unique: true }) @Column({ name: 'key_hash', type: 'text' }) keyHash!: string;
  /** first characters of the key, to tell keys apart in listings */
  @Column({ type: 'text' }) prefix!: string;
  @Column({ type: 'text', nullable: true }) label!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt!: Date | null;
}
