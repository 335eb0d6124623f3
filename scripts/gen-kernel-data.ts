/**
 * Generates the compact runtime data of the simulated kernel (src/kernel/data/*.json)
 * from the Linux 6.1 reference captures in ../shared/reference/linux-6.1.
 *
 *   npx ts-node scripts/gen-kernel-data.ts [referenceDir]
 *
 * The build never reads ../shared: only this script does, and its output is committed.
 */
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
const REF = path.resolve(process.argv[2] ?? path.join(ROOT, '..', 'shared', 'reference', 'linux-6.1'));
const OUT = path.join(ROOT, 'src', 'kernel', 'data');

const read = (rel: string): string => fs.readFileSync(path.join(REF, rel), 'utf8');
const lines = (rel: string): string[] =>
  read(rel)
    .split('\n')
    .filter((l) => l.length > 0);

function write(name: string, data: unknown): void {
  fs.mkdirSync(OUT, { recursive: true });
  const text = JSON.stringify(data);
  fs.writeFileSync(path.join(OUT, name), text + '\n');
  process.stdout.write(`${name}: ${text.length} bytes\n`);
}

function modeBits(s: string): number {
  let m = 0;
  const bits = s.slice(1, 10);
  for (let i = 0; i < 9; i++) if (bits[i] !== '-') m |= 1 << (8 - i);
  return m;
}

/** Interfaces of the reference machine whose per-device sysctl dirs become templates. */
const REF_NETDEVS = ['lo', 'dummy0', 'dummy1'];

// ------------------------------------------------------------------ /proc/sys
function genSysctl(): void {
  // modes from `ls -lR /proc/sys`
  const modes = new Map<string, number>();
  let dir = '';
  for (const l of lines('proc/sys_ls_lR')) {
    if (l.endsWith(':')) {
      dir = l.slice(0, -1).replace(/^\/proc\/sys\/?/, '');
      continue;
    }
    const m = /^([-dlrwx]{10})\s+\d+\s+\S+\s+\S+\s+\d+\s+\S+\s+\d+\s+[\d:]+\s+(.+)$/.exec(l);
    if (!m || m[1][0] === 'd') continue;
    modes.set(dir ? `${dir}/${m[2]}` : m[2], modeBits(m[1]));
  }
  const entries: [string, number, string | null][] = [];
  for (const l of lines('proc/sys_raw_values.txt')) {
    const m = /^\/proc\/sys\/(\S+) (=|!!) ?(.*)$/.exec(l);
    if (!m) throw new Error(`bad line ${l}`);
    const name = m[1];
    const parts = name.split('/');
    // per-device dirs are generated from the net device model at runtime
    if (parts[0] === 'net' && (parts[2] === 'conf' || parts[2] === 'neigh') && REF_NETDEVS.includes(parts[3])) continue;
    const mode = modes.get(name);
    if (mode === undefined) throw new Error(`no mode for ${name}`);
    entries.push([name, mode, m[2] === '=' ? m[3] : null]);
  }
  // empty directories (e.g. fs/binfmt_misc, a mount point)
  const dirs = new Set<string>();
  for (const l of lines('proc/sys_ls_lR')) if (l.endsWith(':')) dirs.add(l.slice(0, -1).replace(/^\/proc\/sys\/?/, ''));
  const emptyDirs = [...dirs].filter(
    (d) => d && !entries.some(([n]) => n.startsWith(d + '/')) && !REF_NETDEVS.some((x) => d.endsWith('/' + x)),
  );
  write('sysctl.json', { entries, emptyDirs });
}

