import type { ToolCtx } from '../../types';
import { has, last, parseArgs, UsageError, warn, withUsage, write } from '../common';
import { cpulistCreate, cpulistParse, listOpt, readOpt, sizeToHuman, utf8Locale } from './common';

/** lscpu and lsblk of util-linux 2.38.1, from /proc/cpuinfo, /sys/devices/system/cpu and /sys/block. */

// ------------------------------------------------------------------ lscpu

interface LscpuRow {
  label: string;
  /** tree label (lscpu's hierarchic output), when it differs */
  tree?: string;
  value: string;
  depth: number;
}

function cpuinfoBlocks(text: string): Record<string, string>[] {
  return text
    .split(/\n\n+/)
    .filter((b) => b.trim())
    .map((b) => {
      const o: Record<string, string> = {};
      for (const line of b.split('\n')) {
        const i = line.indexOf(':');
        if (i < 0) continue;
        o[line.slice(0, i).trim()] = line.slice(i + 1).trim();
      }
      return o;
    });
}

function lscpuRows(ctx: ToolCtx): LscpuRow[] | null {
  const info = readOpt(ctx, '/proc/cpuinfo');
  if (info === undefined) return null;
  const cpus = cpuinfoBlocks(info);
  const c0 = cpus[0] ?? {};
  const sys = '/sys/devices/system/cpu';
  const possible = cpulistParse(readOpt(ctx, `${sys}/possible`) ?? '') ?? cpus.map((_, i) => i);
  const online = cpulistParse(readOpt(ctx, `${sys}/online`) ?? '') ?? possible;
  const flags = (c0.flags ?? '').split(/\s+/).filter(Boolean);
  const count = (p: string): number => (cpulistParse(readOpt(ctx, p) ?? '') ?? []).length;
  const threads = Math.max(1, count(`${sys}/cpu0/topology/thread_siblings_list`));
  const coreSibs = Math.max(threads, count(`${sys}/cpu0/topology/core_siblings_list`));
  const cores = Math.max(1, Math.floor(coreSibs / threads));
  const sockets = Math.max(1, Math.round(possible.length / (cores * threads)));
  const rows: LscpuRow[] = [];
  const add = (depth: number, label: string, value: string, tree?: string): void => void rows.push({ depth, label, value, tree });
  add(0, 'Architecture:', 'x86_64');
  add(1, 'CPU op-mode(s):', flags.includes('lm') ? '32-bit, 64-bit' : '32-bit');
  if (c0['address sizes']) add(1, 'Address sizes:', c0['address sizes']);
  add(1, 'Byte Order:', 'Little Endian');
  add(0, 'CPU(s):', String(possible.length));
  add(1, 'On-line CPU(s) list:', cpulistCreate(online));
  const off = possible.filter((c) => !online.includes(c));
  if (off.length) add(1, 'Off-line CPU(s) list:', cpulistCreate(off));
  if (c0.vendor_id) add(0, 'Vendor ID:', c0.vendor_id);
  if (c0['model name']) add(1, 'Model name:', c0['model name']);
  if (c0['cpu family']) add(2, 'CPU family:', c0['cpu family']);
  if (c0.model) add(2, 'Model:', c0.model);
  add(2, 'Thread(s) per core:', String(threads));
  add(2, 'Core(s) per socket:', String(cores));
  add(2, 'Socket(s):', String(sockets));
  if (c0.stepping) add(2, 'Stepping:', c0.stepping);
  if (c0.bogomips) add(2, 'BogoMIPS:', c0.bogomips);
  if (flags.length) add(2, 'Flags:', flags.join(' '));
  const virt = flags.includes('svm') ? 'AMD-V' : flags.includes('vmx') ? 'VT-x' : undefined;
  const hyper = flags.includes('hypervisor');
  if (virt || hyper) {
    rows.push({ depth: 0, label: '', tree: 'Virtualization features:', value: '' });
    if (virt) add(1, 'Virtualization:', virt);
    if (hyper) add(1, 'Virtualization type:', 'full');
  }
  // caches: summed over instances (unique shared_cpu_map)
  const caches = new Map<string, { size: number; maps: Set<string> }>();
  for (const cpu of online) {
    const base = `${sys}/cpu${cpu}/cache`;
    for (const idx of listOpt(ctx, base).filter((n) => /^index\d+$/.test(n)).sort()) {
      const level = readOpt(ctx, `${base}/${idx}/level`);
      const type = readOpt(ctx, `${base}/${idx}/type`);
      const size = readOpt(ctx, `${base}/${idx}/size`);
      const map = readOpt(ctx, `${base}/${idx}/shared_cpu_map`) ?? String(cpu);
      if (!level || !type || !size) continue;
      const name = `L${level}${type === 'Data' ? 'd' : type === 'Instruction' ? 'i' : ''}`;
      const m = /^(\d+)([KMG]?)$/.exec(size);
      if (!m) continue;
      const bytes = Number(m[1]) * (m[2] === 'K' ? 1024 : m[2] === 'M' ? 1 << 20 : m[2] === 'G' ? 1 << 30 : 1);
      let e = caches.get(name);
      if (!e) caches.set(name, (e = { size: 0, maps: new Set() }));
      if (!e.maps.has(map)) {
        e.maps.add(map);
        e.size += bytes;
      }
    }
  }
  if (caches.size) {
    rows.push({ depth: 0, label: '', tree: 'Caches (sum of all):', value: '' });
    for (const name of [...caches.keys()].sort()) {
      const e = caches.get(name)!;
      const n = e.maps.size;
      add(1, `${name} cache:`, `${sizeToHuman(e.size, true)} (${n} instance${n === 1 ? '' : 's'})`, `${name}:`);
    }
  }
  const nodes = listOpt(ctx, '/sys/devices/system/node')
    .filter((n) => /^node\d+$/.test(n))
    .sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
  if (nodes.length) {
    rows.push({ depth: 0, label: '', tree: 'NUMA:', value: '' });
    add(1, 'NUMA node(s):', String(nodes.length));
    for (const n of nodes) add(1, `NUMA ${n} CPU(s):`, cpulistCreate(cpulistParse(readOpt(ctx, `/sys/devices/system/node/${n}/cpulist`) ?? '') ?? []));
  }
  const vulns = listOpt(ctx, `${sys}/vulnerabilities`).sort();
  if (vulns.length) {
    rows.push({ depth: 0, label: '', tree: 'Vulnerabilities:', value: '' });
    for (const v of vulns) {
      const name = v.charAt(0).toUpperCase() + v.slice(1).replace(/_/g, ' ');
      let text = readOpt(ctx, `${sys}/vulnerabilities/${v}`) ?? '';
      if (text.startsWith('Mitigation')) text = 'Mitigation;' + text.slice('Mitigation'.length + 1).replace(/:/g, '');
      add(1, `Vulnerability ${name}:`, text, `${name}:`);
    }
  }
  return rows;
}

