import { auth, useServer } from './helpers';

describe('faults: sysrq, panic, kdump records, reboot (e2e)', () => {
  const t = useServer('faults');
  const session = async (body: Record<string, unknown> = {}): Promise<string> =>
    (await t.s.http.post('/v1/sessions').set(...auth(t.a.key)).send({ clock: 'manual', ...body }).expect(201)).body.id as string;
  const exec = (sid: string, command: string) => t.s.http.post(`/v1/sessions/${sid}/exec`).set(...auth(t.a.key)).send({ command });

  it('crashes on sysrq c: session crashed, a crash record, other sessions unaffected; reboot brings it back with the records', async () => {
    const sid = await session();
    const other = await session();
    // Debian's kernel.sysrq=438 leaves the crash key off the keyboard; enable all functions first
    await exec(sid, 'modprobe dummy; echo 1 > /proc/sys/kernel/sysrq').expect(200);
    const r = (await t.s.http.post(`/v1/sessions/${sid}/sysrq`).set(...auth(t.a.key)).send({ key: 'c' }).expect(200)).body;
    expect(r).toMatchObject({ state: 'crashed', stateReason: 'sysrq triggered crash', boot: 0 });
    expect(r.log).toMatch(/^sysrq: Trigger a crash\nKernel panic - not syncing: sysrq triggered crash\n/);
    expect((await t.s.http.get(`/v1/sessions/${sid}`).set(...auth(t.a.key)).expect(200)).body).toMatchObject({ state: 'crashed', stateReason: 'sysrq triggered crash' });
    const crashes = (await t.s.http.get(`/v1/sessions/${sid}/crashes`).set(...auth(t.a.key)).expect(200)).body;
    expect(crashes).toEqual([expect.objectContaining({ id: expect.any(Number), type: 'PANIC', title: 'kernel panic: sysrq triggered crash', frame: 'sysrq_handle_crash', panic: true, boot: 0 })]);
    const whole = (await t.s.http.get(`/v1/sessions/${sid}/crashes/${crashes[0].id}`).set(...auth(t.a.key)).expect(200)).body;
    expect(whole.report).toMatch(/Kernel panic - not syncing: sysrq triggered crash/);
    expect(whole.dmesgTail.length).toBeGreaterThan(10);
    expect(whole.tasks).toEqual(expect.arrayContaining([expect.objectContaining({ pid: 1 })]));
    await t.s.http.get(`/v1/sessions/${sid}/crashes/999`).set(...auth(t.a.key)).expect(404);
    await t.s.http.get(`/v1/sessions/${sid}/crashes`).set(...auth(t.b.key)).expect(404);
    // nothing runs on a panicked machine; the server and other sessions carry on
    const refused = (await exec(sid, 'echo hi').expect(409)).body;
    expect(refused).toMatchObject({ code: 'EHOSTDOWN', message: expect.stringMatching(/crashed.*reboot it/) });
    expect((await exec(other, 'echo fine').expect(200)).body.stdout).toBe('fine\n');
    const dmesg = (await t.s.http.get(`/v1/sessions/${sid}/dmesg`).set(...auth(t.a.key)).expect(200)).text;
    expect(dmesg).toMatch(/Kernel panic - not syncing: sysrq triggered crash/);

    const rb = (await t.s.http.post(`/v1/sessions/${sid}/reboot`).set(...auth(t.a.key)).expect(200)).body;
    expect(rb).toMatchObject({ state: 'running', boot: 1 });
    expect(rb.uptimeNs).toBeLessThan(10e9);
    expect((await t.s.http.get(`/v1/sessions/${sid}`).set(...auth(t.a.key)).expect(200)).body.state).toBe('running');
    expect((await exec(sid, 'lsmod | grep -c dummy; cat /proc/sys/kernel/tainted').expect(200)).body.stdout).toBe('0\n0\n');
    expect((await t.s.http.get(`/v1/sessions/${sid}/crashes`).set(...auth(t.a.key)).expect(200)).body).toHaveLength(1);
    const fresh = (await t.s.http.get(`/v1/sessions/${sid}/dmesg`).set(...auth(t.a.key)).expect(200)).text;
    expect(fresh).not.toMatch(/Kernel panic/);
    expect(fresh).toMatch(/Linux version 6\.1\.0/);
  });

  it('honours the kernel.sysrq bitmask on the keyboard path', async () => {
    const sid = await session();
    await exec(sid, 'echo 0 > /proc/sys/kernel/sysrq').expect(200);
    const r = (await t.s.http.post(`/v1/sessions/${sid}/sysrq`).set(...auth(t.a.key)).send({ key: 'c' }).expect(200)).body;
    expect(r).toMatchObject({ state: 'running', log: 'sysrq: This sysrq operation is disabled.\n' });
    expect((await t.s.http.get(`/v1/sessions/${sid}/dmesg`).set(...auth(t.a.key)).expect(200)).text).toMatch(/sysrq: This sysrq operation is disabled\.\n$/);
    await t.s.http.post(`/v1/sessions/${sid}/sysrq`).set(...auth(t.a.key)).send({ key: 'C!' }).expect(400);
  });

  it('panics on an oops when kernel.panic_on_oops is set and reboots after kernel.panic seconds', async () => {
    await t.s.http
      .post('/v1/lab-modules')
      .set(...auth(t.a.key))
      .send({ name: 'oopsy', license: 'GPL', files: [{ fs: 'procfs', path: '/proc/oopsy', mode: '0444', content: 'x\n' }], behaviours: [{ kind: 'null-deref', on: { read: '/proc/oopsy' } }] })
      .expect(201);
    const sid = await session();
    // an oops kills the reading task, the machine keeps running, tainted D
    const oops = (await exec(sid, 'modprobe oopsy; cat /proc/oopsy; echo status=$?; cat /proc/sys/kernel/tainted').expect(200)).body;
    expect(oops.stdout).toMatch(/status=137\n/);
    expect(Number(oops.stdout.trim().split('\n').at(-1)) & (1 << 7)).toBeTruthy(); // D: died
    expect((await t.s.http.get(`/v1/sessions/${sid}`).set(...auth(t.a.key)).expect(200)).body.state).toBe('running');
    await exec(sid, 'echo 1 > /proc/sys/kernel/panic_on_oops; echo 5 > /proc/sys/kernel/panic; cat /proc/oopsy').expect(200);
    expect((await t.s.http.get(`/v1/sessions/${sid}`).set(...auth(t.a.key)).expect(200)).body.state).toBe('crashed');
    const crashes = (await t.s.http.get(`/v1/sessions/${sid}/crashes`).set(...auth(t.a.key)).expect(200)).body;
    expect(crashes.at(-1)).toMatchObject({ type: 'NULL-PTR-DEREF', module: 'oopsy', panic: true });
    await t.s.http.post(`/v1/sessions/${sid}/clock/advance`).set(...auth(t.a.key)).send({ ns: 6e9 }).expect(200);
    expect((await exec(sid, 'cat /proc/sys/kernel/panic_on_oops').expect(200)).body.stdout).toBe('0\n');
    expect((await t.s.http.get(`/v1/sessions/${sid}`).set(...auth(t.a.key)).expect(200)).body.state).toBe('running');
  });

  it('panics on OOM with vm.panic_on_oom while other sessions are read and written', async () => {
    await t.s.http
      .post('/v1/lab-modules')
      .set(...auth(t.a.key))
      .send({ name: 'leaky', license: 'GPL', description: 'leaks memory', behaviours: [{ kind: 'leak', pagesPerSecond: 20000 }] })
      .expect(201);
    const sid = (await t.s.http.post('/v1/sessions').set(...auth(t.a.key)).send({ clock: 'manual', memoryMb: 256 }).expect(201)).body.id as string;
    const other = await session();
    const r = (await exec(sid, 'echo 1 > /proc/sys/vm/panic_on_oom; modprobe leaky; sleep 30; echo never').expect(200)).body;
    expect(r).toMatchObject({ exitCode: 137 });
    expect(r.stdout).not.toMatch(/never/);
    expect((await t.s.http.get(`/v1/sessions/${sid}`).set(...auth(t.a.key)).expect(200)).body).toMatchObject({ state: 'crashed', stateReason: 'Out of memory: system-wide panic_on_oom is enabled' });
    const crashes = (await t.s.http.get(`/v1/sessions/${sid}/crashes`).set(...auth(t.a.key)).expect(200)).body;
    expect(crashes).toEqual([expect.objectContaining({ type: 'OOM', frame: 'out_of_memory', panic: true })]);
    const dmesg = (await t.s.http.get(`/v1/sessions/${sid}/dmesg`).set(...auth(t.a.key)).expect(200)).text;
    expect(dmesg).toMatch(/invoked oom-killer/);
    // the other session is untouched
    await t.s.http.put(`/v1/sessions/${other}/proc/sys/vm/swappiness`).set(...auth(t.a.key)).set('content-type', 'text/plain').send('11').expect(204);
    expect((await exec(other, 'cat /proc/sys/vm/swappiness').expect(200)).body.stdout).toBe('11\n');
  });

  it('takes debug-kernel options at create time', async () => {
    const sid = await session({ kernelConfig: { kasan: true, lockdep: true, hungTaskTimeoutSecs: 30 } });
    expect((await t.s.http.get(`/v1/sessions/${sid}`).set(...auth(t.a.key)).expect(200)).body.kernelConfig).toEqual({ kasan: true, lockdep: true, hungTaskTimeoutSecs: 30 });
    expect((await exec(sid, 'cat /proc/sys/kernel/hung_task_timeout_secs').expect(200)).body.stdout).toBe('30\n');
    await t.s.http.post('/v1/sessions').set(...auth(t.a.key)).send({ kernelConfig: { kasan: 'yes' } }).expect(400);
    await t.s.http.post('/v1/sessions').set(...auth(t.a.key)).send({ kernelConfig: { bogus: true } }).expect(400);
  });
});