// ------------------------------------------------------------------ kallsyms
function genKallsyms(): void {
  const head = lines('proc/kallsyms_head2000').map((l) => l.split(' '));
  const percpu: [number, string][] = [];
  const text: [number, string, string][] = [];
  let base = 0n;
  for (const [addr, type, name] of head) {
    if (type === 'A') {
      percpu.push([parseInt(addr, 16), name]);
      continue;
    }
    const a = BigInt('0x' + addr);
    if (!base) base = a;
    text.push([Number(a - base), type, name]);
  }
  const ff = lines('tracefs/available_filter_functions').filter((n) => !n.includes('[') && !n.startsWith('__ftrace_invalid_address__'));
  // the head's text symbols are the start of the text; the filter functions are in address
  // order: continue after the last head symbol that is also a filter function
  const ffIndex = new Map<string, number>();
  ff.forEach((n, i) => {
    if (!ffIndex.has(n)) ffIndex.set(n, i);
  });
  let lastKnown = -1;
  for (let i = text.length - 1; i >= 0 && lastKnown < 0; i--) lastKnown = ffIndex.get(text[i][2]) ?? -1;
  const rest = ff.slice(lastKnown + 1);
  const names: string[] = [];
  for (const n of rest) {
    // duplicate static names are real (several `t show`), keep them but not back-to-back repeats
    if (names.length && names[names.length - 1] === n) continue;
    names.push(n);
  }
  // compact: head as [delta, type, name] rows, the rest as one space-separated string
  let prev = 0;
  const headRows = text.map(([off, type, name]) => {
    const d = off - prev;
    prev = off;
    return [d, type, name] as const;
  });
  // front coding: each name as (length of the prefix shared with the previous name, as one
  // character from '0') + the rest
  let last = '';
  const coded = names.map((n) => {
    let p = 0;
    while (p < 60 && p < n.length && p < last.length && n[p] === last[p]) p++;
    last = n;
    return String.fromCharCode(48 + p) + n.slice(p);
  });
  write('kallsyms.json', { percpu, head: headRows, tail: coded.join(' '), totalLines: Number(read('proc/kallsyms_linecount').trim()) });
}

// ------------------------------------------------------------------ /proc/crypto
function genCrypto(): void {
  const blocks: [string, string][][] = [];
  let cur: [string, string][] = [];
  for (const l of read('proc/crypto').split('\n')) {
    if (!l.trim()) {
      if (cur.length) blocks.push(cur);
      cur = [];
      continue;
    }
    const m = /^(\S[^:]*?)\s*: (.*)$/.exec(l);
    if (!m) throw new Error(`crypto: ${l}`);
    cur.push([m[1], m[2]]);
  }
  if (cur.length) blocks.push(cur);
  write('crypto.json', blocks);
}

// ------------------------------------------------------------------ modules
function genModules(): void {
  const loaded = new Set<string>();
  for (const f of fs.readdirSync(path.join(REF, 'modules'))) {
    if (!/^lsmod_.*\.txt$/.test(f)) continue;
    for (const l of lines(`modules/${f}`).slice(1)) loaded.add(l.split(/\s+/)[0]);
  }
  const top = lines('modules/sys_module_toplevel_ls.txt');
  const builtin = top.filter((m) => !loaded.has(m));
  const params = new Map<string, [string, string][]>();
  const versions = new Map<string, string>();
  for (const rec of read('modules/depmod_full_tree/modules.builtin.modinfo').split('\0')) {
    const m = /^([^.]+)\.parmtype=([^:]+):(.*)$/.exec(rec);
    if (m) {
      const list = params.get(m[1]) ?? [];
      list.push([m[2], m[3]]);
      params.set(m[1], list);
    }
    const v = /^([^.]+)\.version=(.*)$/.exec(rec);
    if (v) versions.set(v[1], v[2]);
  }
  const printkParams = lines('modules/sys_module_printk_builtin_find.txt')
    .filter((l) => l.includes('/parameters/'))
    .map((l) => l.split('/').pop() as string);
  const out = builtin.map((name) => {
    const p = (params.get(name) ?? []).map(([n, t]) => [n, t]);
    if (name === 'printk') {
      // the capture of /sys/module/printk shows which parameters are visible (and in kernfs order)
      const types = new Map((params.get(name) ?? []).map(([n, t]) => [n, t]));
      return { name, params: printkParams.map((n) => [n, types.get(n) ?? 'bool']), version: versions.get(name) };
    }
    return { name, params: p, version: versions.get(name) };
  });
  write('modules-builtin.json', out);
}

