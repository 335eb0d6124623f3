import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A tenant's own kernel module: a declarative manifest, loadable in any of the tenant's sessions. */
@Entity('lab_modules')
@Index(['tenantId', 'name'], { unique: true })
export class LabModuleRow {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) version!: string;
  /** the validated manifest (normalised: every optional field filled in) */
  @Column({ type: 'jsonb' }) manifest!: object;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
