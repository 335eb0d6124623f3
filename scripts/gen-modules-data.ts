/**
 * Generates src/kernel/data/modules/modules.json from the Linux 6.1 reference
 * (../shared/reference/linux-6.1/modules): the compact module registry the
 * kernel's module subsystem reads. Run:
 *   npx ts-node --transpile-only scripts/gen-modules-data.ts
 */
import * as fs from 'fs';
import * as path from 'path';

const REF = path.resolve(__dirname, '../../shared/reference/linux-6.1/modules');
const TREE = path.join(REF, 'depmod_full_tree');
const OUT = path.resolve(__dirname, '../src/kernel/data/modules/modules.json');

interface RawMod {
  name: string;
  path: string;
  size: number;
  depends: string[];
  license?: string;
  licenses?: string[];
  description: string;
  author: string[];
  aliases: number;
  parm: Record<string, [string, string]>;
}

const norm = (s: string): string => s.replace(/-/g, '_');
const read = (f: string): string => fs.readFileSync(f, 'utf8');

const raw: RawMod[] = read(path.join(REF, 'modules.json'))
  .split('\n')
  .map((l) => l.trim().replace(/,$/, ''))
  .filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l) as RawMod);

// modules.dep: full dependency line (paths) per module path
const depLine = new Map<string, string[]>();
for (const line of read(path.join(TREE, 'modules.dep')).split('\n')) {
  const i = line.indexOf(':');
  if (i < 0) continue;
  const deps = line.slice(i + 1).trim();
  depLine.set(line.slice(0, i), deps ? deps.split(' ') : []);
}
const byPath = new Map(raw.map((m, i) => [m.path, i]));

// modules with a reference modinfo: everything kmod printed, verbatim order
const modinfoRef = new Map<string, [string, string][]>();
for (const f of fs.readdirSync(REF)) {
  const m = /^modinfo_([a-z0-9_]+)\.txt$/.exec(f);
  if (!m || m[1].startsWith('builtin') || m[1].startsWith('F_')) continue;
  const pairs: [string, string][] = [];
  for (const line of read(path.join(REF, f)).split('\n')) {
    if (line.startsWith('\t\t')) {
      pairs[pairs.length - 1][1] += '\n' + line.slice(2);
      continue;
    }
    const mm = /^([a-z_]+):\s*(.*)$/.exec(line);
    if (mm) pairs.push([mm[1], mm[2]]);
  }
  const name = pairs.find((p) => p[0] === 'name')?.[1];
  if (name) modinfoRef.set(name, pairs);
}

// aliases: device-table patterns only for the reference modules (size)
const DEVICE =
  /^(pci|usb|of|i2c|hid|pcmcia|acpi\*?|spi|hdaudio|cpu|dmi\*?|ieee1394|sdio|mdio|pnp|wmi|serio|vmbus|virtio|sdw|ssb|bcma|auxiliary|mhi|input|platform|x86cpu|xen|mei|ishtp|tbsvc|typec|rpmsg|dfl|fsl-mc|cdx|ulpi|ipack|slim|zorro|eisa|css|ccw|ap|nd|apr|scsi|sound|firewire|usbfunc|w1)[:-]/;
const aliases = new Map<string, string[]>();
for (const line of read(path.join(TREE, 'modules.alias')).split('\n')) {
  const m = /^alias (\S+) (\S+)$/.exec(line);
  if (!m) continue;
  if (DEVICE.test(m[1]) && !modinfoRef.has(m[2])) continue;
  const a = aliases.get(m[2]) ?? [];
  a.push(m[1]);
  aliases.set(m[2], a);
}

// softdeps: every line (modinfo prints all; modprobe uses the first)
const softdeps = new Map<string, string[]>();
for (const line of read(path.join(TREE, 'modules.softdep')).split('\n')) {
  const m = /^softdep (\S+) (.*)$/.exec(line);
  if (!m) continue;
  const a = softdeps.get(m[1]) ?? [];
  a.push(m[2]);
  softdeps.set(m[1], a);
}

