import { auth, newTenant, startServer, type TestServer } from './helpers';

describe('tenants and API keys (e2e)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => {
    await s.close();
    await s.db.drop();
  });

  it('bootstraps a default tenant whose key works at once', async () => {
    const r = await s.http.get('/v1/sessions').set(...auth(s.tenantKey)).expect(200);
    expect(r.body).toMatchObject({ items: [], total: 0 });
    const list = await s.http.get('/v1/tenants').set(...auth(s.adminToken)).expect(200);
    expect(list.body.map((t: { name: string }) => t.name)).toContain('default');
  });

  it('creates tenants, issues keys shown once, and revokes them at once', async () => {
    const t = await s.http
      .post('/v1/tenants')
      .set(...auth(s.adminToken))
      .send({ name: 'course-a', limits: { maxSessions: 3 } })
      .expect(201);
    expect(t.body.limits.maxSessions).toBe(3);
    expect(t.body.limits.requestsPerMinute).toBeGreaterThan(0);
    const k = await s.http.post(`/v1/tenants/${t.body.id}/api-keys`).set(...auth(s.adminToken)).send({ label: 'grader' }).expect(201);
    expect(k.body.key).toMatch(/^klk_/);
    expect(k.body.prefix).toBe(k.body.key.slice(0, 10));
    const keys = await s.http.get(`/v1/tenants/${t.body.id}/api-keys`).set(...auth(s.adminToken)).expect(200);
    expect(keys.body).toHaveLength(1);
    expect(JSON.stringify(keys.body)).not.toContain(k.body.key);
    await s.http.get('/v1/sessions').set(...auth(k.body.key)).expect(200);
    await s.http.delete(`/v1/tenants/${t.body.id}/api-keys/${k.body.id}`).set(...auth(s.adminToken)).expect(204);
    const after = await s.http.get('/v1/sessions').set(...auth(k.body.key)).expect(401);
    expect(after.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.any(String), code: 'UNAUTHORIZED' });
    await s.http.delete(`/v1/tenants/${t.body.id}/api-keys/${k.body.id}`).set(...auth(s.adminToken)).expect(404);
  });

  it('rejects duplicate names and bad tenant bodies', async () => {
    await newTenant(s, 'dup');
    const r = await s.http.post('/v1/tenants').set(...auth(s.adminToken)).send({ name: 'dup' }).expect(409);
    expect(r.body.code).toBe('TENANT_EXISTS');
    const bad = await s.http.post('/v1/tenants').set(...auth(s.adminToken)).send({ name: 'Bad Name!' }).expect(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    expect(bad.body.message).toContain('name');
    const lim = await s.http
      .post('/v1/tenants')
      .set(...auth(s.adminToken))
      .send({ name: 'x', limits: { maxSessions: 0 } })
      .expect(400);
    expect(lim.body.message).toContain('limits.maxSessions');
  });

  it('guards admin routes: no token 401, tenant key 403, wrong token 401', async () => {
    await s.http.get('/v1/tenants').expect(401);
    const r = await s.http.get('/v1/tenants').set(...auth(s.tenantKey)).expect(403);
    expect(r.body.code).toBe('FORBIDDEN');
    await s.http.get('/v1/tenants').set(...auth('nope')).expect(401);
    await s.http.post('/v1/tenants/not-a-uuid/api-keys').set(...auth(s.adminToken)).send({}).expect(404);
  });
});
