import type { Socket } from 'socket.io-client';
import { auth, emitAck, useServer } from './helpers';

interface Screen {
  text: () => string;
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<string>;
  exits: unknown[];
}

/**
 * Records a socket's terminal output from the start (the backlog arrives
 * before the subscribe ack) and reads the output of one terminal.
 */
function recorder(socket: Socket): (terminalId: string) => Screen {
  const out = new Map<string, string>();
  const exits: { terminalId: string }[] = [];
  const waiters = new Set<() => void>();
  socket.on('stdout', (m: { terminalId: string; data: string }) => {
    out.set(m.terminalId, (out.get(m.terminalId) ?? '') + m.data);
    for (const w of [...waiters]) w();
  });
  socket.on('exit', (m: { terminalId: string }) => exits.push(m));
  return (terminalId) => ({
    text: () => out.get(terminalId) ?? '',
    exits: exits.filter((e) => e.terminalId === terminalId),
    waitFor: (re, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          const t = out.get(terminalId) ?? '';
          if (!re.test(t)) return false;
          waiters.delete(w);
          clearTimeout(timer);
          resolve(t);
          return true;
        };
        const w = (): void => void check();
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`timed out waiting for ${re} in ${JSON.stringify(out.get(terminalId) ?? '')}`));
        }, timeoutMs);
        if (!check()) waiters.add(w);
      }),
  });
}

