import type { INestApplication } from '@nestjs/common';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { io, type Socket } from 'socket.io-client';
import request from 'supertest';
import { createApp } from '../src/app';
import type { Clock } from '../src/common/clock';
import { loadConfig } from '../src/config/configuration';
import { PGLITE_TEMPLATE } from './global-setup';

/**
 * E2E tests run against PGlite by default, and against the PostgreSQL named by
 * E2E_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test) when set:
 * each test file then gets a database of its own, dropped at the end.
 */
export const USING_POSTGRES = !!process.env.E2E_DATABASE_URL;

export interface TestDb {
  env: Record<string, string>;
  dataDir: string;
  drop(): Promise<void>;
}

export async function makeTestDb(): Promise<TestDb> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kernelab-e2e-'));
  if (USING_POSTGRES) {
    const base = new URL(process.env.E2E_DATABASE_URL as string);
    const name = `kl_e2e_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const admin = new Client({ connectionString: base.toString() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(base.toString());
    url.pathname = `/${name}`;
    return {
      env: { DATABASE_URL: url.toString(), KERNELAB_DATA_DIR: dataDir },
      dataDir,
      drop: async () => {
        const c = new Client({ connectionString: base.toString() });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  cpSync(PGLITE_TEMPLATE, path.join(dataDir, 'pglite'), { recursive: true });
  return { env: { KERNELAB_DATA_DIR: dataDir }, dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
}

export interface TestServer {
  app: INestApplication;
  url: string;
  http: ReturnType<typeof request>;
  adminToken: string;
  /** API key of the bootstrap tenant "default" */
  tenantKey: string;
  db: TestDb;
  close(): Promise<void>;
}

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export async function startServer(opts: { env?: Record<string, string>; clock?: Clock; db?: TestDb } = {}): Promise<TestServer> {
  const db = opts.db ?? (await makeTestDb());
  const config = loadConfig({ LOG_LEVEL: 'silent', KERNELAB_ADMIN_TOKEN: ADMIN_TOKEN, PORT: '0', ...db.env, ...opts.env });
  const app = await createApp({ config, clock: opts.clock });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const creds = JSON.parse(readFileSync(path.join(db.dataDir, 'credentials.json'), 'utf8')) as { apiKey: string };
  return {
    app,
    url,
    http: request(url),
    adminToken: config.KERNELAB_ADMIN_TOKEN ?? '',
    tenantKey: creds.apiKey,
    db,
    close: async () => {
      await app.close();
    },
  };
}

/** Creates a tenant (admin route) and returns its id and a fresh key. */
export async function newTenant(s: TestServer, name: string, limits?: Record<string, number>): Promise<{ id: string; key: string }> {
  const t = await s.http.post('/v1/tenants').set('authorization', `Bearer ${s.adminToken}`).send({ name, limits }).expect(201);
  const k = await s.http.post(`/v1/tenants/${t.body.id}/api-keys`).set('authorization', `Bearer ${s.adminToken}`).send({}).expect(201);
  return { id: t.body.id as string, key: k.body.key as string };
}

export const auth = (key: string): [string, string] => ['authorization', `Bearer ${key}`];

export function connect(s: TestServer, token?: string): Promise<Socket> {
  const socket = io(`${s.url}/v1`, { auth: token === undefined ? {} : { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (e) => {
      socket.close();
      reject(e);
    });
  });
}

export function emitAck<T = unknown>(socket: Socket, event: string, payload: unknown): Promise<T> {
  return socket.timeout(5000).emitWithAck(event, payload) as Promise<T>;
}

/** Collects `event` messages until `n` arrived (or timeout). */
export function collect(socket: Socket, n: number, timeoutMs = 5000): Promise<Record<string, unknown>[]> {
  const got: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      socket.off('event', on);
      reject(new Error(`timeout: got ${got.length}/${n} events: ${JSON.stringify(got).slice(0, 500)}`));
    }, timeoutMs);
    const on = (e: Record<string, unknown>): void => {
      got.push(e);
      if (got.length >= n) {
        clearTimeout(t);
        socket.off('event', on);
        resolve(got);
      }
    };
    socket.on('event', on);
  });
}

export interface Suite {
  s: TestServer;
  /** two tenants: the owner of the sessions and an intruder */
  a: { id: string; key: string };
  b: { id: string; key: string };
  /** a socket of tenant a (closed after the suite) */
  socket(key?: string): Promise<Socket>;
}

/**
 * The usual e2e fixture: a server on its own database and two tenants,
 * started before the describe block's tests and torn down after them.
 * Fields are filled in beforeAll: read them inside tests.
 */
export function useServer(prefix: string): Suite {
  const sockets: Socket[] = [];
  const suite = { sockets } as unknown as Suite & { sockets: Socket[] };
  suite.socket = async (key?: string) => {
    const x = await connect(suite.s, key ?? suite.a.key);
    sockets.push(x);
    return x;
  };
  beforeAll(async () => {
    suite.s = await startServer();
    suite.a = await newTenant(suite.s, `${prefix}-a`);
    suite.b = await newTenant(suite.s, `${prefix}-b`);
  });
  afterAll(async () => {
    sockets.forEach((x) => x.close());
    await suite.s.close();
    await suite.s.db.drop();
  });
  return suite;
}
