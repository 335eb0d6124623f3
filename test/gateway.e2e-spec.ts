import type { Socket } from 'socket.io-client';
import { auth, collect, connect, emitAck, newTenant, startServer, type TestServer } from './helpers';

describe('WebSocket gateway (e2e)', () => {
  let s: TestServer;
  let a: { id: string; key: string };
  let b: { id: string; key: string };
  const sockets: Socket[] = [];
  beforeAll(async () => {
    s = await startServer();
    a = await newTenant(s, 'ws-a');
    b = await newTenant(s, 'ws-b');
  });
  afterAll(async () => {
    sockets.forEach((x) => x.close());
    await s.close();
    await s.db.drop();
  });
  const open = async (key?: string): Promise<Socket> => {
    const x = await connect(s, key);
    sockets.push(x);
    return x;
  };

  it('refuses a handshake without a valid key, with the REST error shape', async () => {
    await expect(connect(s)).rejects.toMatchObject({ message: 'UNAUTHORIZED', data: { statusCode: 401, code: 'UNAUTHORIZED' } });
    await expect(connect(s, 'klk_wrong')).rejects.toMatchObject({ data: { statusCode: 401, code: 'UNAUTHORIZED' } });
  });

  it("answers 404 for another tenant's session, exactly as for a missing one, and leaks no events", async () => {
    const sid = (await s.http.post('/v1/sessions').set(...auth(a.key)).send({}).expect(201)).body.id;
    const intruder = await open(b.key);
    const foreign = await emitAck(intruder, 'subscribe', { sessionId: sid, stream: 'session' });
    const missing = await emitAck(intruder, 'subscribe', { sessionId: '00000000-0000-4000-8000-000000000000', stream: 'session' });
    expect(foreign).toEqual({ ok: false, error: { statusCode: 404, error: 'Not Found', message: 'session not found', code: 'NOT_FOUND' } });
    expect(missing).toEqual(foreign);
    const leaked: unknown[] = [];
    intruder.on('event', (e) => leaked.push(e));
    const owner = await open(a.key);
    expect(await emitAck(owner, 'subscribe', { sessionId: sid, stream: 'session' })).toMatchObject({ ok: true, stream: 'session', sessionId: sid });
    const got = collect(owner, 1);
    await s.http.patch(`/v1/sessions/${sid}`).set(...auth(a.key)).send({ ttlSeconds: 100 }).expect(200);
    expect((await got)[0]).toMatchObject({ sessionId: sid, stream: 'session', type: 'updated' });
    expect(leaked).toEqual([]);
  });

  it('streams lifecycle events and resumes from a sequence number without gaps or duplicates', async () => {
    const sid = (await s.http.post('/v1/sessions').set(...auth(a.key)).send({}).expect(201)).body.id;
    for (const ttl of [100, 200]) await s.http.patch(`/v1/sessions/${sid}`).set(...auth(a.key)).send({ ttlSeconds: ttl }).expect(200);
    const c = await open(a.key);
    const backlog = collect(c, 3);
    expect(await emitAck(c, 'subscribe', { sessionId: sid, stream: 'session', fromSeq: 1 })).toMatchObject({ ok: true });
    const events = await backlog;
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(events[0]).toMatchObject({ type: 'state', data: { state: 'running' } });
    const live = collect(c, 1);
    await s.http.delete(`/v1/sessions/${sid}`).set(...auth(a.key)).expect(204);
    expect((await live)[0]).toMatchObject({ seq: 4, type: 'state', data: { state: 'deleted' } });
    const c2 = await open(a.key);
    const resumed = collect(c2, 1);
    await emitAck(c2, 'subscribe', { sessionId: sid, stream: 'session', fromSeq: 4 });
    expect((await resumed).map((e) => e.seq)).toEqual([4]);
  });

  it('validates subscribe messages and unsubscribes', async () => {
    const sid = (await s.http.post('/v1/sessions').set(...auth(a.key)).send({}).expect(201)).body.id;
    const c = await open(a.key);
    expect(await emitAck(c, 'subscribe', { sessionId: sid, stream: 'session', fromSeq: -1 })).toMatchObject({ ok: false, error: { statusCode: 400, code: 'VALIDATION_FAILED' } });
    expect(await emitAck(c, 'subscribe', { sessionId: sid })).toMatchObject({ ok: false, error: { statusCode: 400 } });
    expect(await emitAck(c, 'subscribe', { sessionId: sid, stream: 'nope' })).toMatchObject({ ok: false, error: { statusCode: 400, code: 'EINVAL' } });
    expect(await emitAck(c, 'subscribe', 'garbage')).toMatchObject({ ok: false, error: { statusCode: 400 } });
    expect(await emitAck(c, 'subscribe', { sessionId: sid, stream: 'session' })).toMatchObject({ ok: true });
    expect(await emitAck(c, 'unsubscribe', { sessionId: sid, stream: 'session' })).toMatchObject({ ok: true });
    expect(await emitAck(c, 'unsubscribe', { sessionId: sid, stream: 'session' })).toMatchObject({ ok: false, error: { statusCode: 404 } });
    const quiet: unknown[] = [];
    c.on('event', (e) => quiet.push(e));
    await s.http.patch(`/v1/sessions/${sid}`).set(...auth(a.key)).send({ ttlSeconds: 50 }).expect(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(quiet).toEqual([]);
  });
});

describe('session stream expiry warning (e2e)', () => {
  it('warns subscribers before a session expires', async () => {
    const { SessionsService } = await import('../src/sessions/sessions.service');
    const s = await startServer({ env: { KERNELAB_EXPIRY_WARNING_SECONDS: '60' } });
    try {
      const sid = (await s.http.post('/v1/sessions').set(...auth(s.tenantKey)).send({ ttlSeconds: 30 }).expect(201)).body.id;
      const c = await connect(s, s.tenantKey);
      await emitAck(c, 'subscribe', { sessionId: sid, stream: 'session' });
      const got = collect(c, 1);
      await s.app.get(SessionsService).reap();
      expect((await got)[0]).toMatchObject({ type: 'expiring', data: { secondsLeft: expect.any(Number) } });
      c.close();
    } finally {
      await s.close();
      await s.db.drop();
    }
  });
});
