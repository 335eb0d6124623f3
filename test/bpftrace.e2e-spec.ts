import type { Socket } from 'socket.io-client';
import { auth, connect, emitAck, newTenant, startServer, type TestServer } from './helpers';

describe('bpftrace (e2e)', () => {
  let s: TestServer;
  let a: { id: string; key: string };
  let b: { id: string; key: string };
  const sockets: Socket[] = [];
  beforeAll(async () => {
    s = await startServer();
    a = await newTenant(s, 'bt-a');
    b = await newTenant(s, 'bt-b');
  });
  afterAll(async () => {
    sockets.forEach((x) => x.close());
    await s.close();
    await s.db.drop();
  });
  const session = async (): Promise<string> => (await s.http.post('/v1/sessions').set(...auth(a.key)).send({ clock: 'manual' }).expect(201)).body.id as string;

  it('runs a program for durationMs and prints maps at the end, as bpftrace does', async () => {
    const sid = await session();
    const r = (
      await s.http
        .post(`/v1/sessions/${sid}/bpftrace`)
        .set(...auth(a.key))
        .send({ program: 'BEGIN { printf("hello %d\\n", 42); } interval:ms:100 { @ticks = count(); }', durationMs: 1000 })
        .expect(200)
    ).body;
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('Attaching 2 probes...\nhello 42\n\n\n@ticks: 10\n');
  });

  it('reports errors exactly like bpftrace, and runs nothing', async () => {
    const sid = await session();
    const r = (await s.http.post(`/v1/sessions/${sid}/bpftrace`).set(...auth(a.key)).send({ program: 'BEGIN { @x = nosuchfn(1); }', durationMs: 100 }).expect(200)).body;
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^stdin:1:\d+-\d+: ERROR: Unknown function: nosuchfn\nBEGIN \{ @x = nosuchfn\(1\); \}\n +~+\n$/);
    await s.http.post(`/v1/sessions/${sid}/bpftrace`).set(...auth(a.key)).send({ program: 'BEGIN {}', durationMs: 0 }).expect(400);
    await s.http.post(`/v1/sessions/${sid}/bpftrace`).set(...auth(b.key)).send({ program: 'BEGIN {}', durationMs: 10 }).expect(404);
  });

  it("counts what the machine's tasks do: a long run sees exec'd cats, streams output, stops like Ctrl-C", async () => {
    const sid = await session();
    const { runId } = (
      await s.http
        .post(`/v1/sessions/${sid}/bpftrace/runs`)
        .set(...auth(a.key))
        .send({ program: 'BEGIN { printf("tracing\\n"); } kprobe:vfs_read /comm == "cat"/ { @reads[comm] = count(); }' })
        .expect(201)
    ).body;
    expect(runId).toMatch(/^bt-\d+$/);
    const c = await connect(s, a.key);
    sockets.push(c);
    const events: { seq: number; data: { text?: string; exit?: number } }[] = [];
    c.on('event', (e: { stream: string; seq: number; data: { text?: string; exit?: number } }) => {
      if (e.stream === 'bpftrace') events.push(e);
    });
    expect(await emitAck(c, 'subscribe', { sessionId: sid, stream: 'bpftrace', runId, fromSeq: 1 })).toMatchObject({ ok: true, startSeq: 1 });
    for (let i = 0; i < 3; i++) await s.http.post(`/v1/sessions/${sid}/exec`).set(...auth(a.key)).send({ command: 'cat /etc/hostname' }).expect(200);
    const status = (await s.http.get(`/v1/sessions/${sid}/bpftrace/runs/${runId}`).set(...auth(a.key)).expect(200)).body;
    expect(status.status).toMatchObject({ runId, state: 'running' });
    expect(status.status.firings).toBeGreaterThanOrEqual(3);
    const done = (await s.http.delete(`/v1/sessions/${sid}/bpftrace/runs/${runId}`).set(...auth(a.key)).expect(200)).body;
    expect(done.exitCode).toBe(0);
    const n = Number(/@reads\[cat\]: (\d+)/.exec(done.stdout)?.[1]);
    expect(n).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 100));
    const text = events.map((e) => e.data.text ?? '').join('');
    expect(text).toBe(done.stdout);
    expect(events.at(-1)?.data).toEqual({ exit: 0 });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    await s.http.delete(`/v1/sessions/${sid}/bpftrace/runs/bt-999`).set(...auth(a.key)).expect(404);
    await s.http.get(`/v1/sessions/${sid}/bpftrace/runs/nope`).set(...auth(a.key)).expect(400);
  });
});
