import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Lab modules (tenants' own kernel modules as declarative manifests) and sessions' debug-kernel options. */
export class LabModules1795000000000 implements MigrationInterface {
  name = 'LabModules1795000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "lab_modules" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "tenant_id" uuid NOT NULL,
      "name" text NOT NULL,
      "version" text NOT NULL,
      "manifest" jsonb NOT NULL,
      "created_at" timestamptz NOT NULL,
      "updated_at" timestamptz NOT NULL,
      CONSTRAINT "PK_lab_modules" PRIMARY KEY ("id"),
      CONSTRAINT "FK_lab_modules_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE)`);
    await q.query(`CREATE UNIQUE INDEX "IDX_lab_modules_tenant_name" ON "lab_modules" ("tenant_id", "name")`);
    await q.query(`ALTER TABLE "sessions" ADD "kernel_config" jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "sessions" DROP COLUMN "kernel_config"`);
    await q.query(`DROP INDEX "IDX_lab_modules_tenant_name"`);
    await q.query(`DROP TABLE "lab_modules"`);
  }
}
