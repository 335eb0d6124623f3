import { auth, emitAck, useServer } from './helpers';

describe('tracing: trace-cmd, perf, recordings, events stream (e2e)', () => {
  const t = useServer('tr');
  const session = async (): Promise<string> => (await t.s.http.post('/v1/sessions').set(...auth(t.a.key)).send({ clock: 'manual' }).expect(201)).body.id as string;

  it("records a command with the function tracer on vfs_read: the report shows that task's calls; the recording downloads", async () => {
    const sid = await session();
    const r = (await t.s.http.post(`/v1/sessions/${sid}/trace-cmd/record`).set(...auth(t.a.key)).send({ plugin: 'function', functions: ['vfs_read'], command: 'cat /etc/hostname' }).expect(200)).body;
    expect(r.recordingId).toEqual(expect.any(Number));
    const lines = (r.report as string).split('\n').filter((l) => /vfs_read/.test(l));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => /^\s+cat-\d+\s+\[\d{3}\]\s+[\d.]+: function: +vfs_read/.test(l))).toBe(true);
    const list = (await t.s.http.get(`/v1/sessions/${sid}/recordings`).set(...auth(t.a.key)).expect(200)).body;
    expect(list).toEqual([expect.objectContaining({ id: r.recordingId, kind: 'trace-cmd', command: 'cat /etc/hostname', tracer: 'function' })]);
    const json = (await t.s.http.get(`/v1/sessions/${sid}/recordings/${r.recordingId}`).set(...auth(t.a.key)).expect(200)).body;
    expect(json.events.filter((e: { fn?: string }) => e.fn === 'vfs_read').length).toBe(lines.length);
    expect((await t.s.http.get(`/v1/sessions/${sid}/recordings/${r.recordingId}?format=text`).set(...auth(t.a.key)).expect(200)).text).toBe(r.report);
    const raw = await t.s.http.get(`/v1/sessions/${sid}/recordings/${r.recordingId}?format=raw`).set(...auth(t.a.key)).buffer(true).expect(200);
    expect(raw.headers['content-disposition']).toMatch(/trace-\d+\.dat/);
    await t.s.http.get(`/v1/sessions/${sid}/recordings/999`).set(...auth(t.a.key)).expect(404);
    await t.s.http.get(`/v1/sessions/${sid}/recordings`).set(...auth(t.b.key)).expect(404);
    await t.s.http.post(`/v1/sessions/${sid}/trace-cmd/record`).set(...auth(t.a.key)).send({ plugin: 'function' }).expect(400);
    await t.s.http.post(`/v1/sessions/${sid}/trace-cmd/record`).set(...auth(t.a.key)).send({ plugin: 'wakeup', command: 'true' }).expect(400);
  });

  it('perf stat gives the text and the counters as JSON, deterministically', async () => {
    const run = async (): Promise<{ text: string; counters: Record<string, number | null>; exitCode: number }> => {
      // the same seed and the same inputs give the same machine
      const sid = (await t.s.http.post('/v1/sessions').set(...auth(t.a.key)).send({ clock: 'manual', seed: 'perf-stat' }).expect(201)).body.id as string;
      return (await t.s.http.post(`/v1/sessions/${sid}/perf/stat`).set(...auth(t.a.key)).send({ command: 'cat /proc/meminfo > /dev/null' }).expect(200)).body;
    };
    const one = await run();
    expect(one.exitCode).toBe(0);
    expect(one.text).toMatch(/Performance counter stats for/);
    expect(one.counters['task-clock']).toBeGreaterThan(0);
    expect(one.counters.instructions).toBeGreaterThan(0);
    expect(one.counters['context-switches']).toBeGreaterThanOrEqual(0);
    const two = await run();
    expect(two.counters).toEqual(one.counters);
  });

  it('streams trace events as typed JSON, resumable by seq', async () => {
    const sid = await session();
    await t.s.http.put(`/v1/sessions/${sid}/sys/kernel/tracing/events/syscalls/sys_enter_openat/enable`).set(...auth(t.a.key)).send('1').set('content-type', 'text/plain').expect(204);
    const c = await t.socket(t.a.key);
    const got: { seq: number; data: { type: string; event?: string; comm: string; fields?: Record<string, unknown> } }[] = [];
    c.on('event', (e: { stream: string; seq: number; data: { type: string; comm: string } }) => {
      if (e.stream === 'events') got.push(e as (typeof got)[number]);
    });
    expect(await emitAck(c, 'subscribe', { sessionId: sid, stream: 'events' })).toMatchObject({ ok: true });
    await t.s.http.post(`/v1/sessions/${sid}/exec`).set(...auth(t.a.key)).send({ command: 'cat /etc/hostname' }).expect(200);
    await new Promise((r) => setTimeout(r, 200));
    const opens = got.filter((e) => e.data.event === 'sys_enter_openat' && e.data.comm === 'cat');
    expect(opens.length).toBeGreaterThan(0);
    expect(opens[0].data).toMatchObject({ type: 'event', fields: expect.objectContaining({ dfd: expect.anything() }) });
    const c2 = await t.socket(t.a.key);
    const again: { seq: number }[] = [];
    c2.on('event', (e: { stream: string; seq: number }) => e.stream === 'events' && again.push(e));
    expect(await emitAck(c2, 'subscribe', { sessionId: sid, stream: 'events', fromSeq: got[0].seq })).toMatchObject({ ok: true, startSeq: got[0].seq, missed: 0 });
    await new Promise((r) => setTimeout(r, 200));
    expect(again.map((e) => e.seq)).toEqual(got.map((e) => e.seq));
  });

  it("tracing one session leaves another untouched: no records in it, the same virtual time for its commands", async () => {
    const mk = async (seed: string): Promise<string> => (await t.s.http.post('/v1/sessions').set(...auth(t.a.key)).send({ clock: 'manual', seed }).expect(201)).body.id as string;
    const run = async (sid: string): Promise<{ durationNs: number; stdout: string }> =>
      (await t.s.http.post(`/v1/sessions/${sid}/exec`).set(...auth(t.a.key)).send({ command: 'for i in 1 2 3; do cat /proc/meminfo | grep -c Mem; done' }).expect(200)).body;
    // the baseline: a machine run while nothing traces anywhere
    const alone = await run(await mk('iso'));
    const traced = await mk('busy');
    await t.s.http.put(`/v1/sessions/${traced}/sys/kernel/tracing/current_tracer`).set(...auth(t.a.key)).set('content-type', 'text/plain').send('function_graph').expect(204);
    await t.s.http.put(`/v1/sessions/${traced}/sys/kernel/tracing/events/enable`).set(...auth(t.a.key)).set('content-type', 'text/plain').send('1').expect(204);
    await t.s.http.post(`/v1/sessions/${traced}/bpftrace/runs`).set(...auth(t.a.key)).send({ program: 'kprobe:vfs_read { @[comm] = count(); }' }).expect(201);
    const other = await mk('iso');
    await run(traced);
    const beside = await run(other);
    // same seed, same commands: the same output and the same virtual duration as without any tracing
    expect(beside).toMatchObject({ stdout: alone.stdout, durationNs: alone.durationNs });
    const trace = (await t.s.http.get(`/v1/sessions/${other}/sys/kernel/tracing/trace`).set(...auth(t.a.key)).expect(200)).text;
    expect(trace).toMatch(/^# entries-in-buffer\/entries-written: 0\/0 /m);
    expect((await t.s.http.get(`/v1/sessions/${traced}/sys/kernel/tracing/trace`).set(...auth(t.a.key)).expect(200)).text).toMatch(/vfs_read\(\) \{/);
  });

  it('streams perf top snapshots once a second of machine time', async () => {
    const sid = await session();
    const c = await t.socket();
    const snaps: { seq: number; data: { rows: { overhead: number; dso: string; sym: string }[]; samples: number; kernelPct: number } }[] = [];
    c.on('event', (e: { stream: string; seq: number; data: (typeof snaps)[number]['data'] }) => e.stream === 'perf-top' && snaps.push(e));
    expect(await emitAck(c, 'subscribe', { sessionId: sid, stream: 'perf-top' })).toMatchObject({ ok: true });
    await t.s.http.post(`/v1/sessions/${sid}/exec`).set(...auth(t.a.key)).send({ command: 'stress-ng --cpu 1 --timeout 3' }).expect(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(snaps.length).toBeGreaterThanOrEqual(1);
    const top = snaps[0].data.rows[0];
    expect(top).toMatchObject({ dso: 'stress-ng-cpu', sym: 'main' });
    expect(top.overhead).toBeGreaterThan(50);
    const perf = (await t.s.http.post(`/v1/sessions/${sid}/exec`).set(...auth(t.a.key)).send({ command: 'stress-ng --cpu 1 --timeout 5 > /dev/null & perf top --stdio -d 2 -E 3', timeoutMs: 4500 }).expect(200)).body;
    expect(perf.stdout).toMatch(/^ {3}PerfTop: +\d+ irqs\/sec {2}kernel: *[\d.]+% {2}exact: {2}0\.0% lost: 0\/0 drop: 0\/0 \[4000Hz cpu-clock:pppH\], {2}\(all, 2 CPUs\)\n-+\n\n +\d+\.\d+% {2}stress-ng-cpu {2}\[\.\] main\n/);
  });
});