function lscpu(ctx: ToolCtx): number {
  return withUsage(ctx, () => {
    const p = parseArgs(ctx, { short: 'ahbcexJyV', long: { all: 'a', online: 'b', offline: 'c', extended: 'e', json: 'J', hierarchic: 'H', 'hierarchic=': 'H', version: 'V', physical: 'y', help: 'h' } });
    if (has(p, 'V')) {
      write(ctx, 'lscpu from util-linux 2.38.1\n');
      return 0;
    }
    const rows = lscpuRows(ctx);
    if (!rows) {
      warn(ctx, 'cannot open /proc/cpuinfo: No such file or directory');
      return 1;
    }
    const h = last(p, 'H');
    const tree = h === undefined ? ctx.tty : h !== 'never';
    if (has(p, 'J')) {
      const items = rows.filter((r) => r.label).map((r) => `{\n         "field": ${JSON.stringify(r.label)},\n         "data": ${r.value === '' ? 'null' : JSON.stringify(r.value)}\n      }`);
      write(ctx, `{\n   "lscpu": [\n      ${items.join(',')}\n   ]\n}\n`);
      return 0;
    }
    const shown = tree ? rows.map((r) => ({ l: '  '.repeat(r.depth) + (r.tree ?? r.label), v: r.value })) : rows.filter((r) => r.label).map((r) => ({ l: r.label, v: r.value }));
    const w = Math.max(...shown.map((r) => r.l.length));
    write(ctx, shown.map((r) => `${r.l.padEnd(w)} ${r.v}\n`).join(''));
    return 0;
  });
}

// ------------------------------------------------------------------ lsblk

interface BlkDev {
  name: string;
  kname: string;
  majmin: [number, number];
  rm: number;
  sizeBytes: number;
  ro: number;
  type: string;
  mountpoints: string[];
  fstype: string;
  children: BlkDev[];
}

interface LsblkCol {
  id: string;
  header: string;
  right: boolean;
  get: (d: BlkDev) => string;
}

