/**
 * Does tracing one session slow another? Session B's request latency (a
 * /proc read and an exec) is measured three times in one server process:
 * with session A idle, with A running a workload untraced, and with A running
 * the same workload under the function tracer while a socket.io client
 * streams A's trace_pipe. The figure that matters is the ratio of the last two
 * (target: ~1): what A's tracing adds to B, beyond A's work itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { io } from 'socket.io-client';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config/configuration';
import { fmt, line, nowMs, summary } from './util';

const WORKLOAD = 'for i in 1 2 3 4 5 6 7 8 9 10; do cat /proc/meminfo > /dev/null; done';

export async function main(): Promise<void> {
  console.log('# tracing one session, latency of another');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kernelab-bench-'));
  const app = await createApp({
    config: loadConfig({ LOG_LEVEL: 'silent', KERNELAB_DATA_DIR: dir, KERNELAB_ADMIN_TOKEN: 'bench', KERNELAB_SWAGGER: 'false', KERNELAB_DEFAULT_RATE_LIMIT: '100000000' }),
  });
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const key = ((await import(path.join(dir, 'credentials.json'))) as { apiKey: string }).apiKey;
  const H = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const create = async (): Promise<string> =>
    ((await (await fetch(`${url}/v1/sessions`, { method: 'POST', headers: H, body: '{"clock":"manual"}' })).json()) as { id: string }).id;
  const a = await create();
  const b = await create();
  const exec = async (sid: string, command: string): Promise<void> => {
    const r = await fetch(`${url}/v1/sessions/${sid}/exec`, { method: 'POST', headers: H, body: JSON.stringify({ command }) });
    if (r.status !== 200) throw new Error(`exec ${r.status}`);
    await r.arrayBuffer();
  };
  const read = async (sid: string, p: string): Promise<void> => {
    const r = await fetch(`${url}/v1/sessions/${sid}/${p}`, { headers: H });
    if (r.status !== 200) throw new Error(`read ${r.status}`);
    await r.arrayBuffer();
  };
  const seconds = Number(process.env.BENCH_SECONDS ?? 3);

  /** B's latencies while `background` keeps A busy */
  const measure = async (background?: () => Promise<void>): Promise<{ read: number[]; exec: number[]; aOps: number }> => {
    let stop = false;
    let aOps = 0;
    const bg = (async () => {
      while (background && !stop) {
        await background();
        aOps++;
      }
    })();
    const out = { read: [] as number[], exec: [] as number[], aOps: 0 };
    const t0 = nowMs();
    while (nowMs() - t0 < seconds * 1000) {
      let t = nowMs();
      await read(b, 'proc/meminfo');
      out.read.push(nowMs() - t);
      t = nowMs();
      await exec(b, 'cat /proc/loadavg');
      out.exec.push(nowMs() - t);
    }
    stop = true;
    await bg;
    out.aOps = aOps;
    return out;
  };
  for (let i = 0; i < 10; i++) await exec(b, 'cat /proc/loadavg');

  const idle = await measure();
  const busy = await measure(() => exec(a, WORKLOAD));
  const put = (p: string, body: string): Promise<Response> =>
    fetch(`${url}/v1/sessions/${a}/sys/kernel/tracing/${p}`, { method: 'PUT', headers: { ...H, 'content-type': 'text/plain' }, body });
  await put('buffer_size_kb', '8192');
  await put('current_tracer', 'function');
  const client = io(`${url}/v1`, { auth: { token: key }, transports: ['websocket'], forceNew: true });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  let lines = 0;
  client.on('batch', (m: { events: unknown[] }) => (lines += m.events.length));
  client.on('event', () => lines++);
  await client.emitWithAck('subscribe', { sessionId: a, stream: 'trace_pipe', batch: true });
  const traced = await measure(() => exec(a, WORKLOAD));

  const show = (label: string, r: { read: number[]; exec: number[]; aOps: number }): { read: number; exec: number } => {
    const rd = summary(r.read);
    const ex = summary(r.exec);
    line(`B: GET /proc/meminfo p50 / p99, ${label}`, `${fmt(rd.p50)} / ${fmt(rd.p99)}`);
    line(`B: exec 'cat /proc/loadavg' p50 / p99, ${label}`, `${fmt(ex.p50)} / ${fmt(ex.p99)}${r.aOps ? `  (A ran ${r.aOps} workloads)` : ''}`);
    return { read: rd.p50, exec: ex.p50 };
  };
  const i0 = show('A idle', idle);
  const i1 = show('A busy, untraced', busy);
  const i2 = show('A busy, traced + streamed', traced);
  line('trace_pipe lines streamed from A meanwhile', String(lines));
  line('B read p50 ratio: A traced / A untraced (target ~1)', (i2.read / i1.read).toFixed(2));
  line('B exec p50 ratio: A traced / A untraced (target ~1)', (i2.exec / i1.exec).toFixed(2));
  line('B exec p50 ratio: A traced / A idle', (i2.exec / i0.exec).toFixed(2));
  client.close();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}

if (require.main === module) void main().then(() => process.exit(0));
