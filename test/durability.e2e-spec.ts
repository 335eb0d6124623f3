import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import request from 'supertest';
import { ADMIN_TOKEN, auth, makeTestDb, type TestDb } from './helpers';

/** Runs the real server in a child process so it can be killed with SIGKILL. */
async function launch(db: TestDb, port: number): Promise<{ proc: ChildProcess; url: string; output: () => string }> {
  const root = path.join(__dirname, '..');
  let out = '';
  const proc = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, ...db.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', KERNELAB_ADMIN_TOKEN: ADMIN_TOKEN, KERNELAB_CHECKPOINT_EVERY: '4', KERNELAB_CHECKPOINT_MIN_INTERVAL_MS: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited: ${out}`);
    try {
      const r = await request(url).get('/readyz');
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { proc, url, output: () => out };
}

function killHard(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
}

describe('durability across a hard kill (e2e)', () => {
  let db: TestDb;
  const port = 39000 + (process.pid % 1000);
  beforeAll(async () => {
    db = await makeTestDb();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('restores every session, its writes, its clock and its snapshots after kill -9', async () => {
    const a = await launch(db, port);
    const http = request(a.url);
    const t = await http.post('/v1/tenants').set(...auth(ADMIN_TOKEN)).send({ name: 'durable' }).expect(201);
    const key = (await http.post(`/v1/tenants/${t.body.id}/api-keys`).set(...auth(ADMIN_TOKEN)).send({}).expect(201)).body.key as string;
    const manual = (await http.post('/v1/sessions').set(...auth(key)).send({ clock: 'manual', seed: 'd1', labels: { k: 'v' } }).expect(201)).body;
    const realtime = (await http.post('/v1/sessions').set(...auth(key)).send({ seed: 'd2' }).expect(201)).body;
    const gone = (await http.post('/v1/sessions').set(...auth(key)).send({}).expect(201)).body;
    await http.delete(`/v1/sessions/${gone.id}`).set(...auth(key)).expect(204);
    // 7 ops on the manual machine: crosses a checkpoint (every 4) and leaves a journal tail
    const values = ['11', '12', '13', '14', '15', '16'];
    for (const v of values) await http.put(`/v1/sessions/${manual.id}/proc/sys/vm/swappiness`).set(...auth(key)).set('content-type', 'text/plain').send(`${v}\n`).expect(204);
    await http.post(`/v1/sessions/${manual.id}/clock/advance`).set(...auth(key)).send({ ns: 7_000_000_000 }).expect(200);
    await http.put(`/v1/sessions/${realtime.id}/proc/sys/vm/swappiness`).set(...auth(key)).set('content-type', 'text/plain').send('33').expect(204);
    const snap = (await http.post(`/v1/sessions/${manual.id}/snapshots`).set(...auth(key)).send({ name: 's' }).expect(201)).body;
    const before = {
      swappiness: (await http.get(`/v1/sessions/${manual.id}/proc/sys/vm/swappiness`).set(...auth(key))).text,
      uptime: (await http.get(`/v1/sessions/${manual.id}/proc/uptime`).set(...auth(key))).text,
      meminfo: (await http.get(`/v1/sessions/${manual.id}/proc/meminfo`).set(...auth(key))).text,
    };
    const rtUptimeBefore = Number((await http.get(`/v1/sessions/${realtime.id}/proc/uptime`).set(...auth(key))).text.split(' ')[0]);

    await killHard(a.proc);
    const b = await launch(db, port);
    const http2 = request(b.url);
    const list = await http2.get('/v1/sessions').set(...auth(key)).expect(200);
    expect(list.body.items.map((x: { id: string }) => x.id).sort()).toEqual([manual.id, realtime.id].sort());
    expect((await http2.get(`/v1/sessions/${manual.id}`).set(...auth(key)).expect(200)).body).toMatchObject({ state: 'running', labels: { k: 'v' } });
    expect((await http2.get(`/v1/sessions/${gone.id}`).set(...auth(key)).expect(200)).body.state).toBe('deleted');
    const after = {
      swappiness: (await http2.get(`/v1/sessions/${manual.id}/proc/sys/vm/swappiness`).set(...auth(key))).text,
      uptime: (await http2.get(`/v1/sessions/${manual.id}/proc/uptime`).set(...auth(key))).text,
      meminfo: (await http2.get(`/v1/sessions/${manual.id}/proc/meminfo`).set(...auth(key))).text,
    };
    expect(after).toEqual(before);
    expect((await http2.get(`/v1/sessions/${realtime.id}/proc/sys/vm/swappiness`).set(...auth(key))).text).toBe('33\n');
    const rtUptimeAfter = Number((await http2.get(`/v1/sessions/${realtime.id}/proc/uptime`).set(...auth(key))).text.split(' ')[0]);
    expect(rtUptimeAfter).toBeGreaterThanOrEqual(rtUptimeBefore);
    const snaps = await http2.get(`/v1/sessions/${manual.id}/snapshots`).set(...auth(key)).expect(200);
    expect(snaps.body.map((x: { snapshotId: string }) => x.snapshotId)).toEqual([snap.snapshotId]);
    // and the restored server keeps working: a further write, then a graceful stop and start
    await http2.put(`/v1/sessions/${manual.id}/proc/sys/vm/swappiness`).set(...auth(key)).set('content-type', 'text/plain').send('42').expect(204);
    await new Promise<void>((resolve) => {
      b.proc.once('exit', () => resolve());
      b.proc.kill('SIGTERM');
    });
    const c = await launch(db, port);
    expect((await request(c.url).get(`/v1/sessions/${manual.id}/proc/sys/vm/swappiness`).set(...auth(key))).text).toBe('42\n');
    await killHard(c.proc);
  }, 180_000);
});