describe('exec and terminals (e2e)', () => {
  const t = useServer('exec');
  const session = async (body: Record<string, unknown> = {}): Promise<string> =>
    (await t.s.http.post('/v1/sessions').set(...auth(t.a.key)).send({ hostname: 'lab', ...body }).expect(201)).body.id as string;
  const exec = (sid: string, body: Record<string, unknown>, key = t.a.key) => t.s.http.post(`/v1/sessions/${sid}/exec`).set(...auth(key)).send(body);

  it('runs a pipeline and answers with output, exit code, pid and timing; the REST view agrees', async () => {
    const sid = await session();
    const r = (await exec(sid, { command: 'cat /proc/meminfo | grep MemTotal' }).expect(200)).body;
    expect(r).toMatchObject({ stderr: '', exitCode: 0, truncated: false, timedOut: false });
    expect(r.stdout).toMatch(/^MemTotal: +\d+ kB\n$/);
    expect(r.pid).toBeGreaterThan(1);
    expect(Date.parse(r.startedAt)).not.toBeNaN();
    expect(r.durationNs).toBeGreaterThan(0);
    const meminfo = (await t.s.http.get(`/v1/sessions/${sid}/proc/meminfo`).set(...auth(t.a.key)).expect(200)).text;
    expect(meminfo.split('\n')[0] + '\n').toBe(r.stdout);
  });

  it('makes writes durable: a sysctl set with echo is what /proc shows afterwards', async () => {
    const sid = await session();
    expect((await exec(sid, { command: 'echo 33 > /proc/sys/vm/swappiness && sysctl -n vm.swappiness || cat /proc/sys/vm/swappiness' }).expect(200)).body.stdout).toBe('33\n');
    expect((await t.s.http.get(`/v1/sessions/${sid}/proc/sys/vm/swappiness`).set(...auth(t.a.key)).expect(200)).text).toBe('33\n');
  });

  it('reports bash exit codes: 127 not found, 126 not executable, 124 timed out', async () => {
    const sid = await session({ clock: 'manual' });
    const nf = (await exec(sid, { command: 'frobnicate' }).expect(200)).body;
    expect(nf).toMatchObject({ exitCode: 127, stderr: 'bash: line 1: frobnicate: command not found\n' });
    const ne = (await exec(sid, { command: 'echo x > /tmp/s; /tmp/s' }).expect(200)).body;
    expect(ne).toMatchObject({ exitCode: 126, stderr: 'bash: line 1: /tmp/s: Permission denied\n' });
    const to = (await exec(sid, { command: 'echo a; sleep 60; echo b', timeoutMs: 2000 }).expect(200)).body;
    expect(to).toMatchObject({ exitCode: 124, stdout: 'a\n', timedOut: true });
  });

  it('bounds runaway output and says so; the server and other sessions stay fine', async () => {
    const sid = await session();
    const other = await session();
    const r = (await exec(sid, { command: 'yes' }).expect(200)).body;
    expect(r.truncated).toBe(true);
    expect(r.stdout.length).toBeLessThanOrEqual(1024 * 1024);
    expect(r.stderr).toMatch(/output truncated/);
    expect((await exec(other, { command: 'echo ok' }).expect(200)).body.stdout).toBe('ok\n');
  });

  it('rejects bad input with 400s naming the field, and foreign sessions with 404', async () => {
    const sid = await session();
    expect((await exec(sid, {}).expect(400)).body).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/command/) });
    expect((await exec(sid, { command: 'true', timeoutMs: 0 }).expect(400)).body.message).toMatch(/timeoutMs/);
    expect((await exec(sid, { command: 'true', env: { 'BAD-NAME': 'x' } }).expect(400)).body.message).toMatch(/env/);
    expect((await exec(sid, { command: 'true', cwd: 'relative' }).expect(400)).body.message).toMatch(/cwd/);
    expect((await exec(sid, { command: 'true', cwd: '/does/not/exist' }).expect(404)).body.code).toBe('ENOENT');
    expect((await exec(sid, { command: 'x'.repeat(200 * 1024) }).expect(400)).body.message).toMatch(/command/);
    // 5,000 nested subshells: the parser's nesting limit, as a bash syntax error (exit 2)
    const deep = '( '.repeat(5000) + 'true' + ' )'.repeat(5000);
    const r = (await exec(sid, { command: deep }).expect(200)).body;
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^bash: -c: line 1: nesting too deep \(limit \d+\)/);
    // (((( … )))) is an arithmetic command to bash: its evaluator is bounded too
    const arith = (await exec(sid, { command: '('.repeat(5000) + '1' + ')'.repeat(5000) }).expect(200)).body;
    expect(arith.exitCode).toBe(1);
    expect(arith.stderr).toMatch(/expression nesting too deep/);
    await exec(sid, { command: 'true' }, t.b.key).expect(404);
  });

  it('ends a fork bomb inside the machine and keeps it usable', async () => {
    const sid = await session({ clock: 'manual' });
    const before = Number((await exec(sid, { command: 'ps -e --no-headers | wc -l' }).expect(200)).body.stdout);
    const r = (await exec(sid, { command: ':(){ :|:& };:', timeoutMs: 5000 }).expect(200)).body;
    // the bomb runs in the background, as in bash; the kernel refuses its forks
    expect(r.stderr).toMatch(/^bash: fork: retry: Resource temporarily unavailable$/m);
    expect((await exec(sid, { command: 'echo alive' }).expect(200)).body.stdout).toBe('alive\n');
    expect(Number((await exec(sid, { command: 'ps -e --no-headers | wc -l' }).expect(200)).body.stdout)).toBe(before);
  });

  it('opens an interactive terminal: prompt, echo, output, Ctrl-C of a running loop, exit', async () => {
    const sid = await session();
    const c = await t.socket(t.a.key);
    const rec = recorder(c);
    const ack = await emitAck<{ ok: boolean; terminalId: string; startSeq: number }>(c, 'subscribe', { sessionId: sid, stream: 'terminal', cols: 100, rows: 30 });
    expect(ack).toMatchObject({ ok: true, stream: 'terminal', sessionId: sid });
    const scr = rec(ack.terminalId);
    await scr.waitFor(/root@lab:~# $/);
    expect(await emitAck(c, 'stdin', { sessionId: sid, terminalId: ack.terminalId, data: 'echo $COLUMNS; uname -r\r' })).toEqual({ ok: true });
    await scr.waitFor(/echo \$COLUMNS; uname -r\r\n100\r\n6\.1\.0-\S+\r\nroot@lab:~# $/);
    await emitAck(c, 'stdin', { sessionId: sid, terminalId: ack.terminalId, data: 'while :; do cat /dev/zero | head -c 1 > /dev/null; done\r' });
    await emitAck(c, 'stdin', { sessionId: sid, terminalId: ack.terminalId, data: '\x03' });
    await scr.waitFor(/\^C\r\n(\r\n)?root@lab:~# $/);
    await emitAck(c, 'stdin', { sessionId: sid, terminalId: ack.terminalId, data: 'echo $?\r' });
    await scr.waitFor(/130\r\nroot@lab:~# $/);
    await emitAck(c, 'stdin', { sessionId: sid, terminalId: ack.terminalId, data: 'exit 5\r' });
    await new Promise((r) => setTimeout(r, 100));
    expect(rec(ack.terminalId).exits).toEqual([expect.objectContaining({ terminalId: ack.terminalId, code: 5 })]);
  });

  it('re-attaches to a terminal from another socket and resumes output by seq; other tenants cannot', async () => {
    const sid = await session();
    const c = await t.socket(t.a.key);
    const rec = recorder(c);
    const ack = await emitAck<{ terminalId: string }>(c, 'subscribe', { sessionId: sid, stream: 'terminal' });
    const scr = rec(ack.terminalId);
    await scr.waitFor(/# $/);
    await emitAck(c, 'stdin', { sessionId: sid, terminalId: ack.terminalId, data: 'cd /tmp; echo one\r' });
    await scr.waitFor(/one\r\nroot@lab:\/tmp# $/);
    c.close();
    const c2 = await t.socket(t.a.key);
    const scr2 = recorder(c2)(ack.terminalId);
    const re = await emitAck(c2, 'subscribe', { sessionId: sid, stream: 'terminal', terminalId: ack.terminalId, fromSeq: 1 });
    expect(re).toMatchObject({ ok: true, terminalId: ack.terminalId, startSeq: 1, missed: 0 });
    await scr2.waitFor(/one\r\nroot@lab:\/tmp# $/);
    const intruder = await t.socket(t.b.key);
    expect(await emitAck(intruder, 'stdin', { sessionId: sid, terminalId: ack.terminalId, data: 'rm -rf /\r' })).toMatchObject({ ok: false, error: { statusCode: 404 } });
    expect(await emitAck(intruder, 'subscribe', { sessionId: sid, stream: 'terminal', terminalId: ack.terminalId })).toMatchObject({ ok: false, error: { statusCode: 404 } });
    expect(await emitAck(c2, 'stdin', { sessionId: sid, terminalId: '00000000-0000-4000-8000-000000000000', data: 'x' })).toMatchObject({ ok: false, error: { statusCode: 404 } });
    expect(await emitAck(c2, 'stdin', { sessionId: sid, terminalId: ack.terminalId, data: 42 })).toMatchObject({ ok: false, error: { statusCode: 400 } });
  });
});
