import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tenants, API keys, sessions with their journal and lifecycle events, snapshots. */
export class Initial1764201600000 implements MigrationInterface {
  name = 'Initial1764201600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "tenants" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "name" text NOT NULL,
      "limits" jsonb NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "PK_tenants" PRIMARY KEY ("id"),
      CONSTRAINT "UQ_tenants_name" UNIQUE ("name"))`);
    await q.query(`CREATE TABLE "api_keys" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "tenant_id" uuid NOT NULL,
      "key_hash" text NOT NULL,
      "prefix" text NOT NULL,
      "label" text,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "revoked_at" timestamptz,
      CONSTRAINT "PK_api_keys" PRIMARY KEY ("id"),
      CONSTRAINT "FK_api_keys_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE)`);
    await q.query(`CREATE UNIQUE INDEX "IDX_api_keys_hash" ON "api_keys" ("key_hash")`);
    await q.query(`CREATE TABLE "sessions" (
      "id" uuid NOT NULL,
      "tenant_id" uuid NOT NULL,
      "driver" text NOT NULL,
      "state" text NOT NULL,
      "kernel_release" text NOT NULL,
      "cpus" integer NOT NULL,
      "memory_mb" integer NOT NULL,
      "seed" text NOT NULL,
      "clock" text NOT NULL,
      "hostname" text NOT NULL,
      "labels" jsonb NOT NULL DEFAULT '{}'::jsonb,
      "created_at" timestamptz NOT NULL,
      "expires_at" timestamptz NOT NULL,
      "last_active_at" timestamptz NOT NULL,
      "deleted_at" timestamptz,
      "state_reason" text,
      "checkpoint" bytea,
      "checkpoint_seq" bigint NOT NULL DEFAULT 0,
      "event_seq" bigint NOT NULL DEFAULT 0,
      CONSTRAINT "PK_sessions" PRIMARY KEY ("id"),
      CONSTRAINT "FK_sessions_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE)`);
    await q.query(`CREATE INDEX "IDX_sessions_tenant_state" ON "sessions" ("tenant_id", "state")`);
    await q.query(`CREATE TABLE "session_journal" (
      "session_id" uuid NOT NULL,
      "seq" bigint NOT NULL,
      "vtime_ns" bigint NOT NULL,
      "op" jsonb NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "PK_session_journal" PRIMARY KEY ("session_id", "seq"),
      CONSTRAINT "FK_session_journal_session" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE)`);
    await q.query(`CREATE TABLE "session_events" (
      "session_id" uuid NOT NULL,
      "seq" bigint NOT NULL,
      "type" text NOT NULL,
      "data" jsonb NOT NULL,
      "created_at" timestamptz NOT NULL,
      CONSTRAINT "PK_session_events" PRIMARY KEY ("session_id", "seq"),
      CONSTRAINT "FK_session_events_session" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE)`);
    await q.query(`CREATE TABLE "snapshots" (
      "id" uuid NOT NULL,
      "tenant_id" uuid NOT NULL,
      "session_id" uuid NOT NULL,
      "name" text,
      "driver" text NOT NULL,
      "data" bytea NOT NULL,
      "size_bytes" integer NOT NULL,
      "uptime_ns" bigint NOT NULL,
      "created_at" timestamptz NOT NULL,
      CONSTRAINT "PK_snapshots" PRIMARY KEY ("id"),
      CONSTRAINT "FK_snapshots_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE)`);
    await q.query(`CREATE INDEX "IDX_snapshots_session" ON "snapshots" ("session_id")`);
    await q.query(`CREATE TABLE "admin_tokens" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "token_hash" text NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "PK_admin_tokens" PRIMARY KEY ("id"),
      CONSTRAINT "UQ_admin_tokens_hash" UNIQUE ("token_hash"))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "admin_tokens"`);
    await q.query(`DROP TABLE "snapshots"`);
    await q.query(`DROP TABLE "session_events"`);
    await q.query(`DROP TABLE "session_journal"`);
    await q.query(`DROP TABLE "sessions"`);
    await q.query(`DROP TABLE "api_keys"`);
    await q.query(`DROP TABLE "tenants"`);
  }
}