function lsblkDevices(ctx: ToolCtx, mounts: { source: string; path: string }[]): BlkDev[] {
  const mk = (dir: string, name: string, type: string): BlkDev => {
    const dev = (readOpt(ctx, `${dir}/dev`) ?? '0:0').split(':').map(Number) as [number, number];
    const sectors = Number(readOpt(ctx, `${dir}/size`) ?? 0);
    const mnt = mounts.filter((m) => m.source === `/dev/${name}`);
    return {
      name,
      kname: name,
      majmin: [dev[0] ?? 0, dev[1] ?? 0],
      rm: Number(readOpt(ctx, `${dir}/removable`) ?? 0),
      sizeBytes: sectors * 512,
      ro: Number(readOpt(ctx, `${dir}/ro`) ?? 0),
      type,
      mountpoints: mnt.map((m) => m.path),
      fstype: '',
      children: [],
    };
  };
  const out: BlkDev[] = [];
  const names = listOpt(ctx, '/sys/block');
  for (const name of names) {
    const dir = `/sys/block/${name}`;
    const major = Number((readOpt(ctx, `${dir}/dev`) ?? '0').split(':')[0]);
    if (major === 1) continue; // RAM disks are excluded by default (-e 1)
    const type = /^loop/.test(name) ? 'loop' : /^sr/.test(name) ? 'rom' : 'disk';
    const d = mk(dir, name, type);
    if (type === 'loop' && d.sizeBytes === 0) continue;
    for (const part of listOpt(ctx, dir).filter((p) => p.startsWith(name) && readOpt(ctx, `${dir}/${p}/partition`) !== undefined)) {
      d.children.push(mk(`${dir}/${part}`, part, 'part'));
    }
    d.children.sort((a, b) => a.majmin[1] - b.majmin[1]);
    out.push(d);
  }
  return out.sort((a, b) => a.majmin[0] - b.majmin[0] || a.majmin[1] - b.majmin[1]);
}