// exported symbols (first few per module: enough for "Unknown symbol" lines)
const SYMS_PER_MODULE = 8;
const symbols = new Map<string, string[]>();
for (const line of read(path.join(TREE, 'modules.symbols')).split('\n')) {
  const m = /^alias symbol:(\S+) (\S+)$/.exec(line);
  if (!m) continue;
  const a = symbols.get(m[2]) ?? [];
  if (a.length < SYMS_PER_MODULE) a.push(m[1]);
  symbols.set(m[2], a);
}

// core sizes kmod's lsmod printed on the reference machine
const coreSize = new Map<string, number>();
for (const f of fs.readdirSync(REF)) {
  if (!/^lsmod_.*\.txt$/.test(f)) continue;
  for (const line of read(path.join(REF, f)).split('\n').slice(1)) {
    const m = /^(\S+)\s+(\d+)\s/.exec(line);
    if (m) coreSize.set(m[1], Number(m[2]));
  }
}

const mods = raw.map((m) => {
  const o: Record<string, unknown> = { n: m.name, p: m.path, s: m.size };
  const c = coreSize.get(m.name);
  if (c !== undefined) o.c = c;
  const line = depLine.get(m.path) ?? [];
  if (line.length) o.d = line.map((p) => byPath.get(p) as number);
  if (m.depends.length) o.dp = m.depends;
  o.l = m.licenses ?? m.license ?? '';
  if (m.description) o.ds = m.description;
  if (m.author.length) o.a = m.author;
  const parms = Object.entries(m.parm);
  if (parms.length) o.pm = parms.map(([k, [d, t]]) => [k, d, t]);
  const ref = modinfoRef.get(m.name);
  const al = ref ? ref.filter((p) => p[0] === 'alias').map((p) => p[1]) : aliases.get(m.name);
  if (al?.length) o.al = al;
  if (m.aliases !== (al?.length ?? 0)) o.na = m.aliases;
  const sd = softdeps.get(m.name);
  if (sd) o.sd = sd;
  const sy = symbols.get(m.name);
  if (sy) o.sy = sy;
  if (ref) {
    // the .modinfo order and the fields modules.json lacks (version, srcversion, signature)
    const x: Record<string, string> = {};
    for (const [k, v] of ref) if (k === 'version' || k === 'srcversion' || k === 'signature') x[k] = v;
    o.x = x;
    o.ord = [...new Set(ref.map((p) => p[0]))].filter(
      (k) =>
        ![
          'filename',
          'parm',
          'sig_id',
          'signer',
          'sig_key',
          'sig_hashalgo',
          'signature',
          'retpoline',
          'intree',
          'name',
          'vermagic',
        ].includes(k),
    );
  }
  return o;
});

// built-ins: modules.builtin + modules.builtin.modinfo
const builtinNames = read(path.join(TREE, 'modules.builtin'))
  .split('\n')
  .filter(Boolean)
  .map((p) => norm(path.basename(p, '.ko')));
const binfo = new Map<string, [string, string][]>();
for (const rec of read(path.join(TREE, 'modules.builtin.modinfo')).split('\0')) {
  const m = /^([^.=]+)\.([a-z_]+)=([\s\S]*)$/.exec(rec);
  if (!m) continue;
  const a = binfo.get(m[1]) ?? [];
  a.push([m[2], m[3]]);
  binfo.set(m[1], a);
}
const builtins: Record<string, [string, string][]> = {};
for (const n of builtinNames) builtins[n] = binfo.get(n) ?? [];
for (const [n, info] of binfo) if (!(n in builtins)) builtins[n] = info;

const sigKey = /sig_key:\s+(\S+)/.exec(read(path.join(REF, 'modinfo_ext4.txt')))?.[1] ?? '';

const out = { sigKey, mods, builtins };
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(OUT, JSON.stringify(out));
console.log(`${mods.length} modules, ${Object.keys(builtins).length} built-ins, ${fs.statSync(OUT).size} bytes -> ${OUT}`);
