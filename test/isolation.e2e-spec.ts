import type { OpenAPIObject } from '@nestjs/swagger';
import { auth, newTenant, startServer, type TestServer } from './helpers';

/**
 * Walks every route of the generated OpenAPI document, so routes added later
 * are covered without touching this test: another tenant's session answers
 * exactly like a missing one (404), and no route answers without a key (401).
 */
describe('tenant isolation over every route (e2e)', () => {
  let s: TestServer;
  let owner: { id: string; key: string };
  let intruder: { id: string; key: string };
  let sessionId: string;
  let snapshotId: string;
  let doc: OpenAPIObject;
  beforeAll(async () => {
    s = await startServer();
    owner = await newTenant(s, 'owner');
    intruder = await newTenant(s, 'intruder');
    sessionId = (await s.http.post('/v1/sessions').set(...auth(owner.key)).send({ clock: 'manual' }).expect(201)).body.id;
    snapshotId = (await s.http.post(`/v1/sessions/${sessionId}/snapshots`).set(...auth(owner.key)).send({}).expect(201)).body.snapshotId;
    doc = (await s.http.get('/docs-json').expect(200)).body as OpenAPIObject;
  });
  afterAll(async () => {
    await s.close();
    await s.db.drop();
  });

  const PUBLIC = new Set(['/healthz', '/readyz', '/metrics']);
  const fill = (path: string): string =>
    path
      .replace('{id}', sessionId)
      .replace('{path}', 'sys/vm/swappiness')
      .replace(/\{[A-Za-z]+\}/g, '00000000-0000-4000-8000-000000000000');
  const routes = (): [string, string][] =>
    Object.entries(doc.paths).flatMap(([p, item]) =>
      (['get', 'post', 'put', 'patch', 'delete'] as const).filter((m) => (item as Record<string, unknown>)[m]).map((m) => [m, p] as [string, string]),
    );
  const send = (method: string, path: string, key?: string) => {
    let r = (s.http as unknown as Record<string, (p: string) => import('supertest').Test>)[method](fill(path));
    if (key) r = r.set(...auth(key));
    if (method === 'put') return r.set('content-type', 'text/plain').send('10\n');
    if (method === 'post' || method === 'patch') return r.send({ ttlSeconds: 60, snapshotId, ns: 1 });
    return r;
  };

  it('documents the session routes it walks', () => {
    const paths = routes().map(([, p]) => p);
    expect(paths).toEqual(expect.arrayContaining(['/v1/sessions/{id}', '/v1/sessions/{id}/snapshots', '/v1/sessions/{id}/restore']));
    expect(paths.filter((p) => p.startsWith('/v1/sessions/{id}')).length).toBeGreaterThanOrEqual(8);
  });

  it("answers 404 to another tenant on every session route, and the owner's session is untouched", async () => {
    const sessionRoutes = routes().filter(([, p]) => p.startsWith('/v1/sessions/{id}'));
    for (const [m, p] of sessionRoutes) {
      const r = await send(m, p, intruder.key);
      expect({ route: `${m} ${p}`, status: r.status, code: r.body.code }).toEqual({ route: `${m} ${p}`, status: 404, code: 'NOT_FOUND' });
    }
    const g = await s.http.get(`/v1/sessions/${sessionId}`).set(...auth(owner.key)).expect(200);
    expect(g.body.state).toBe('running');
    const list = await s.http.get('/v1/sessions').set(...auth(intruder.key)).expect(200);
    expect(list.body.total).toBe(0);
    expect((await s.http.get(`/v1/sessions/${sessionId}/proc/sys/vm/swappiness`).set(...auth(owner.key))).text).toBe('60\n');
  });

  it('answers a missing session exactly like a foreign one', async () => {
    const foreign = await s.http.get(`/v1/sessions/${sessionId}`).set(...auth(intruder.key));
    const missing = await s.http.get('/v1/sessions/00000000-0000-4000-8000-000000000000').set(...auth(intruder.key));
    const garbage = await s.http.get('/v1/sessions/not-a-uuid').set(...auth(intruder.key));
    expect(foreign.body).toEqual(missing.body);
    expect(garbage.body).toEqual(missing.body);
  });

  it('answers 401 on every non-public route without a key', async () => {
    for (const [m, p] of routes()) {
      if (PUBLIC.has(p)) continue;
      const r = await send(m, p);
      expect({ route: `${m} ${p}`, status: r.status, code: r.body.code }).toEqual({ route: `${m} ${p}`, status: 401, code: 'UNAUTHORIZED' });
    }
  });
});