function lsblk(ctx: ToolCtx): number {
  return withUsage(ctx, () => {
    const p = parseArgs(ctx, {
      short: 'abdflmnpo:rJVh',
      long: { all: 'a', bytes: 'b', nodeps: 'd', fs: 'f', list: 'l', perms: 'm', noheadings: 'n', paths: 'p', 'output=': 'o', raw: 'r', json: 'J', version: 'V', help: 'h' },
    });
    if (has(p, 'V')) {
      write(ctx, 'lsblk from util-linux 2.38.1\n');
      return 0;
    }
    const bytes = has(p, 'b');
    const paths = has(p, 'p');
    const mounts = readMounts(ctx);
    let devs = lsblkDevices(ctx, mounts);
    if (p.operands.length) {
      const want: BlkDev[] = [];
      for (const o of p.operands) {
        const n = o.replace(/^\/dev\//, '');
        const d = devs.find((x) => x.name === n) ?? devs.flatMap((x) => x.children).find((x) => x.name === n);
        if (!d) {
          warn(ctx, `${o}: not a block device`);
          return 32;
        }
        want.push(d);
      }
      devs = want;
    }
    const colDefs: Record<string, LsblkCol> = {
      NAME: { id: 'NAME', header: 'NAME', right: false, get: (d) => (paths ? `/dev/${d.name}` : d.name) },
      KNAME: { id: 'KNAME', header: 'KNAME', right: false, get: (d) => d.kname },
      PATH: { id: 'PATH', header: 'PATH', right: false, get: (d) => `/dev/${d.name}` },
      'MAJ:MIN': { id: 'MAJ:MIN', header: 'MAJ:MIN', right: false, get: (d) => (has(p, 'r') ? `${d.majmin[0]}:${d.majmin[1]}` : `${String(d.majmin[0]).padStart(3)}:${String(d.majmin[1]).padEnd(3)}`) },
      RM: { id: 'RM', header: 'RM', right: true, get: (d) => String(d.rm) },
      SIZE: { id: 'SIZE', header: 'SIZE', right: true, get: (d) => (bytes ? String(d.sizeBytes) : sizeToHuman(d.sizeBytes)) },
      RO: { id: 'RO', header: 'RO', right: true, get: (d) => String(d.ro) },
      TYPE: { id: 'TYPE', header: 'TYPE', right: false, get: (d) => d.type },
      MOUNTPOINT: { id: 'MOUNTPOINT', header: 'MOUNTPOINT', right: false, get: (d) => d.mountpoints[0] ?? '' },
      MOUNTPOINTS: { id: 'MOUNTPOINTS', header: 'MOUNTPOINTS', right: false, get: (d) => d.mountpoints.join('\n') },
      FSTYPE: { id: 'FSTYPE', header: 'FSTYPE', right: false, get: (d) => d.fstype },
      OWNER: { id: 'OWNER', header: 'OWNER', right: false, get: () => 'root' },
      GROUP: { id: 'GROUP', header: 'GROUP', right: false, get: () => 'disk' },
      MODE: { id: 'MODE', header: 'MODE', right: false, get: () => 'brw-rw----' },
    };
    let ids = ['NAME', 'MAJ:MIN', 'RM', 'SIZE', 'RO', 'TYPE', 'MOUNTPOINTS'];
    if (has(p, 'f')) ids = ['NAME', 'FSTYPE', 'MOUNTPOINTS'];
    if (has(p, 'm')) ids = ['NAME', 'SIZE', 'OWNER', 'GROUP', 'MODE'];
    const o = last(p, 'o');
    if (o !== undefined) {
      ids = o.startsWith('+') ? [...ids, ...o.slice(1).split(',')] : o.split(',');
      for (const id of ids) {
        if (!colDefs[id.toUpperCase()]) throw new UsageError(`lsblk: unknown column: ${id}`, 1);
      }
      ids = ids.map((i) => i.toUpperCase());
    }
    const cols = ids.map((i) => colDefs[i]);
    const list = has(p, 'l') || has(p, 'r');
    const raw = has(p, 'r');
    const nodeps = has(p, 'd');
    const utf8 = utf8Locale(ctx);
    // rows: cells, the NAME cell carrying its tree prefix
    const rows: string[][] = [];
    const walk = (d: BlkDev, prefix: string, branch: string): void => {
      rows.push(cols.map((c) => (c.id === 'NAME' && !list ? branch + c.get(d) : c.get(d))));
      if (nodeps) return;
      d.children.forEach((ch, i) => {
        const lastChild = i === d.children.length - 1;
        const br = utf8 ? (lastChild ? '└─' : '├─') : lastChild ? '`-' : '|-';
        const cont = utf8 ? (lastChild ? '  ' : '│ ') : lastChild ? '  ' : '| ';
        walk(ch, prefix + cont, prefix + br);
      });
    };
    for (const d of devs) walk(d, '', '');
    if (has(p, 'J')) {
      const obj = (d: BlkDev): string[] => {
        const f = cols.map((c) => {
          const v = c.get(d);
          const key = c.header.toLowerCase();
          if (c.id === 'MOUNTPOINTS') return `"${key}": [${d.mountpoints.length ? d.mountpoints.map((m) => JSON.stringify(m)).join(', ') : 'null'}]`;
          if (c.id === 'RM' || c.id === 'RO') return `"${key}": ${v === '1' ? 'true' : 'false'}`;
          if (c.id === 'SIZE' && bytes) return `"${key}": ${v}`;
          if (c.id === 'MAJ:MIN') return `"${key}": "${d.majmin[0]}:${d.majmin[1]}"`;
          return `"${key}": ${v === '' ? 'null' : JSON.stringify(v)}`;
        });
        return f;
      };
      const render = (d: BlkDev, ind: string): string => {
        const f = obj(d);
        if (!nodeps && d.children.length) f.push(`"children": [\n${d.children.map((c) => render(c, ind + '      ')).join(',\n')}\n${ind}   ]`);
        return `${ind}{\n${f.map((x) => `${ind}   ${x}`).join(',\n')}\n${ind}}`;
      };
      write(ctx, `{\n   "blockdevices": [\n${devs.map((d) => render(d, '      ')).join(',\n')}\n   ]\n}\n`);
      return 0;
    }
    const header = has(p, 'n') ? [] : [cols.map((c) => c.header)];
    const all = [...header, ...rows];
    if (raw) {
      const esc = (s: string): string => s.replace(/[ \\\n"]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`);
      write(ctx, all.map((r) => r.map(esc).join(' ') + '\n').join(''));
      return 0;
    }
    const len = (s: string): number => [...s].length;
    const widths = cols.map((_, i) => Math.max(...all.map((r) => Math.max(...r[i].split('\n').map(len)))));
    let out = '';
    for (const r of all) {
      const lines = Math.max(...r.map((c) => c.split('\n').length));
      for (let li = 0; li < lines; li++) {
        const cells = r.map((c, i) => {
          const v = c.split('\n')[li] ?? '';
          if (i === cols.length - 1 && !cols[i].right) return v;
          const pad = ' '.repeat(Math.max(0, widths[i] - len(v)));
          return cols[i].right ? pad + v : v + pad;
        });
        out += cells.join(' ') + '\n';
      }
    }
    write(ctx, out);
    return 0;
  });
}

/** The mount table as /proc/self/mounts lists it (falls back to /proc/mounts). */
export function readMounts(ctx: ToolCtx): { source: string; path: string; fstype: string; options: string }[] {
  const text = readOpt(ctx, '/proc/self/mounts') ?? readOpt(ctx, '/proc/mounts') ?? '';
  const unesc = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const f = l.split(' ');
      return { source: unesc(f[0] ?? ''), path: unesc(f[1] ?? ''), fstype: f[2] ?? '', options: f[3] ?? '' };
    });
}

export const LSX_TOOLS = [
  { name: 'lscpu', run: lscpu },
  { name: 'lsblk', dir: '/usr/bin', run: lsblk },
];
