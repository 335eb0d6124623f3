import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { promisify } from 'node:util';
import { deflate, inflate } from 'node:zlib';
import { DataSource, type EntityManager, LessThanOrEqual } from 'typeorm';
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
    // (bytea travels as base64 text: PGlite converts binary parameters and results byte by byte, ten times slower)
    const rows = (await this.db.query(`SELECT key, encode(data, 'base64') AS data FROM checkpoint_blobs WHERE session_id = $1`, [
      sessionId,
    ])) as {
      key: string;
      data: string;
    }[];
    const map = new Map<string, Uint8Array>();
    await Promise.all(rows.map(async (r) => map.set(r.key, new Uint8Array(await inflateAsync(Buffer.from(r.data, 'base64'))))));
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
    const enc = await this.encode(cp, have);
    const head = Buffer.from(cp.head).toString('base64');
    const written = await this.db.transaction(async (m) => {
      const live = (await m.query(`SELECT state FROM sessions WHERE id = $1 FOR UPDATE`, [sessionId])) as { state: string }[];
      if (!live.length || live[0].state === 'deleted') return false;
      await this.insertBlobs(m, sessionId, enc);
      await m.query(`DELETE FROM checkpoint_blobs WHERE session_id = $1 AND NOT (key = ANY($2::text[]))`, [sessionId, cp.blobKeys]);
      await m.query(`UPDATE sessions SET checkpoint = decode($2, 'base64'), checkpoint_seq = $3 WHERE id = $1`, [sessionId, head, seq]);
      await m.delete(JournalRow, { sessionId, seq: LessThanOrEqual(seq) });
      return true;
    });
    return written ? { keys: new Set(cp.blobKeys) } : undefined;
  }

  /**
   * The first checkpoint of a new session (a clone), in the transaction that
   * inserts its row: `insertRow(headBase64)` inserts the row with that head.
   */
  async create(
    sessionId: string,
    cp: MachineCheckpoint,
    insertRow: (m: EntityManager, headBase64: string) => Promise<void>,
  ): Promise<StoredCheckpoint> {
    const enc = await this.encode(cp, new Set());
    await this.db.transaction(async (m) => {
      await insertRow(m, Buffer.from(cp.head).toString('base64'));
      await this.insertBlobs(m, sessionId, enc);
    });
    return { keys: new Set(cp.blobKeys) };
  }

  /** Deflates the blobs of `cp` the store does not have (in slices, on the thread pool), as base64. */
  private async encode(cp: MachineCheckpoint, have: Set<string>): Promise<{ keys: string[]; data: string[] }> {
    const fresh = cp.blobKeys.filter((k) => !have.has(k));
    const keys: string[] = [];
    const data: string[] = [];
    for (let i = 0; i < fresh.length; i += ENCODE_SLICE) {
      const slice = fresh.slice(i, i + ENCODE_SLICE);
      const z = await Promise.all(slice.map((k) => deflateAsync(cp.blob(k), { level: 1 })));
      slice.forEach((key, j) => {
        keys.push(key);
        data.push(z[j].toString('base64'));
      });
      await yieldToLoop();
    }
    return { keys, data };
  }

  private async insertBlobs(m: EntityManager, sessionId: string, enc: { keys: string[]; data: string[] }): Promise<void> {
    for (let i = 0; i < enc.keys.length; i += INSERT_BATCH) {
      await m.query(
        `INSERT INTO checkpoint_blobs (session_id, key, data)
           SELECT $1, k, decode(d, 'base64') FROM unnest($2::text[], $3::text[]) AS u(k, d)
         ON CONFLICT DO NOTHING`,
        [sessionId, enc.keys.slice(i, i + INSERT_BATCH), enc.data.slice(i, i + INSERT_BATCH)],
      );
    }
  }

  // ------------------------------------------------------------ snapshot images

  /** Stores a user snapshot's machine image (deflated) in its row. */
  async saveImage(m: EntityManager, snapshotId: string, bytes: Uint8Array): Promise<void> {
    const z = await deflateAsync(bytes, { level: 1 });
    await m.query(`UPDATE snapshots SET data = decode($2, 'base64') WHERE id = $1`, [snapshotId, z.toString('base64')]);
  }

  /** A snapshot of the tenant with its machine image, or undefined. */
  async loadImage(snapshotId: string, tenantId: string): Promise<{ driver: string; sessionId: string; bytes: Uint8Array } | undefined> {
    const rows = (await this.db.query(
      `SELECT driver, session_id, encode(data, 'base64') AS data FROM snapshots WHERE id = $1 AND tenant_id = $2`,
      [snapshotId, tenantId],
    )) as { driver: string; session_id: string; data: string }[];
    if (!rows.length) return undefined;
    const raw = Buffer.from(rows[0].data, 'base64');
    // images are deflated (zlib header 0x78); older rows hold the bare JSON image
    const bytes = raw[0] === 0x78 ? await inflateAsync(raw) : raw;
    return { driver: rows[0].driver, sessionId: rows[0].session_id, bytes: new Uint8Array(bytes) };
  }

  /** Drops a session's blobs (its checkpoint is gone). */
  async drop(sessionId: string): Promise<void> {
    await this.db.getRepository(CheckpointBlobRow).delete({ sessionId });
  }
}
