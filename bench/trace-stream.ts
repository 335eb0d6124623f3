/**
 * trace_pipe over socket.io: lines per second one client receives while the
 * machine runs commands under the function tracer (target ≥ 50,000 lines/s),
 * event-to-client latency of trace_marker lines (target p99 ≤ 50 ms), and the
 * server's RSS while a second client is stalled (target: flat — the server
 * drops and counts instead of buffering).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config/configuration';
import { fmt, line, nowMs, summary } from './util';

const WORKLOAD = 'for i in 1 2 3 4 5 6 7 8 9 10; do cat /proc/meminfo > /dev/null; done';

export async function main(): Promise<void> {
  if (process.argv[2] === '--stalled-client') return stalledClient();
  console.log('# trace_pipe over socket.io');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kernelab-bench-'));
  // the server's default checkpoint policy (every 100 journaled ops, at most once per 10 s per session) unless
  // BENCH_CHECKPOINT_EVERY / BENCH_CHECKPOINT_MIN_INTERVAL_MS say otherwise: checkpoints of a machine with a full
  // 8 MiB trace buffer run during the measurement (BENCH_CHECKPOINT_MIN_INTERVAL_MS=0: one every 100 ops, the worst case)
  const app = await createApp({
    config: loadConfig({
      LOG_LEVEL: 'silent',
      KERNELAB_DATA_DIR: dir,
      KERNELAB_ADMIN_TOKEN: 'bench',
      KERNELAB_SWAGGER: 'false',
      KERNELAB_DEFAULT_RATE_LIMIT: '100000000',
      ...(process.env.BENCH_CHECKPOINT_EVERY ? { KERNELAB_CHECKPOINT_EVERY: process.env.BENCH_CHECKPOINT_EVERY } : {}),
      ...(process.env.BENCH_CHECKPOINT_MIN_INTERVAL_MS ? { KERNELAB_CHECKPOINT_MIN_INTERVAL_MS: process.env.BENCH_CHECKPOINT_MIN_INTERVAL_MS } : {}),
    }),
  });
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const key = ((await import(path.join(dir, 'credentials.json'))) as { apiKey: string }).apiKey;
  const H = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const sid = ((await (await fetch(`${url}/v1/sessions`, { method: 'POST', headers: H, body: '{"clock":"manual"}' })).json()) as { id: string }).id;
  const put = (p: string, body: string): Promise<Response> => fetch(`${url}/v1/sessions/${sid}/sys/kernel/tracing/${p}`, { method: 'PUT', headers: { ...H, 'content-type': 'text/plain' }, body });
  await put('buffer_size_kb', '8192');
  await put('current_tracer', 'function');
  const exec = async (): Promise<void> => {
    const r = await fetch(`${url}/v1/sessions/${sid}/exec`, { method: 'POST', headers: H, body: JSON.stringify({ command: WORKLOAD }) });
    if (r.status !== 200) throw new Error(`exec ${r.status}`);
    await r.arrayBuffer();
  };

  const client: Socket = io(`${url}/v1`, { auth: { token: key }, transports: ['websocket'], forceNew: true });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  let received = 0;
  const sent = new Map<string, number>();
  const latency: number[] = [];
  let dropped = 0;
  client.on('dropped', (d: { count: number }) => (dropped += d.count));
  const onLine = (text: string): void => {
    received++;
    if (!text.includes('kernelab-mark-')) return;
    const m = /kernelab-mark-(\d+)/.exec(text);
    const t = m ? sent.get(m[1]) : undefined;
    if (t !== undefined) latency.push(nowMs() - t);
  };
  client.on('event', (e: { stream: string; data: { text: string } }) => e.stream === 'trace_pipe' && onLine(e.data.text));
  client.on('batch', (b: { stream: string; events: { data: { text: string } }[] }) => {
    if (b.stream === 'trace_pipe') for (const e of b.events) onLine(e.data.text);
  });
  await client.emitWithAck('subscribe', { sessionId: sid, stream: 'trace_pipe', batch: true });
  for (let i = 0; i < 20; i++) await exec();

  // throughput: a workload driver keeps the machine producing lines for a few seconds
  const seconds = Number(process.env.BENCH_SECONDS ?? 4);
  received = 0;
  const t0 = nowMs();
  let marks = 0;
  while (nowMs() - t0 < seconds * 1000) {
    await exec();
    const id = String(marks++);
    sent.set(id, nowMs());
    await put('trace_marker', `kernelab-mark-${id}`);
  }
  await new Promise((r) => setTimeout(r, 200));
  const rate = received / ((nowMs() - t0) / 1000);
  line('trace_pipe lines to one socket.io client (target ≥ 50,000/s)', `${rate.toFixed(0)} lines/s`);
  const l = summary(latency);
  line('trace_marker write → client, p50', fmt(l.p50));
  line('trace_marker write → client, p99 (target ≤ 50 ms)', fmt(l.p99));
  line('events the fast client lost', String(dropped));

  // a stalled consumer: a child process subscribes and stops reading; the server must stay flat.
  // The same workload is run first without it, as the baseline of what the workload itself costs.
  const load = async (): Promise<{ before: number; after: number; peak: number; heapBefore: number; heapAfter: number }> => {
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const before = process.memoryUsage().rss;
    const t1 = nowMs();
    let peak = before;
    let n = 0;
    while (nowMs() - t1 < seconds * 1000) {
      await exec();
      if (++n % 20 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    global.gc?.();
    return { before, after: process.memoryUsage().rss, peak, heapBefore, heapAfter: process.memoryUsage().heapUsed };
  };
  const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const base = await load();
  const child: ChildProcess = fork(__filename, ['--stalled-client'], { execArgv: ['-r', 'ts-node/register/transpile-only'], env: { ...process.env, URL: url, KEY: key, SID: sid }, stdio: 'inherit' });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  const stalled = await load();
  line(`server RSS over ${seconds}s of workload, no stalled client`, `${mib(base.before)} -> ${mib(base.after)} (peak ${mib(base.peak)})`);
  line(`server RSS over ${seconds}s of workload, one stalled client`, `${mib(stalled.before)} -> ${mib(stalled.after)} (peak ${mib(stalled.peak)})`);
  line('RSS growth with the stalled client minus without (target: ~0)', mib(stalled.after - stalled.before - (base.after - base.before)));
  // RSS follows what V8 keeps from the OS; the live heap after a full GC is what the server actually holds
  line(`live heap after GC, no stalled client`, `${mib(base.heapBefore)} -> ${mib(base.heapAfter)}`);
  line(`live heap after GC, one stalled client`, `${mib(stalled.heapBefore)} -> ${mib(stalled.heapAfter)}`);
  line('live heap growth with the stalled client minus without (target: ~0)', mib(stalled.heapAfter - stalled.heapBefore - (base.heapAfter - base.heapBefore)));
  child.kill('SIGKILL');
  client.close();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}

/** The stalled consumer: subscribes, reports, then blocks its event loop so it reads nothing more. */
async function stalledClient(): Promise<void> {
  const c = io(`${process.env.URL}/v1`, { auth: { token: process.env.KEY }, transports: ['websocket'], forceNew: true });
  await new Promise<void>((resolve) => c.once('connect', () => resolve()));
  await c.emitWithAck('subscribe', { sessionId: process.env.SID, stream: 'trace_pipe', batch: true });
  process.send?.('ready');
  const sab = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(sab, 0, 0, 1000);
}

if (require.main === module) void main().then(() => process.argv[2] !== '--stalled-client' && process.exit(0));
