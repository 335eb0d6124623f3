import { auth, useServer } from './helpers';

const manifest = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'labmod',
  version: '1.0',
  license: 'GPL',
  description: 'A lab module',
  author: ['Course Staff'],
  parameters: [{ name: 'debug', type: 'int', default: '0', perm: '0644', description: 'debug level' }],
  initMessages: [{ level: 6, text: 'labmod: loaded' }],
  exitMessages: ['labmod: unloaded'],
  files: [{ fs: 'procfs', path: '/proc/labmod', mode: '0444', content: 'hello\n' }],
  ...over,
});

describe('lab modules (e2e)', () => {
  const t = useServer('lab');

  it('creates, lists, fetches, replaces and deletes a manifest, per tenant', async () => {
    const created = (await t.s.http.post('/v1/lab-modules').set(...auth(t.a.key)).send(manifest()).expect(201)).body;
    expect(created).toMatchObject({ name: 'labmod', version: '1.0', manifest: { name: 'labmod', license: 'GPL', parameters: [{ name: 'debug', perm: 0o644 }] } });
    await t.s.http.post('/v1/lab-modules').set(...auth(t.a.key)).send(manifest()).expect(409);
    expect((await t.s.http.get('/v1/lab-modules').set(...auth(t.a.key)).expect(200)).body.map((m: { name: string }) => m.name)).toEqual(['labmod']);
    expect((await t.s.http.get('/v1/lab-modules').set(...auth(t.b.key)).expect(200)).body).toEqual([]);
    await t.s.http.get('/v1/lab-modules/labmod').set(...auth(t.b.key)).expect(404);
    await t.s.http.delete('/v1/lab-modules/labmod').set(...auth(t.b.key)).expect(404);
    const replaced = (await t.s.http.put('/v1/lab-modules/labmod').set(...auth(t.a.key)).send(manifest({ version: '1.1' })).expect(200)).body;
    expect(replaced.version).toBe('1.1');
    expect((await t.s.http.get('/v1/lab-modules/labmod').set(...auth(t.a.key)).expect(200)).body.manifest.version).toBe('1.1');
    // the same name is free for another tenant
    await t.s.http.post('/v1/lab-modules').set(...auth(t.b.key)).send(manifest()).expect(201);
    await t.s.http.delete('/v1/lab-modules/labmod').set(...auth(t.a.key)).expect(204);
    await t.s.http.get('/v1/lab-modules/labmod').set(...auth(t.a.key)).expect(404);
    expect((await t.s.http.get('/v1/lab-modules/labmod').set(...auth(t.b.key)).expect(200)).body.name).toBe('labmod');
  });

  it('rejects invalid manifests with 400 naming every problem', async () => {
    const r = (
      await t.s.http
        .post('/v1/lab-modules')
        .set(...auth(t.a.key))
        .send(manifest({ name: '9bad', license: undefined, parameters: [{ name: 'x', type: 'float', default: '1' }], bogus: 1 }))
        .expect(400)
    ).body;
    expect(r.code).toBe('INVALID_MANIFEST');
    expect(r.details).toEqual(expect.arrayContaining([expect.stringMatching(/^bogus: unknown field/), expect.stringMatching(/^name: /), expect.stringMatching(/^license: required/), expect.stringMatching(/^parameters\[0\]\.type: /)]));
    expect((await t.s.http.post('/v1/lab-modules').set(...auth(t.a.key)).send(manifest({ name: 'ext4' })).expect(400)).body.message).toMatch(/ext4/);
    await t.s.http.put('/v1/lab-modules/other').set(...auth(t.a.key)).send(manifest()).expect(400);
    await t.s.http.post('/v1/lab-modules').send(manifest()).expect(401);
  });
});
