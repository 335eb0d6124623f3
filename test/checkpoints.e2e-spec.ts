import { DataSource } from 'typeorm';
import { FakeClock } from '../src/common/clock';
import { auth, startServer, type TestServer } from './helpers';

/**
 * Checkpoints of traced machines: the trace ring travels as blobs in
 * checkpoint_blobs, written once each; a restart restores the ring exactly.
 */
describe('checkpoints with a trace ring (e2e)', () => {
  const env = { KERNELAB_CHECKPOINT_EVERY: '4', KERNELAB_CHECKPOINT_MIN_INTERVAL_MS: '0' };
  let s: TestServer;
  afterAll(async () => {
    await s?.close().catch(() => undefined);
    await s?.db.drop();
  });

  const q = async <T>(sql: string, params: unknown[]): Promise<T[]> => (await s.app.get(DataSource).query(sql, params)) as T[];
  /** blob keys the session's checkpoint head refers to, and those stored, once the checkpoint at `seq` is in */
  const stored = async (id: string, seq: number): Promise<{ refs: string[]; keys: string[] }> => {
    for (let i = 0; i < 100; i++) {
      const [row] = await q<{ checkpoint: Buffer | null; checkpoint_seq: string }>('SELECT checkpoint, checkpoint_seq FROM sessions WHERE id = $1', [id]);
      if (row.checkpoint && Number(row.checkpoint_seq) >= seq) {
        const refs = [...Buffer.from(row.checkpoint).toString('utf8').matchAll(/\{"\$blob":"(\w+)"\}/g)].map((m) => m[1]).sort();
        const keys = (await q<{ key: string }>('SELECT key FROM checkpoint_blobs WHERE session_id = $1', [id])).map((r) => r.key).sort();
        return { refs, keys };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no checkpoint at seq ${seq}`);
  };

  it('stores each ring page once, drops pages that left the ring, and restores the ring after a restart', async () => {
    s = await startServer({ env });
    const key = s.tenantKey;
    const id = (await s.http.post('/v1/sessions').set(...auth(key)).send({ clock: 'manual', seed: 'ck' }).expect(201)).body.id as string;
    const put = (p: string, body: string) => s.http.put(`/v1/sessions/${id}/sys/kernel/tracing/${p}`).set(...auth(key)).set('content-type', 'text/plain').send(body).expect(204);
    const exec = (command: string) => s.http.post(`/v1/sessions/${id}/exec`).set(...auth(key)).send({ command }).expect(200);
    await put('buffer_size_kb', '64');
    await put('current_tracer', 'function');
    await exec('for i in 1 2 3 4 5 6; do cat /proc/meminfo > /dev/null; done');
    await exec('cat /proc/version > /dev/null'); // op 4: checkpoint
    const first = await stored(id, 4);
    expect(first.refs.length).toBeGreaterThan(5);
    expect(first.keys).toEqual(first.refs);
    // four more ops overwrite the 64 KiB ring: the pages that left it leave the store too
    for (let i = 0; i < 4; i++) await exec('for i in 1 2 3 4 5 6; do cat /proc/meminfo > /dev/null; done');
    const second = await stored(id, 8);
    expect(second.keys).toEqual(second.refs);
    expect(second.refs.filter((k) => first.refs.includes(k)).length).toBeLessThan(first.refs.length);
    await exec('cat /proc/loadavg > /dev/null'); // a journal tail after the checkpoint
    const before = (await s.http.get(`/v1/sessions/${id}/sys/kernel/tracing/trace`).set(...auth(key)).expect(200)).text;
    expect(before).toContain('vfs_read <-ksys_read');

    await s.close();
    s = await startServer({ env, db: s.db });
    const after = (await s.http.get(`/v1/sessions/${id}/sys/kernel/tracing/trace`).set(...auth(s.tenantKey)).expect(200)).text;
    expect(after).toBe(before);

    await s.http.delete(`/v1/sessions/${id}`).set(...auth(s.tenantKey)).expect(204);
    expect(await q('SELECT key FROM checkpoint_blobs WHERE session_id = $1', [id])).toEqual([]);
    await s.close();
  }, 120_000);

  it('snapshots of a traced machine are stored deflated; a clone of one starts from a blob checkpoint and survives a restart', async () => {
    s = await startServer({ env, db: s.db });
    const key = s.tenantKey;
    const id = (await s.http.post('/v1/sessions').set(...auth(key)).send({ clock: 'manual', seed: 'snap' }).expect(201)).body.id as string;
    const put = (sid: string, p: string, body: string) =>
      s.http.put(`/v1/sessions/${sid}/sys/kernel/tracing/${p}`).set(...auth(key)).set('content-type', 'text/plain').send(body).expect(204);
    await put(id, 'buffer_size_kb', '256');
    await put(id, 'current_tracer', 'function');
    await s.http.post(`/v1/sessions/${id}/exec`).set(...auth(key)).send({ command: 'for i in 1 2 3 4 5 6 7 8; do cat /proc/meminfo > /dev/null; done' }).expect(200);
    const trace = (sid: string) => s.http.get(`/v1/sessions/${sid}/sys/kernel/tracing/trace`).set(...auth(key)).expect(200).then((r) => r.text);
    const before = await trace(id);
    const snap = (await s.http.post(`/v1/sessions/${id}/snapshots`).set(...auth(key)).send({ name: 'traced' }).expect(201)).body;
    const [row] = await q<{ stored: number; size_bytes: number }>('SELECT length(data) AS stored, size_bytes FROM snapshots WHERE id = $1', [snap.snapshotId]);
    expect(Number(row.stored)).toBeLessThan(Number(row.size_bytes) / 3);
    const clone = (await s.http.post('/v1/sessions').set(...auth(key)).send({ fromSnapshot: snap.snapshotId }).expect(201)).body.id as string;
    expect(await trace(clone)).toBe(before);
    expect((await q('SELECT key FROM checkpoint_blobs WHERE session_id = $1', [clone])).length).toBeGreaterThan(5);
    // restore the source from it after more work
    await s.http.post(`/v1/sessions/${id}/exec`).set(...auth(key)).send({ command: 'cat /proc/version' }).expect(200);
    await s.http.post(`/v1/sessions/${id}/restore`).set(...auth(key)).send({ snapshotId: snap.snapshotId }).expect(200);
    expect(await trace(id)).toBe(before);
    await s.close();
    s = await startServer({ env, db: s.db });
    expect(await trace(clone)).toBe(before);
    expect(await trace(id)).toBe(before);
    await s.close();
  }, 120_000);

  it('checkpoints a busy session at most once per KERNELAB_CHECKPOINT_MIN_INTERVAL_MS, unless its journal grows ten times over', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 27, 9, 0, 0));
    s = await startServer({ clock, env: { KERNELAB_CHECKPOINT_EVERY: '2', KERNELAB_CHECKPOINT_MIN_INTERVAL_MS: '60000' }, db: s.db });
    const key = s.tenantKey;
    const id = (await s.http.post('/v1/sessions').set(...auth(key)).send({ clock: 'manual', seed: 'busy' }).expect(201)).body.id as string;
    const op = (n: number) => s.http.put(`/v1/sessions/${id}/proc/sys/vm/swappiness`).set(...auth(key)).set('content-type', 'text/plain').send(`${n}\n`).expect(204);
    const seqNow = async (): Promise<number> => {
      // let a background checkpoint write commit
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 100));
      const [row] = await q<{ checkpoint_seq: string }>('SELECT checkpoint_seq FROM sessions WHERE id = $1', [id]);
      return Number(row.checkpoint_seq);
    };
    for (let i = 1; i <= 2; i++) await op(i);
    expect(await seqNow()).toBe(0); // due by count, but the session came up just now
    clock.advance(61_000);
    await op(3);
    expect(await seqNow()).toBe(3);
    for (let i = 4; i <= 6; i++) await op(i);
    expect(await seqNow()).toBe(3); // due by count, but too soon
    clock.advance(61_000);
    await op(7);
    expect(await seqNow()).toBe(7);
    for (let i = 8; i <= 26; i++) await op(i);
    expect(await seqNow()).toBe(7);
    await op(27); // 20 entries since the last: ten times KERNELAB_CHECKPOINT_EVERY
    expect(await seqNow()).toBe(27);
  }, 120_000);
});
