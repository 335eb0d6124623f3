/**
 * exec: `cat /proc/meminfo | grep Mem` run in-process (target p50 ≤ 1 ms) and
 * over HTTP (POST /exec, next to GET /healthz of the same server in the same
 * run), and the total time of a 1,000-command script.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config/configuration';
import { SimMachine } from '../src/kernel/sim-machine';
import { fmt, line, nowMs, summary } from './util';

const CMD = 'cat /proc/meminfo | grep Mem';

export async function main(): Promise<void> {
  console.log('# exec');
  const m = SimMachine.boot({ cpus: 2, memoryMb: 2048, seed: 'bench', hostname: 'kernelab', clock: 'manual' }, { wallMs: () => 0 });
  const op = { type: 'exec' as const, command: CMD };
  for (let i = 0; i < 200; i++) await m.apply(op);
  const N = Number(process.env.BENCH_N ?? 2000);
  const samples: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = nowMs();
    await m.apply(op);
    samples.push(nowMs() - t);
  }
  const s = summary(samples);
  line(`in-process exec of '${CMD}' p50 (target ≤ 1 ms)`, fmt(s.p50));
  line('in-process exec p99', fmt(s.p99));

  const script = Array.from({ length: 1000 }, (_, i) => (i % 4 === 0 ? `echo ${i} > /tmp/f${i % 10}` : i % 4 === 1 ? 'cat /proc/loadavg > /dev/null' : i % 4 === 2 ? `x=$((x + ${i}))` : 'true')).join('\n');
  let t = nowMs();
  const r = await m.apply({ type: 'exec', command: script });
  const scriptMs = nowMs() - t;
  if ((r.value as { exitCode: number }).exitCode !== 0) throw new Error('the 1,000-command script failed');
  line('1,000-command script, total', fmt(scriptMs));
  line('1,000-command script, per command', fmt(scriptMs / 1000));

  const dir = mkdtempSync(path.join(os.tmpdir(), 'kernelab-bench-'));
  const app = await createApp({ config: loadConfig({ LOG_LEVEL: 'silent', KERNELAB_DATA_DIR: dir, KERNELAB_ADMIN_TOKEN: 'bench', KERNELAB_SWAGGER: 'false', KERNELAB_DEFAULT_RATE_LIMIT: '100000000' }) });
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const creds = (await import(path.join(dir, 'credentials.json'))) as { apiKey: string };
  const H = { authorization: `Bearer ${creds.apiKey}`, 'content-type': 'application/json' };
  const sid = ((await (await fetch(`${url}/v1/sessions`, { method: 'POST', headers: H, body: '{}' })).json()) as { id: string }).id;
  const body = JSON.stringify({ command: CMD });
  const post = async (): Promise<void> => {
    const res = await fetch(`${url}/v1/sessions/${sid}/exec`, { method: 'POST', headers: H, body });
    if (res.status !== 200) throw new Error(`exec answered ${res.status}`);
    await res.arrayBuffer();
  };
  const R = Number(process.env.BENCH_HTTP_N ?? 500);
  for (let i = 0; i < 50; i++) await post();
  const http: number[] = [];
  for (let i = 0; i < R; i++) {
    t = nowMs();
    await post();
    http.push(nowMs() - t);
  }
  const health: number[] = [];
  for (let i = 0; i < R; i++) {
    t = nowMs();
    await (await fetch(`${url}/healthz`)).arrayBuffer();
    health.push(nowMs() - t);
  }
  const h = summary(http);
  const hz = summary(health);
  line('POST /v1/sessions/{id}/exec p50 (journaled, PGlite)', fmt(h.p50));
  line('POST /v1/sessions/{id}/exec p99', fmt(h.p99));
  line('GET /healthz p50 (same server, same run)', fmt(hz.p50));
  line('ratio exec / healthz p50', (h.p50 / hz.p50).toFixed(2));
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}

if (require.main === module) void main();
