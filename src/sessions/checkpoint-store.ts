import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { promisify } from 'node:util';
import { deflate, inflate } from 'node:zlib';
import { DataSource, LessThanOrEqual } from 'typeorm';
import { CheckpointBlobRow, JournalRow } from '../database/entities';
import type { CheckpointBlobs, MachineCheckpoint } from '../kernel/machine';

const deflateAsync = promisify(deflate);
const inflateAsync = promisify(inflate);

/** blobs encoded (serialised and compressed on the thread pool) before the event loop gets a turn */
const ENCODE_SLICE = 16;
/** blobs per INSERT statement */
const INSERT_BATCH = 64;

/** What a session's stored checkpoint consists of. */
export interface StoredCheckpoint {
  /** blob keys in the store */
  keys: Set<string>;
}

/**
 * Checkpoints of session machines in the database: the head in
 * `sessions.checkpoint`, its blobs (full trace ring pages, finished
 * recordings; see Machine.checkpoint) in `checkpoint_blobs`, deflated. A blob
 * key stands for the same bytes for as long as the machine holds it, so a
 * checkpoint writes only the blobs the store does not have: its cost follows
 * what changed since the last one, not the size of the trace buffers. The
 * blobs are encoded in slices, off the event loop's critical path, and the
 * head, the new blobs, the removal of blobs no longer referenced and of the
 * journal entries the checkpoint covers commit together.
 */
@Injectable()
export class CheckpointStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Keys of the blobs stored for a session. */
  async keys(sessionId: string): Promise<Set<string>> {
    const rows = await this.db.getRepository(CheckpointBlobRow).find({ where: { sessionId }, select: { key: true } });
    return new Set(rows.map((r) => r.key));
  }

  /** Every stored blob of a session, inflated, for restoring its checkpoint. */
  async load(sessionId: string): Promise<{ blobs: CheckpointBlobs; stored: StoredCheckpoint }> {
    const rows = await this.db
      .getRepository(CheckpointBlobRow)
      .createQueryBuilder('b')
      .addSelect('b.data')
      .where('b.session_id = :sessionId', { sessionId })
      .getMany();
    const map = new Map<string, Uint8Array>();
    await Promise.all(rows.map(async (r) => map.set(r.key, new Uint8Array(await inflateAsync(r.data)))));
    return { blobs: (key) => map.get(key), stored: { keys: new Set(map.keys()) } };
  }

  /**
   * Stores `cp` as the session's checkpoint at journal `seq` (unless the
   * session was deleted meanwhile). Returns what is stored now, or undefined
   * when nothing was written.
   */
  async write(
    sessionId: string,
    cp: MachineCheckpoint,
    seq: number,
    stored: StoredCheckpoint | undefined,
  ): Promise<StoredCheckpoint | undefined> {
    const have = stored?.keys ?? (await this.keys(sessionId));
    const fresh = cp.blobKeys.filter((k) => !have.has(k));
    const rows: { sessionId: string; key: string; data: Buffer }[] = [];
    for (let i = 0; i < fresh.length; i += ENCODE_SLICE) {
      const slice = fresh.slice(i, i + ENCODE_SLICE);
      const data = await Promise.all(slice.map((k) => deflateAsync(cp.blob(k), { level: 1 })));
      slice.forEach((key, j) => rows.push({ sessionId, key, data: data[j] }));
      await yieldToLoop();
    }
    const head = Buffer.from(cp.head);
    const written = await this.db.transaction(async (m) => {
      const live = (await m.query(`SELECT state FROM sessions WHERE id = $1 FOR UPDATE`, [sessionId])) as { state: string }[];
      if (!live.length || live[0].state === 'deleted') return false;
      for (let i = 0; i < rows.length; i += INSERT_BATCH) {
        await m
          .createQueryBuilder()
          .insert()
          .into(CheckpointBlobRow)
          .values(rows.slice(i, i + INSERT_BATCH))
          .orIgnore()
          .execute();
      }
      await m.query(`DELETE FROM checkpoint_blobs WHERE session_id = $1 AND NOT (key = ANY($2::text[]))`, [sessionId, cp.blobKeys]);
      await m.query(`UPDATE sessions SET checkpoint = $2, checkpoint_seq = $3 WHERE id = $1`, [sessionId, head, seq]);
      await m.delete(JournalRow, { sessionId, seq: LessThanOrEqual(seq) });
      return true;
    });
    return written ? { keys: new Set(cp.blobKeys) } : undefined;
  }

  /** Drops a session's blobs (its checkpoint is gone). */
  async drop(sessionId: string): Promise<void> {
    await this.db.getRepository(CheckpointBlobRow).delete({ sessionId });
  }
}
