import { extract } from 'tar-stream';
import { auth, collect, connect, emitAck, startServer, type TestServer } from './helpers';

function untar(buf: Buffer): Promise<Map<string, { type: string; body: string; linkname?: string }>> {
  return new Promise((resolve, reject) => {
    const out = new Map<string, { type: string; body: string; linkname?: string }>();
    const ex = extract();
    ex.on('entry', (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        out.set(h.name, { type: h.type ?? 'file', body: Buffer.concat(chunks).toString('utf8'), linkname: h.linkname ?? undefined });
        next();
      });
      stream.resume();
    });
    ex.on('finish', () => resolve(out));
    ex.on('error', reject);
    ex.end(buf);
  });
}

describe('/proc and /sys over REST and the dmesg stream (e2e)', () => {
  let s: TestServer;
  let sid: string;
  const H = (): [string, string] => auth(s.tenantKey);
  beforeAll(async () => {
    s = await startServer();
    sid = (await s.http.post('/v1/sessions').set(...H()).send({ clock: 'manual', seed: 'procfs', cpus: 2, memoryMb: 1024 }).expect(201)).body.id;
  });
  afterAll(async () => {
    await s.close();
    await s.db.drop();
  });

  it('reads files as text/plain and structured files as JSON on request', async () => {
    const t = await s.http.get(`/v1/sessions/${sid}/proc/meminfo`).set(...H()).expect(200);
    expect(t.headers['content-type']).toMatch(/^text\/plain/);
    expect(t.text).toMatch(/^MemTotal:\s+\d+ kB\n/);
    const j = await s.http.get(`/v1/sessions/${sid}/proc/meminfo`).set(...H()).set('accept', 'application/json').expect(200);
    const total = Number(/^MemTotal:\s+(\d+)/.exec(t.text)?.[1]);
    expect(j.body.MemTotal).toBe(total);
    const sw = await s.http.get(`/v1/sessions/${sid}/proc/sys/vm/swappiness`).set(...H()).set('accept', 'application/json').expect(200);
    expect(sw.body).toEqual({ value: 60 });
    await s.http.get(`/v1/sessions/${sid}/proc/version`).set(...H()).set('accept', 'application/json').expect(406);
    const vm = await s.http.get(`/v1/sessions/${sid}/proc/sys/vm`).set(...H()).set('accept', 'application/json').expect(200);
    expect(vm.body['vm.swappiness']).toBe(60);
    expect(vm.body['vm.overcommit_memory']).toBe(0);
    expect('vm.drop_caches' in vm.body).toBe(false);
    const kernel = await s.http.get(`/v1/sessions/${sid}/proc/sys/kernel`).set(...H()).set('accept', 'application/json').expect(200);
    expect(kernel.body['kernel.printk']).toEqual([7, 4, 1, 7]);
    expect(kernel.body['kernel.ostype']).toBe('Linux');
  });

  it('lists directories as JSON', async () => {
    const r = await s.http.get(`/v1/sessions/${sid}/proc`).set(...H()).expect(200);
    const names = (r.body as { name: string; type: string; mode: string }[]).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['meminfo', 'sys', 'self']));
    const sys = await s.http.get(`/v1/sessions/${sid}/sys`).set(...H()).expect(200);
    expect(sys.body.length).toBeGreaterThan(0);
    expect(sys.body[0]).toEqual({ name: expect.any(String), type: expect.stringMatching(/^(file|dir|link)$/), mode: expect.stringMatching(/^[-dl][-rwx]{9}$/), size: expect.any(Number) });
  });

  it('keeps paths inside the machine: .., encoded dots, NUL bytes and over-long paths', async () => {
    for (const p of ['proc/%2e%2e/etc/passwd', 'proc/sys/%2E%2E/%2E%2E/%2E%2E/etc/hostname', 'proc/.%2e/x', 'proc/a%00b', 'sys/%2e']) {
      const r = await s.http.get(`/v1/sessions/${sid}/${p}`).set(...H());
      expect({ p, status: r.status, code: r.body.code }).toEqual({ p, status: 400, code: 'INVALID_PATH' });
    }
    const long = await s.http.get(`/v1/sessions/${sid}/proc/${'a'.repeat(300)}`).set(...H());
    expect([400, 404]).toContain(long.status);
    expect(long.body.code).toMatch(/ENAMETOOLONG|ENOENT/);
    const huge = await s.http.get(`/v1/sessions/${sid}/proc/${'abc/'.repeat(1100)}x`).set(...H());
    expect(huge.status).toBe(400);
    const missing = await s.http.get(`/v1/sessions/${sid}/proc/no-such-file`).set(...H()).expect(404);
    expect(missing.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'No such file or directory', code: 'ENOENT' });
  });

  it('writes with Linux semantics and maps errno to HTTP', async () => {
    await s.http.put(`/v1/sessions/${sid}/proc/sys/vm/swappiness`).set(...H()).set('content-type', 'text/plain').send('10\n').expect(204);
    expect((await s.http.get(`/v1/sessions/${sid}/proc/sys/vm/swappiness`).set(...H())).text).toBe('10\n');
    const bad = await s.http.put(`/v1/sessions/${sid}/proc/sys/vm/swappiness`).set(...H()).set('content-type', 'text/plain').send('many');
    expect({ status: bad.status, code: bad.body.code }).toEqual({ status: 400, code: 'EINVAL' });
    const ro = await s.http.put(`/v1/sessions/${sid}/proc/sys/kernel/ostype`).set(...H()).set('content-type', 'text/plain').send('Hurd');
    expect({ status: ro.status, code: ro.body.code }).toEqual({ status: 403, code: 'EACCES' });
    // like `echo 1 > /proc/sys/vm/nope`: procfs directories cannot create files, so O_CREAT fails with EACCES
    const nf = await s.http.put(`/v1/sessions/${sid}/proc/sys/vm/nope`).set(...H()).set('content-type', 'text/plain').send('1');
    expect({ status: nf.status, code: nf.body.code }).toEqual({ status: 403, code: 'EACCES' });
    const range = await s.http.put(`/v1/sessions/${sid}/proc/sys/vm/swappiness`).set(...H()).set('content-type', 'text/plain').send('201');
    expect({ status: range.status, code: range.body.code }).toEqual({ status: 400, code: 'EINVAL' });
    const nodir = await s.http.put(`/v1/sessions/${sid}/proc/nope/x`).set(...H()).set('content-type', 'text/plain').send('1');
    expect({ status: nodir.status, code: nodir.body.code }).toEqual({ status: 404, code: 'ENOENT' });
    const json = await s.http.put(`/v1/sessions/${sid}/proc/sys/vm/swappiness`).set(...H()).set('content-type', 'application/json').send('{"a":1}');
    expect(json.status).toBe(415);
    expect((await s.http.get(`/v1/sessions/${sid}/proc/sys/vm/swappiness`).set(...H())).text).toBe('10\n');
  });

  it('exports /proc and /sys as a tar of what they render now', async () => {
    const r = await s.http
      .get(`/v1/sessions/${sid}/export?paths=/proc/sys/vm,/sys/devices`)
      .set(...H())
      .buffer(true)
      .parse((res, cb) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => cb(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(r.headers['content-type']).toBe('application/x-tar');
    const files = await untar(r.body as Buffer);
    expect(files.get('proc/sys/vm/swappiness')?.body).toBe('10\n');
    expect(files.has('sys/devices/')).toBe(true);
    await s.http.get(`/v1/sessions/${sid}/export?paths=/etc`).set(...H()).expect(400);
    await s.http.get(`/v1/sessions/${sid}/export?paths=/proc/../etc`).set(...H()).expect(400);
    await s.http.get(`/v1/sessions/${sid}/export?paths=/proc/nope`).set(...H()).expect(404);
  });

  it('renders dmesg as util-linux does, filtered, and as typed JSON', async () => {
    const text = (await s.http.get(`/v1/sessions/${sid}/dmesg`).set(...H()).expect(200)).text;
    expect(text.split('\n')[0]).toMatch(/^\[ {4}0\.000000\] Linux version 6\.1\.0-56-amd64 /);
    const raw = (await s.http.get(`/v1/sessions/${sid}/dmesg?format=raw`).set(...H()).expect(200)).text;
    expect(raw.split('\n')[0]).toMatch(/^<5>\[ {4}0\.000000\] Linux version/);
    const dec = (await s.http.get(`/v1/sessions/${sid}/dmesg?format=decode`).set(...H()).expect(200)).text;
    expect(dec.split('\n')[0]).toMatch(/^kern {2}:notice: \[ {4}0\.000000\] Linux version/);
    const json = (await s.http.get(`/v1/sessions/${sid}/dmesg?format=json&level=notice`).set(...H()).expect(200)).body as { seq: number; levelName: string; text: string }[];
    expect(json.length).toBeGreaterThan(0);
    expect(json.every((r) => r.levelName === 'notice')).toBe(true);
    const all = (await s.http.get(`/v1/sessions/${sid}/dmesg?format=json`).set(...H()).expect(200)).body as { seq: number }[];
    expect(all.map((r) => r.seq)).toEqual(all.map((_, i) => all[0].seq + i));
    const tail = (await s.http.get(`/v1/sessions/${sid}/dmesg?format=json&fromSeq=${all[all.length - 1].seq}`).set(...H()).expect(200)).body;
    expect(tail).toHaveLength(1);
    const kmsg = (await s.http.get(`/v1/sessions/${sid}/dmesg?format=kmsg`).set(...H()).expect(200)).text;
    expect(kmsg.split('\n')[0]).toMatch(/^5,0,0,-;Linux version/);
    const bad = await s.http.get(`/v1/sessions/${sid}/dmesg?level=loud`).set(...H()).expect(400);
    expect(bad.body.message).toContain("unknown level 'loud'");
    await s.http.get(`/v1/sessions/${sid}/dmesg?format=xml`).set(...H()).expect(400);
  });

  it('streams dmesg records from a sequence number, then live', async () => {
    const c = await connect(s, s.tenantKey);
    const first = collect(c, 3);
    const ack = await emitAck<{ ok: boolean; startSeq: number; missed: number }>(c, 'subscribe', { sessionId: sid, stream: 'dmesg', fromSeq: 0 });
    expect(ack).toMatchObject({ ok: true, startSeq: 0, missed: 0 });
    const events = await first;
    expect(events.map((e) => e.seq)).toEqual([0, 1, 2]);
    expect((events[0].data as { text: string }).text).toMatch(/^Linux version 6\.1\.0-56-amd64/);
    c.close();
  });

  it('streams trace_pipe lines with sequence numbers (trace_marker writes show up)', async () => {
    const c = await connect(s, s.tenantKey);
    const ack = await emitAck<{ ok: boolean; startSeq: number }>(c, 'subscribe', { sessionId: sid, stream: 'trace_pipe' });
    expect(ack.ok).toBe(true);
    const got = collect(c, 1);
    await s.http.put(`/v1/sessions/${sid}/sys/kernel/tracing/trace_marker`).set(...H()).set('content-type', 'text/plain').send('hello from the grader\n').expect(204);
    const [line] = await got;
    expect(line).toMatchObject({ stream: 'trace_pipe', seq: expect.any(Number) });
    expect((line.data as { text: string }).text).toMatch(/tracing_mark_write: hello from the grader$/);
    const trace = await s.http.get(`/v1/sessions/${sid}/sys/kernel/tracing/trace`).set(...H()).expect(200);
    expect(trace.text).toMatch(/^# tracer: nop\n/);
    expect(trace.text).toContain('tracing_mark_write: hello from the grader');
    c.close();
  });
});
