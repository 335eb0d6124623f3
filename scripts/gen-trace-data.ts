/**
 * Generates src/kernel/data/trace/ from the Linux 6.1 ground truth (tracefs):
 * the static texts of tracefs (README, available_tracers, trace_clock, options,
 * header_event/header_page), the available_events list, the event formats the
 * reference captured, and the available_filter_functions set.
 *
 *   npx ts-node --transpile-only scripts/gen-trace-data.ts [referenceDir]
 *
 * The build never reads ../shared: the output is committed.
 */
import { readFileSync, readdirSync, writeFileSync } from 'fs';
import { join, resolve } from 'path';

const ref = resolve(process.argv[2] ?? join(__dirname, '../../shared/reference/linux-6.1'));
const dir = join(ref, 'tracefs');
const outDir = resolve(__dirname, '../src/kernel/data/trace');
const read = (name: string): string => readFileSync(join(dir, name), 'utf8');

const formats: Record<string, string> = {};
for (const f of readdirSync(join(dir, 'formats')).sort()) {
  if (!f.endsWith('.format')) continue;
  const text = readFileSync(join(dir, 'formats', f), 'utf8');
  const name = /^name: (\S+)$/m.exec(text)?.[1];
  if (!name) throw new Error(`no name in ${f}`);
  const base = f.slice(0, -'.format'.length);
  if (!base.endsWith('_' + name)) throw new Error(`cannot split ${f}`);
  const sys = base.slice(0, base.length - name.length - 1);
  formats[`${sys}:${name}`] = text;
}

const options = read('options_ls').trim().split('\n');
const data = {
  readme: read('README'),
  availableTracers: read('available_tracers').trim(),
  traceClock: read('trace_clock').trim(),
  /** trace_options as read with the nop tracer (order of the kernel's flag table) */
  traceOptions: read('trace_options').trim().split('\n'),
  /** the option files in options/ */
  optionFiles: options,
  headerEvent: read('header_event'),
  headerPage: read('header_page'),
  /** "sys:event" lines in the kernel's list order */
  events: read('available_events').trim(),
  formats,
};
writeFileSync(join(outDir, 'trace-data.json'), JSON.stringify(data) + '\n');

// available_filter_functions: 42k names, one newline-joined string ("name" or "name [module]")
const funcs = read('available_filter_functions').trim();
writeFileSync(join(outDir, 'functions.json'), JSON.stringify({ text: funcs }) + '\n');
console.log(`wrote ${Object.keys(formats).length} formats, ${data.events.split('\n').length} events, ${funcs.split('\n').length} functions`);
