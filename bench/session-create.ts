/**
 * Session create latency: in-process (SessionsService.create) and over HTTP,
 * on PGlite and, when BENCH_DATABASE_URL is set, on PostgreSQL.
 * Targets (issue 2): p50 ≤ 10 ms over HTTP, ≤ 5 ms in-process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config/configuration';
import { Tenant } from '../src/database/entities';
import { SessionsService } from '../src/sessions/sessions.service';
import { DataSource } from 'typeorm';
import { fmt, line, nowMs, summary } from './util';

const N = Number(process.env.BENCH_N ?? 300);

async function run(label: string, env: Record<string, string>): Promise<void> {
  const config = loadConfig({ LOG_LEVEL: 'silent', KERNELAB_ADMIN_TOKEN: 'bench-admin', KERNELAB_SWAGGER: 'false', ...env });
  const app = await createApp({ config });
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const ds = app.get(DataSource);
  const tenants = ds.getRepository(Tenant);
  const tenant = await tenants.save(tenants.create({ name: `bench-${Date.now()}`, limits: { maxSessions: 1_000_000, maxTtlSeconds: 86400, requestsPerMinute: 10_000_000 } }));
  const key = (
    (await (
      await fetch(`${url}/v1/tenants/${tenant.id}/api-keys`, { method: 'POST', headers: { authorization: 'Bearer bench-admin', 'content-type': 'application/json' }, body: '{}' })
    ).json()) as { key: string }
  ).key;
  const svc = app.get(SessionsService);
  // warm-up
  for (let i = 0; i < 20; i++) await svc.create(tenant, { cpus: 2, memoryMb: 2048 });
  const inproc: number[] = [];
  let t0 = nowMs();
  for (let i = 0; i < N; i++) {
    const t = nowMs();
    await svc.create(tenant, { cpus: 2, memoryMb: 2048 });
    inproc.push(nowMs() - t);
  }
  const inprocRate = (N / (nowMs() - t0)) * 1000;
  const http: number[] = [];
  t0 = nowMs();
  for (let i = 0; i < N; i++) {
    const t = nowMs();
    const r = await fetch(`${url}/v1/sessions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{"cpus":2,"memoryMb":2048}' });
    if (r.status !== 201) throw new Error(`create failed: ${r.status} ${await r.text()}`);
    await r.arrayBuffer();
    http.push(nowMs() - t);
  }
  const httpRate = (N / (nowMs() - t0)) * 1000;
  const a = summary(inproc);
  const b = summary(http);
  line(`[${label}] in-process create p50 / p99`, `${fmt(a.p50)} / ${fmt(a.p99)}   (${inprocRate.toFixed(0)} creates/s, n=${N})`);
  line(`[${label}] HTTP create p50 / p99`, `${fmt(b.p50)} / ${fmt(b.p99)}   (${httpRate.toFixed(0)} creates/s, n=${N})`);
  await app.close();
}

export async function main(): Promise<void> {
  console.log(`# session create (N=${N} each)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kernelab-bench-'));
  try {
    await run('PGlite', { KERNELAB_DATA_DIR: dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const pg = process.env.BENCH_DATABASE_URL;
  if (pg) {
    const name = `kl_bench_${process.pid}`;
    const admin = new Client({ connectionString: pg });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(pg);
    url.pathname = `/${name}`;
    const d2 = mkdtempSync(path.join(os.tmpdir(), 'kernelab-bench-'));
    try {
      await run('PostgreSQL', { DATABASE_URL: url.toString(), KERNELAB_DATA_DIR: d2 });
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
      rmSync(d2, { recursive: true, force: true });
    }
  } else {
    console.log('(set BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to measure PostgreSQL too)');
  }
}

if (require.main === module) void main();
