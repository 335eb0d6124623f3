import { FakeClock } from '../src/common/clock';
import { SessionsService } from '../src/sessions/sessions.service';
import { auth, newTenant, startServer, type TestServer } from './helpers';

describe('sessions (e2e)', () => {
  let s: TestServer;
  const clock = new FakeClock(Date.UTC(2026, 10, 27, 9, 0, 0));
  let key: string;
  beforeAll(async () => {
    s = await startServer({ clock, env: { KERNELAB_IDLE_TIMEOUT_SECONDS: '600', KERNELAB_CHECKPOINT_EVERY: '3' } });
    key = (await newTenant(s, 'sessions', { maxSessions: 3, maxTtlSeconds: 7200, requestsPerMinute: 100000 })).key;
  });
  afterAll(async () => {
    await s.close();
    await s.db.drop();
  });
  const reap = () => s.app.get(SessionsService).reap();

  it('creates a session with defaults and reads it back', async () => {
    const r = await s.http.post('/v1/sessions').set(...auth(key)).send({ labels: { course: 'os101' } }).expect(201);
    expect(r.body).toMatchObject({ driver: 'sim', state: 'running', kernelRelease: '6.1.0-56-amd64', cpus: 2, memoryMb: 2048, clock: 'realtime' });
    expect(r.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(r.body.expiresAt) - Date.parse(r.body.createdAt)).toBe(3600_000);
    const g = await s.http.get(`/v1/sessions/${r.body.id}`).set(...auth(key)).expect(200);
    expect(g.body).toEqual(r.body);
    const txt = await s.http.get(`/v1/sessions/${r.body.id}/proc/sys/kernel/hostname`).set(...auth(key)).expect(200);
    expect(txt.text).toBe('kernelab\n');
    expect(txt.headers['content-type']).toMatch(/^text\/plain/);
    await s.http.delete(`/v1/sessions/${r.body.id}`).set(...auth(key)).expect(204);
  });

  it('lists with paging and filters by label and state', async () => {
    const a = await s.http.post('/v1/sessions').set(...auth(key)).send({ labels: { group: 'a' }, cpus: 1, memoryMb: 256 }).expect(201);
    const b = await s.http.post('/v1/sessions').set(...auth(key)).send({ labels: { group: 'b' }, cpus: 1, memoryMb: 256 }).expect(201);
    const all = await s.http.get('/v1/sessions?limit=1').set(...auth(key)).expect(200);
    expect(all.body.total).toBe(2);
    expect(all.body.items).toHaveLength(1);
    const second = await s.http.get('/v1/sessions?limit=1&offset=1').set(...auth(key)).expect(200);
    expect(second.body.items[0].id).not.toBe(all.body.items[0].id);
    const onlyA = await s.http.get('/v1/sessions?label=group=a').set(...auth(key)).expect(200);
    expect(onlyA.body.items.map((x: { id: string }) => x.id)).toEqual([a.body.id]);
    const deleted = await s.http.get('/v1/sessions?state=deleted').set(...auth(key)).expect(200);
    expect(deleted.body.total).toBe(1);
    await s.http.get('/v1/sessions?limit=0').set(...auth(key)).expect(400);
    for (const id of [a.body.id, b.body.id]) await s.http.delete(`/v1/sessions/${id}`).set(...auth(key)).expect(204);
    const gone = await s.http.get(`/v1/sessions/${a.body.id}`).set(...auth(key)).expect(200);
    expect(gone.body).toMatchObject({ state: 'deleted', stateReason: 'deleted by client' });
    await s.http.delete(`/v1/sessions/${a.body.id}`).set(...auth(key)).expect(404);
    await s.http.get(`/v1/sessions/${a.body.id}/proc/uptime`).set(...auth(key)).expect(409);
  });

  it('expires sessions at their TTL and extends them with PATCH', async () => {
    const r = await s.http.post('/v1/sessions').set(...auth(key)).send({ ttlSeconds: 120 }).expect(201);
    const keep = await s.http.post('/v1/sessions').set(...auth(key)).send({ ttlSeconds: 120 }).expect(201);
    clock.advance(100_000);
    const p = await s.http.patch(`/v1/sessions/${keep.body.id}`).set(...auth(key)).send({ ttlSeconds: 300 }).expect(200);
    expect(Date.parse(p.body.expiresAt)).toBe(clock.now() + 300_000);
    await s.http.patch(`/v1/sessions/${keep.body.id}`).set(...auth(key)).send({ ttlSeconds: 99999 }).expect(400);
    clock.advance(21_000);
    expect((await reap()).expired).toBe(1);
    const g = await s.http.get(`/v1/sessions/${r.body.id}`).set(...auth(key)).expect(200);
    expect(g.body).toMatchObject({ state: 'deleted', stateReason: 'expired' });
    await s.http.get(`/v1/sessions/${keep.body.id}/proc/uptime`).set(...auth(key)).expect(200);
    await s.http.delete(`/v1/sessions/${keep.body.id}`).set(...auth(key)).expect(204);
  });

  it('reaps sessions idle for too long', async () => {
    const r = await s.http.post('/v1/sessions').set(...auth(key)).send({}).expect(201);
    clock.advance(601_000);
    expect((await reap()).idle).toBeGreaterThanOrEqual(1);
    const g = await s.http.get(`/v1/sessions/${r.body.id}`).set(...auth(key)).expect(200);
    expect(g.body).toMatchObject({ state: 'deleted', stateReason: 'idle' });
  });

  it('enforces the concurrent-session quota and the TTL ceiling', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await s.http.post('/v1/sessions').set(...auth(key)).send({}).expect(201)).body.id);
    const r = await s.http.post('/v1/sessions').set(...auth(key)).send({}).expect(429);
    expect(r.body).toMatchObject({ statusCode: 429, code: 'SESSION_QUOTA_EXCEEDED' });
    const ttl = await s.http.post('/v1/sessions').set(...auth(key)).send({ ttlSeconds: 7201 }).expect(400);
    expect(ttl.body.code).toBe('TTL_TOO_LONG');
    for (const id of ids) await s.http.delete(`/v1/sessions/${id}`).set(...auth(key)).expect(204);
  });

  it('rate-limits a tenant with 429 and Retry-After, without touching other tenants', async () => {
    const slow = await newTenant(s, 'slow', { requestsPerMinute: 5 });
    for (let i = 0; i < 5; i++) await s.http.get('/v1/sessions').set(...auth(slow.key)).expect(200);
    const r = await s.http.get('/v1/sessions').set(...auth(slow.key)).expect(429);
    expect(r.body).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    await s.http.get('/v1/sessions').set(...auth(key)).expect(200);
  });

  it('rejects bad input with the JSON error shape', async () => {
    const cases: [object | string, number, string, string?][] = [
      ['{"cpus": 2', 400, 'INVALID_JSON'],
      [{ cpus: 'two' }, 400, 'VALIDATION_FAILED', 'cpus'],
      [{ cpus: 65 }, 400, 'VALIDATION_FAILED', 'cpus'],
      [{ memoryMb: 32 }, 400, 'VALIDATION_FAILED', 'memoryMb'],
      [{ surprise: true }, 400, 'VALIDATION_FAILED', 'surprise'],
      [{ labels: { ok: 1 } }, 400, 'VALIDATION_FAILED', 'labels'],
      [{ driver: 'vmware' }, 400, 'UNKNOWN_DRIVER', 'vmware'],
      [{ driver: 'qemu' }, 501, 'DRIVER_NOT_AVAILABLE', 'qemu'],
      [{ clock: 'sundial' }, 400, 'VALIDATION_FAILED', 'clock'],
    ];
    for (const [body, status, code, mention] of cases) {
      const req = s.http.post('/v1/sessions').set(...auth(key)).set('content-type', 'application/json');
      const r = await req.send(typeof body === 'string' ? body : JSON.stringify(body));
      expect({ body, status: r.status, code: r.body.code }).toEqual({ body, status, code });
      expect(Object.keys(r.body).sort()).toEqual(['code', 'error', 'message', 'statusCode']);
      if (mention) expect(r.body.message).toContain(mention);
    }
    const huge = await s.http
      .post('/v1/sessions')
      .set(...auth(key))
      .set('content-type', 'application/json')
      .send(JSON.stringify({ labels: { a: 'x'.repeat(2_000_000) } }));
    expect(huge.status).toBe(413);
    expect(huge.body.code).toBe('PAYLOAD_TOO_LARGE');
    // the server is still fine afterwards
    await s.http.get('/healthz').expect(200);
  });

  it('snapshots, restores and clones machines', async () => {
    const r = await s.http.post('/v1/sessions').set(...auth(key)).send({ clock: 'manual', seed: 'snap', cpus: 1, memoryMb: 256 }).expect(201);
    const id = r.body.id;
    await s.http.put(`/v1/sessions/${id}/proc/sys/vm/swappiness`).set(...auth(key)).set('content-type', 'text/plain').send('10\n').expect(204);
    const snap = await s.http.post(`/v1/sessions/${id}/snapshots`).set(...auth(key)).send({ name: 'ten' }).expect(201);
    expect(snap.body).toMatchObject({ sessionId: id, name: 'ten', driver: 'sim' });
    await s.http.put(`/v1/sessions/${id}/proc/sys/vm/swappiness`).set(...auth(key)).set('content-type', 'text/plain').send('99\n').expect(204);
    expect((await s.http.get(`/v1/sessions/${id}/proc/sys/vm/swappiness`).set(...auth(key))).text).toBe('99\n');
    const list = await s.http.get(`/v1/sessions/${id}/snapshots`).set(...auth(key)).expect(200);
    expect(list.body.map((x: { snapshotId: string }) => x.snapshotId)).toEqual([snap.body.snapshotId]);
    await s.http.post(`/v1/sessions/${id}/restore`).set(...auth(key)).send({ snapshotId: snap.body.snapshotId }).expect(200);
    expect((await s.http.get(`/v1/sessions/${id}/proc/sys/vm/swappiness`).set(...auth(key))).text).toBe('10\n');
    const clone = await s.http.post('/v1/sessions').set(...auth(key)).send({ fromSnapshot: snap.body.snapshotId }).expect(201);
    expect(clone.body).toMatchObject({ cpus: 1, memoryMb: 256, clock: 'manual', seed: 'snap' });
    expect((await s.http.get(`/v1/sessions/${clone.body.id}/proc/sys/vm/swappiness`).set(...auth(key))).text).toBe('10\n');
    await s.http.post('/v1/sessions').set(...auth(key)).send({ fromSnapshot: '00000000-0000-4000-8000-000000000000' }).expect(404);
    const other = await newTenant(s, 'thief');
    await s.http.post('/v1/sessions').set(...auth(other.key)).send({ fromSnapshot: snap.body.snapshotId }).expect(404);
    for (const x of [id, clone.body.id]) await s.http.delete(`/v1/sessions/${x}`).set(...auth(key)).expect(204);
  });

  it('advances a manual clock only through the API', async () => {
    const r = await s.http.post('/v1/sessions').set(...auth(key)).send({ clock: 'manual' }).expect(201);
    // uptime starts where the kernel's boot log ends
    const booted = (await s.http.post(`/v1/sessions/${r.body.id}/clock/advance`).set(...auth(key)).send({ ns: 0 }).expect(200)).body.uptimeNs as number;
    const a = await s.http.post(`/v1/sessions/${r.body.id}/clock/advance`).set(...auth(key)).send({ ns: 2_500_000_000 }).expect(200);
    expect(a.body).toEqual({ clock: 'manual', uptimeNs: booted + 2_500_000_000 });
    clock.advance(60_000);
    const b = await s.http.post(`/v1/sessions/${r.body.id}/clock/advance`).set(...auth(key)).send({ ns: 0 }).expect(200);
    expect(b.body.uptimeNs).toBe(booted + 2_500_000_000);
    await s.http.post(`/v1/sessions/${r.body.id}/clock/advance`).set(...auth(key)).send({ ns: -1 }).expect(400);
    const rt = await s.http.post('/v1/sessions').set(...auth(key)).send({}).expect(201);
    const bad = await s.http.post(`/v1/sessions/${rt.body.id}/clock/advance`).set(...auth(key)).send({ ns: 1 }).expect(400);
    expect(bad.body.code).toBe('EINVAL');
    for (const x of [r.body.id, rt.body.id]) await s.http.delete(`/v1/sessions/${x}`).set(...auth(key)).expect(204);
  });
});
