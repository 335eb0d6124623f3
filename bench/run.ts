/**
 * `npm run bench [-- name ...]`: runs the benchmark scripts and prints their figures.
 * Names: session-create, idle-machines, procfs, bpftrace, trace (default: all).
 */
const BENCHES: Record<string, () => Promise<{ main: () => Promise<void> }>> = {
  'session-create': () => import('./session-create'),
  'idle-machines': () => import('./idle-machines'),
  procfs: () => import('./procfs'),
  modules: () => import('./modules'),
  exec: () => import('./exec'),
  'trace-stream': () => import('./trace-stream'),
  'trace-isolation': () => import('./trace-isolation'),
  bpftrace: () => import('./bpftrace'),
  trace: () => import('./trace'),
};

async function run(): Promise<void> {
  const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const pick = names.length ? names : Object.keys(BENCHES);
  for (const n of pick) {
    const load = BENCHES[n];
    if (!load) {
      console.error(`unknown benchmark '${n}'; known: ${Object.keys(BENCHES).join(', ')}`);
      process.exit(2);
    }
    await (await load()).main();
    console.log('');
  }
  process.exit(0);
}

void run();