// ------------------------------------------------------------------ sysfs values
function genSysfs(): void {
  const kv = (rel: string, strip: string): [string, string][] =>
    lines(rel).map((l) => {
      const i = l.indexOf(': ');
      const k = l.slice(0, i).replace(strip, '');
      return [k, l.slice(i + 2)];
    });
  const queue = (dev: string): [string, string][] =>
    kv('sysfs/block_queue_values.txt', '')
      .filter(([k]) => k.startsWith(`/sys/block/${dev}/queue/`))
      .map(([k, v]) => [k.replace(`/sys/block/${dev}/queue/`, ''), v]);
  const kernelTop = kv('sysfs/kernel_toplevel_values.txt', '/sys/kernel/')
    .filter(([k]) => k !== 'notes')
    .map(([k, v]) => [k, v.replace(/ $/, '')]);
  const thp = kv('sysfs/transparent_hugepage.txt', '/sys/kernel/mm/transparent_hugepage/');
  const cpuNames = lines('sysfs/find_devices_system_cpu_maxdepth4').map((l) => l.replace('/sys/devices/system/cpu', '').replace(/^\//, ''));
  const vulnerabilities = cpuNames.filter((n) => n.startsWith('vulnerabilities/')).map((n) => n.slice('vulnerabilities/'.length));
  const kernelDirs = lines('sysfs/find_kernel_maxdepth4_xdev').map((l) => l.replace('/sys/kernel', '').replace(/^\//, ''));
  const slabs = [...new Set(kernelDirs.filter((n) => n.startsWith('slab/')).map((n) => n.split('/')[1]))];
  const attrsOf = (s: string): string[] => kernelDirs.filter((n) => n.startsWith(`slab/${s}/`)).map((n) => n.split('/')[2]);
  const slabAttrs = slabs.map(attrsOf).reduce((a, b) => (b.length > a.length ? b : a), [] as string[]);
  const classes = [
    ...new Set(
      lines('sysfs/find_class_maxdepth4')
        .map((l) => l.split('/')[3])
        .filter(Boolean),
    ),
  ];
  write('sysfs.json', {
    queue: { nvme: queue('nvme0n1'), loop: queue('loop0') },
    kernelTop,
    thp,
    vulnerabilities,
    slabs,
    slabAttrs,
    classes,
  });
}

// ------------------------------------------------------------------ procfs tables
function genProc(): void {
  const cpuinfo = read('proc/cpuinfo')
    .split('\n\n')[0]
    .split('\n')
    .map((l) => {
      const i = l.indexOf(':');
      return i < 0 ? [l, ''] : [l.slice(0, i), l.slice(i + 2)];
    });
  const devices = read('proc/devices');
  const [chr, blk] = devices.split('\n\n');
  const parseDev = (s: string): [number, string][] =>
    s
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((l) => {
        const m = /^\s*(\d+) (.+)$/.exec(l) as RegExpExecArray;
        return [Number(m[1]), m[2]];
      });
  // drop what the reference's loaded modules (nvme, loop, btrfs) registered
  const modChr = new Set(['nvme', 'nvme-generic']);
  const modBlk = new Set(['loop']);
  const misc = lines('proc/misc')
    .map((l) => /^\s*(\d+) (.+)$/.exec(l) as RegExpExecArray)
    .map((m) => [Number(m[1]), m[2]] as [number, string])
    .filter(([, n]) => n !== 'loop-control' && n !== 'btrfs-control');
  const filesystems = lines('proc/filesystems').map((l) => {
    const [a, b] = l.split('\t');
    return [b, a === 'nodev'] as [string, boolean];
  });
  const modFs = new Set(['btrfs', 'ext3', 'ext2', 'ext4', 'vfat']);
  const cgroups = lines('proc/cgroups')
    .slice(1)
    .map((l) => l.split('\t')[0]);
  write('proc.json', {
    cpuinfo,
    chrdev: parseDev(chr).filter(([, n]) => !modChr.has(n)),
    blkdev: parseDev(blk).filter(([, n]) => !modBlk.has(n)),
    misc,
    filesystems: filesystems.filter(([n]) => !modFs.has(n)),
    cgroups,
  });
}

genSysctl();
genKallsyms();
genCrypto();
genModules();
genSysfs();
genProc();
