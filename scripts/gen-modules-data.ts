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

/*
 * The reference machine ran depmod over a subset of the tree (tools/build.sh
 * of the reference): its modules.dep lines order dependencies by depmod's
 * topological sort over that subset, which is the order modprobe loaded
 * them in the captures (btrfs: zstd_compress, raid6_pq, xor, libcrc32c).
 * Recompute depmod_calculate_dependencies() for the subset and use those
 * lines for its modules; the rest keep the full tree's lines.
 */
const SUBSET = [
  'kernel/crypto',
  'kernel/lib',
  'kernel/arch/x86/crypto',
  'kernel/fs/ext4',
  'kernel/fs/jbd2',
  'kernel/fs/mbcache.ko',
  'kernel/fs/fat',
  'kernel/fs/btrfs',
  'kernel/fs/nls',
  'kernel/block',
  'kernel/drivers/nvme',
  'kernel/drivers/block/loop.ko',
  'kernel/drivers/block/virtio_blk.ko',
  'kernel/drivers/net/dummy.ko',
  'kernel/drivers/virtio',
];
{
  const order = read(path.join(TREE, 'modules.order')).split('\n').filter(Boolean);
  const ordIdx = new Map(order.map((p, i) => [p, i]));
  const sub = raw
    .filter((m) => SUBSET.some((x) => m.path === x || m.path.startsWith(x + '/')))
    .sort((a, b) => (ordIdx.get(a.path) ?? 1e9) - (ordIdx.get(b.path) ?? 1e9));
  const subByName = new Map(sub.map((m) => [m.name, m.path]));
  const deps = new Map(sub.map((m) => [m.path, m.depends.map(norm).flatMap((d) => subByName.get(d) ?? [])]));
  const users = new Map(sub.map((m) => [m.path, 0]));
  for (const m of sub) for (const d of deps.get(m.path) ?? []) users.set(d, (users.get(d) ?? 0) + 1);
  const roots = sub.filter((m) => users.get(m.path) === 0).map((m) => m.path);
  const sortIdx = new Map<string, number>();
  while (roots.length) {
    const src = roots.pop() as string;
    sortIdx.set(src, sortIdx.size);
    for (const d of deps.get(src) ?? []) {
      users.set(d, (users.get(d) ?? 0) - 1);
      if (users.get(d) === 0) roots.push(d);
    }
  }
  const closure = (p: string, acc: Set<string>): Set<string> => {
    for (const d of deps.get(p) ?? []) if (!acc.has(d)) closure(d, acc.add(d));
    return acc;
  };
  for (const m of sub)
    depLine.set(
      m.path,
      [...closure(m.path, new Set())].sort((a, b) => (sortIdx.get(a) ?? 0) - (sortIdx.get(b) ?? 0)),
    );
}

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

// symbols a module uses from a dependency: the "Unknown symbol" lines the reference printed
const symOwner = new Map<string, string>();
for (const line of read(path.join(TREE, 'modules.symbols')).split('\n')) {
  const m = /^alias symbol:(\S+) (\S+)$/.exec(line);
  if (m && !symOwner.has(m[1])) symOwner.set(m[1], m[2]);
}
const usedSyms = new Map<string, Record<string, string[]>>();
for (const line of read(path.join(REF, 'dmesg_errors_and_removals.txt')).split('\n')) {
  const m = /\] (\S+): Unknown symbol (\S+) \(err -2\)$/.exec(line);
  if (!m) continue;
  const owner = symOwner.get(m[2]);
  if (!owner) continue;
  const u = usedSyms.get(m[1]) ?? {};
  (u[owner] ??= []).push(m[2]);
  usedSyms.set(m[1], u);
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
  const u = usedSyms.get(m.name);
  if (u) o.u = u;
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
