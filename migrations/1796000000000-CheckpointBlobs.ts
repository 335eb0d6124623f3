import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Checkpoint blobs: the large immutable parts of a session's checkpoint (full
 * trace ring pages, finished recordings), stored once and referenced by key
 * from the checkpoint head in `sessions.checkpoint`.
 */
export class CheckpointBlobs1796000000000 implements MigrationInterface {
  name = 'CheckpointBlobs1796000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "checkpoint_blobs" (
      "session_id" uuid NOT NULL,
      "key" text NOT NULL,
      "data" bytea NOT NULL,
      CONSTRAINT "PK_checkpoint_blobs" PRIMARY KEY ("session_id", "key"),
      CONSTRAINT "FK_checkpoint_blobs_session" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "checkpoint_blobs"`);
  }
}
