import { auth, emitAck, useServer } from './helpers';

describe('bpftrace (e2e)', () => {
  const t = useServer('bt');
  const session = async (): Promise<string> => (await t.s.http.post('/v1/sessions').set(...auth(t.a.key)).send({ clock: 'manual' }).expect(201)).body.id as string;

  it('runs a program for durationMs and prints maps at the end, as bpftrace does', async () => {
    const sid = await session();
    const r = (
      await t.s.http
        .post(`/v1/sessions/${sid}/bpftrace`)
        .set(...auth(t.a.key))
        .send({ program: 'BEGIN { printf("hello %d\\n", 42); } interval:ms:100 { @ticks = count(); }', durationMs: 1000 })
        .expect(200)
    ).body;
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('Attaching 2 probes...\nhello 42\n\n\n@ticks: 10\n');
  });

  it('reports errors exactly like bpftrace, and runs nothing', async () => {
    const sid = await session();
    const r = (await t.s.http.post(`/v1/sessions/${sid}/bpftrace`).set(...auth(t.a.key)).send({ program: 'BEGIN { @x = nosuchfn(1); }', durationMs: 100 }).expect(200)).body;
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^stdin:1:\d+-\d+: ERROR: Unknown function: nosuchfn\nBEGIN \{ @x = nosuchfn\(1\); \}\n +~+\n$/);
    await t.s.http.post(`/v1/sessions/${sid}/bpftrace`).set(...auth(t.a.key)).send({ program: 'BEGIN {}', durationMs: 0 }).expect(400);
    await t.s.http.post(`/v1/sessions/${sid}/bpftrace`).set(...auth(t.b.key)).send({ program: 'BEGIN {}', durationMs: 10 }).expect(404);
  });

  it("counts what the machine's tasks do: a long run sees exec'd cats, streams output, stops like Ctrl-C", async () => {
    const sid = await session();
    const { runId } = (
      await t.s.http
        .post(`/v1/sessions/${sid}/bpftrace/runs`)
        .set(...auth(t.a.key))
        .send({ program: 'BEGIN { printf("tracing\\n"); } kprobe:vfs_read /comm == "cat"/ { @reads[comm] = count(); }' })
        .expect(201)
    ).body;
    expect(runId).toMatch(/^bt-\d+$/);
    const c = await t.socket(t.a.key);
    const events: { seq: number; data: { text?: string; exit?: number } }[] = [];
    c.on('event', (e: { stream: string; seq: number; data: { text?: string; exit?: number } }) => {
      if (e.stream === 'bpftrace') events.push(e);
    });
    expect(await emitAck(c, 'subscribe', { sessionId: sid, stream: 'bpftrace', runId, fromSeq: 1 })).toMatchObject({ ok: true, startSeq: 1 });
    for (let i = 0; i < 3; i++) await t.s.http.post(`/v1/sessions/${sid}/exec`).set(...auth(t.a.key)).send({ command: 'cat /etc/hostname' }).expect(200);
    const status = (await t.s.http.get(`/v1/sessions/${sid}/bpftrace/runs/${runId}`).set(...auth(t.a.key)).expect(200)).body;
    expect(status.status).toMatchObject({ runId, state: 'running' });
    expect(status.status.firings).toBeGreaterThanOrEqual(3);
    const done = (await t.s.http.delete(`/v1/sessions/${sid}/bpftrace/runs/${runId}`).set(...auth(t.a.key)).expect(200)).body;
    expect(done.exitCode).toBe(0);
    const n = Number(/@reads\[cat\]: (\d+)/.exec(done.stdout)?.[1]);
    expect(n).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 100));
    const text = events.map((e) => e.data.text ?? '').join('');
    expect(text).toBe(done.stdout);
    expect(events.at(-1)?.data).toEqual({ exit: 0 });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    await t.s.http.delete(`/v1/sessions/${sid}/bpftrace/runs/bt-999`).set(...auth(t.a.key)).expect(404);
    await t.s.http.get(`/v1/sessions/${sid}/bpftrace/runs/nope`).set(...auth(t.a.key)).expect(400);
  });

  it('refuses unsafe actions unless the session allows them', async () => {
    const prog = 'BEGIN { system("echo pwned > /tmp/pwned"); exit(); }';
    const safe = await session();
    const r = (await t.s.http.post(`/v1/sessions/${safe}/bpftrace`).set(...auth(t.a.key)).send({ program: prog, durationMs: 100 }).expect(200)).body;
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/unsafe/);
    const shell = (await t.s.http.post(`/v1/sessions/${safe}/exec`).set(...auth(t.a.key)).send({ command: `bpftrace --unsafe -e '${prog}'; cat /tmp/pwned` }).expect(200)).body;
    expect(shell.stderr).toMatch(/--unsafe is not allowed/);
    const unsafe = (await t.s.http.post('/v1/sessions').set(...auth(t.a.key)).send({ clock: 'manual', kernelConfig: { allowUnsafe: true } }).expect(201)).body.id as string;
    const ok = (await t.s.http.post(`/v1/sessions/${unsafe}/bpftrace`).set(...auth(t.a.key)).send({ program: prog, durationMs: 100 }).expect(200)).body;
    expect(ok.exitCode).toBe(0);
    expect((await t.s.http.post(`/v1/sessions/${unsafe}/exec`).set(...auth(t.a.key)).send({ command: 'cat /tmp/pwned' }).expect(200)).body.stdout).toBe('pwned\n');
  });
});
