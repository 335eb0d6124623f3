import { auth, useServer } from './helpers';

describe('kernel modules (e2e)', () => {
  const t = useServer('mod');
  const session = async (): Promise<string> => (await t.s.http.post('/v1/sessions').set(...auth(t.a.key)).send({ clock: 'manual' }).expect(201)).body.id as string;

  it('modprobe loads the dependency chain; lsmod, /proc/modules and the JSON list agree', async () => {
    const sid = await session();
    const r = (await t.s.http.post(`/v1/sessions/${sid}/modules`).set(...auth(t.a.key)).send({ name: 'btrfs' }).expect(200)).body;
    expect(r.loaded.at(-1)).toBe('btrfs');
    expect(r.loaded).toEqual(expect.arrayContaining(['xor', 'raid6_pq', 'libcrc32c', 'zstd_compress', 'blake2b_generic']));
    expect(r.modules.map((m: { name: string }) => m.name)).toEqual(r.loaded);
    const list = (await t.s.http.get(`/v1/sessions/${sid}/modules`).set(...auth(t.a.key)).expect(200)).body as { name: string; size: number; holders: string[] }[];
    const btrfs = list.find((m) => m.name === 'btrfs');
    expect(btrfs).toMatchObject({ refcount: 0, state: 'live', lab: false });
    expect(list.find((m) => m.name === 'xor')?.holders).toEqual(['btrfs']);
    const lsmod = (await t.s.http.get(`/v1/sessions/${sid}/modules`).set(...auth(t.a.key)).set('accept', 'text/plain').expect(200)).text;
    expect(lsmod.split('\n')[0]).toBe('Module                  Size  Used by');
    expect(lsmod).toMatch(new RegExp(`^btrfs +${btrfs?.size}  0$`, 'm'));
    const proc = (await t.s.http.get(`/v1/sessions/${sid}/proc/modules`).set(...auth(t.a.key)).expect(200)).text;
    expect(proc).toMatch(new RegExp(`^btrfs ${btrfs?.size} 0 - Live 0x`, 'm'));
    const detail = (await t.s.http.get(`/v1/sessions/${sid}/modules/xor`).set(...auth(t.a.key)).expect(200)).body;
    expect(detail).toMatchObject({ name: 'xor', status: 'loaded', loaded: { refcount: 1, holders: ['btrfs'] } });
    expect(detail.modinfoText).toMatch(/^filename: +\/lib\/modules\/6\.1\.0-\S+\/kernel\/crypto\/xor\.ko$/m);
  });

  it("answers kmod's messages: 409 in use (forced too, while held), 404 not found", async () => {
    const sid = await session();
    await t.s.http.post(`/v1/sessions/${sid}/modules`).set(...auth(t.a.key)).send({ name: 'vfat' }).expect(200);
    const inUse = (await t.s.http.delete(`/v1/sessions/${sid}/modules/fat`).set(...auth(t.a.key)).expect(409)).body;
    expect(inUse).toMatchObject({ code: 'MODULE_IN_USE', message: 'rmmod: ERROR: Module fat is in use by: vfat' });
    const missing = (await t.s.http.post(`/v1/sessions/${sid}/modules`).set(...auth(t.a.key)).send({ name: 'nosuchmod' }).expect(404)).body;
    expect(missing.message).toMatch(/^modprobe: FATAL: Module nosuchmod not found in directory \/lib\/modules\/6\.1\.0/);
    await t.s.http.get(`/v1/sessions/${sid}/modules/nosuchmod`).set(...auth(t.a.key)).expect(404);
    // a module other modules hold cannot go, even forced (delete_module checks holders first)
    const forced = (await t.s.http.delete(`/v1/sessions/${sid}/modules/fat?force=true`).set(...auth(t.a.key)).expect(409)).body;
    expect(forced.message).toBe('rmmod: ERROR: could not remove module fat: Resource temporarily unavailable');
    await t.s.http.delete(`/v1/sessions/${sid}/modules/vfat`).set(...auth(t.a.key)).expect(204);
    await t.s.http.delete(`/v1/sessions/${sid}/modules/fat`).set(...auth(t.a.key)).expect(204);
    await t.s.http.delete(`/v1/sessions/${sid}/modules/fat`).set(...auth(t.a.key)).expect(404);
    await t.s.http.post(`/v1/sessions/${sid}/modules`).set(...auth(t.a.key)).send({ name: 'bad name!' }).expect(400);
    await t.s.http.post(`/v1/sessions/${sid}/modules`).set(...auth(t.b.key)).send({ name: 'vfat' }).expect(404);
  });

  it("loads a tenant's lab module in its sessions (tainting O and E), and only the tenant's", async () => {
    await t.s.http
      .post('/v1/lab-modules')
      .set(...auth(t.a.key))
      .send({ name: 'hello_lab', version: '0.1', license: 'GPL', description: 'hello', initMessages: ['hello_lab: hi'], exitMessages: ['hello_lab: bye'], files: [{ fs: 'procfs', path: '/proc/hello_lab', mode: '0444', content: 'hello\n' }] })
      .expect(201);
    const sid = await session();
    const r = (await t.s.http.post(`/v1/sessions/${sid}/exec`).set(...auth(t.a.key)).send({ command: 'modprobe hello_lab && cat /proc/hello_lab && lsmod | grep hello_lab && cat /proc/sys/kernel/tainted && dmesg | tail -3' }).expect(200)).body;
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^hello\nhello_lab +\d+ {2}0\n(\d+)\n/);
    const tainted = Number(/^hello\n.*\n(\d+)\n/.exec(r.stdout)?.[1]);
    expect(tainted & (1 << 12)).toBeTruthy(); // O: out-of-tree
    expect(tainted & (1 << 13)).toBeTruthy(); // E: unsigned
    expect(r.stdout).toMatch(/hello_lab: hi\n$/);
    const list = (await t.s.http.get(`/v1/sessions/${sid}/modules`).set(...auth(t.a.key)).expect(200)).body as { name: string; taint: string; lab: boolean }[];
    expect(list.find((m) => m.name === 'hello_lab')).toMatchObject({ taint: 'OE', lab: true });
    const other = (await t.s.http.post('/v1/sessions').set(...auth(t.b.key)).send({}).expect(201)).body.id as string;
    const denied = (await t.s.http.post(`/v1/sessions/${other}/modules`).set(...auth(t.b.key)).send({ name: 'hello_lab' }).expect(404)).body;
    expect(denied.code).toBe('MODULE_NOT_FOUND');
  });
});
