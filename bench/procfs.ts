/**
 * /proc/meminfo: render in-process (target ≤ 20 µs) and over REST as a ratio
 * to the same server's /healthz throughput in the same run (target ≥ 0.5).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config/configuration';
import { SimMachine } from '../src/kernel/sim-machine';
import { fmt, line, nowMs } from './util';

async function throughput(n: number, f: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 50; i++) await f();
  const t = nowMs();
  for (let i = 0; i < n; i++) await f();
  return (n / (nowMs() - t)) * 1000;
}

export async function main(): Promise<void> {
  console.log('# /proc/meminfo');
  const m = SimMachine.boot({ cpus: 2, memoryMb: 2048, seed: 'bench', hostname: 'kernelab', clock: 'manual' }, { wallMs: () => 0 });
  const k = m.kernel;
  const ctx = k.rootCtx();
  const N = 20_000;
  for (let i = 0; i < 2000; i++) k.vfs.readFile(ctx, '/proc/meminfo');
  let t = nowMs();
  for (let i = 0; i < N; i++) k.vfs.readFile(ctx, '/proc/meminfo');
  line('in-process render of /proc/meminfo (VFS path walk + render)', fmt((nowMs() - t) / N));

  const dir = mkdtempSync(path.join(os.tmpdir(), 'kernelab-bench-'));
  const app = await createApp({ config: loadConfig({ LOG_LEVEL: 'silent', KERNELAB_DATA_DIR: dir, KERNELAB_ADMIN_TOKEN: 'bench', KERNELAB_SWAGGER: 'false', KERNELAB_DEFAULT_RATE_LIMIT: '100000000' }) });
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const creds = (await import(path.join(dir, 'credentials.json'))) as { apiKey: string };
  const H = { authorization: `Bearer ${creds.apiKey}` };
  const sid = ((await (await fetch(`${url}/v1/sessions`, { method: 'POST', headers: { ...H, 'content-type': 'application/json' }, body: '{}' })).json()) as { id: string }).id;
  const R = 2000;
  const health = await throughput(R, async () => (await fetch(`${url}/healthz`)).arrayBuffer());
  const meminfo = await throughput(R, async () => (await fetch(`${url}/v1/sessions/${sid}/proc/meminfo`, { headers: H })).arrayBuffer());
  line('GET /healthz', `${health.toFixed(0)} req/s`);
  line('GET /v1/sessions/{id}/proc/meminfo', `${meminfo.toFixed(0)} req/s`);
  line('ratio meminfo / healthz (target ≥ 0.5)', (meminfo / health).toFixed(2));
  t = nowMs();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}

if (require.main === module) void main();
