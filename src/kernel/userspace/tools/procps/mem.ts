import type { Co, ToolCtx } from '../../types';
import { idNames, wallMs, write } from '../common';
import { HZ, loadavg, meminfo, pidWidth, procStat, readOr, readProcs, uptimeLine, uptimeSecs, userCount, type CpuLine, type Proc } from './proc';

/** free, vmstat, uptime, w, top: the memory and load views of procps-ng 4.0.2. */

const fmt1 = (v: number, w: number): string => v.toFixed(1).padStart(w);

/** procps 4 meminfo arithmetic */
export function memFigures(m: Record<string, number>): { total: number; used: number; free: number; shared: number; buffers: number; cache: number; buffCache: number; available: number; swapTotal: number; swapUsed: number; swapFree: number } {
  const total = m.MemTotal ?? 0;
  const free = m.MemFree ?? 0;
  const buffers = m.Buffers ?? 0;
  const cache = (m.Cached ?? 0) + (m.SReclaimable ?? 0);
  const available = m.MemAvailable !== undefined && m.MemAvailable <= total ? m.MemAvailable : free;
  let used = total - available;
  if (used < 0) used = total - free;
  const swapTotal = m.SwapTotal ?? 0;
  const swapFree = m.SwapFree ?? 0;
  return { total, used, free, shared: m.Shmem ?? 0, buffers, cache, buffCache: buffers + cache, available, swapTotal, swapUsed: swapTotal - swapFree, swapFree };
}

// ------------------------------------------------------------------ free

const FREE_USAGE = `
Usage:
 free [options]

Options:
 -b, --bytes         show output in bytes
     --kilo          show output in kilobytes
     --mega          show output in megabytes
     --giga          show output in gigabytes
     --tera          show output in terabytes
     --peta          show output in petabytes
 -k, --kibi          show output in kibibytes
 -m, --mebi          show output in mebibytes
 -g, --gibi          show output in gibibytes
     --tebi          show output in tebibytes
     --pebi          show output in pebibytes
 -h, --human         show human-readable output
     --si            use powers of 1000 not 1024
 -l, --lohi          show detailed low and high memory statistics
 -t, --total         show total for RAM + swap
 -v, --committed     show committed memory and commit limit
 -s N, --seconds N   repeat printing every N seconds
 -c N, --count N     repeat printing N times, then exit
 -w, --wide          wide output

     --help     display this help and exit
 -V, --version  output version information and exit

For more details see free(1).
`;

/** free's scale_size() */
export function scaleSize(kb: number, exponent: number, si: boolean, human: boolean): string {
  const base = si ? 1000 : 1024;
  const bytes = kb * 1024;
  if (!human) {
    if (exponent === 0) return String(Math.floor(bytes / base));
    if (exponent === 1) return String(bytes);
    return String(Math.floor(bytes / Math.pow(base, exponent - 1)));
  }
  if (`${bytes}B`.length <= 4) return `${bytes}B`;
  const up = 'BKMGTP';
  for (let i = 1; i < up.length; i++) {
    const v = Math.fround(bytes / Math.pow(base, i));
    const a = `${v.toFixed(1)}${up[i]}${si ? '' : 'i'}`;
    if (a.length <= (si ? 4 : 5)) return a;
    const b = `${Math.floor(v)}${up[i]}${si ? '' : 'i'}`;
    if (b.length <= (si ? 4 : 5)) return b;
  }
  return `${bytes}B`;
}

export const free = function* (ctx: ToolCtx): Co<number> {
  let exponent = 0;
  let si = false;
  let human = false;
  let wide = false;
  let total = false;
  let lohi = false;
  let committed = false;
  let seconds: number | undefined;
  let count: number | undefined;
  const args = ctx.argv.slice(1);
  const bad = (msg: string): number => {
    ctx.stderr.write(`free: ${msg}\n${FREE_USAGE}`);
    return 1;
  };
  for (let i = 0; i < args.length; i++) {
    let a = args[i];
    let val: string | undefined;
    if (a.startsWith('--') && a.includes('=')) {
      val = a.slice(a.indexOf('=') + 1);
      a = a.slice(0, a.indexOf('='));
    }
    const longs: Record<string, string> = { '--bytes': 'b', '--kilo': 'K', '--mega': 'M', '--giga': 'G', '--tera': 'T', '--peta': 'P', '--kibi': 'k', '--mebi': 'm', '--gibi': 'g', '--tebi': 'E', '--pebi': 'Q', '--human': 'h', '--si': 'S', '--lohi': 'l', '--total': 't', '--committed': 'v', '--seconds': 's', '--count': 'c', '--wide': 'w', '--help': 'H', '--version': 'V' };
    let opts: string[];
    if (a.startsWith('--')) {
      const keys = Object.keys(longs).filter((k) => k.startsWith(a));
      const exact = keys.find((k) => k === a);
      if (!exact && keys.length !== 1) return bad(keys.length ? `option '${a}' is ambiguous` : `unrecognized option '${a}'`);
      opts = [longs[exact ?? keys[0]]];
    } else if (a.startsWith('-') && a.length > 1) opts = a.slice(1).split('');
    else {
      ctx.stderr.write(FREE_USAGE);
      return 1;
    }
    for (let j = 0; j < opts.length; j++) {
      const c = opts[j];
      const arg = (): string | undefined => {
        if (val !== undefined) return val;
        if (!a.startsWith('--')) {
          const r = opts.slice(j + 1).join('');
          j = opts.length;
          if (r !== '') return r;
        }
        return args[++i];
      };
      switch (c) {
        case 'b':
          exponent = 1;
          break;
        case 'k':
          exponent = 2;
          break;
        case 'm':
          exponent = 3;
          break;
        case 'g':
          exponent = 4;
          break;
        case 'E':
          exponent = 5;
          break;
        case 'Q':
          exponent = 6;
          break;
        case 'K':
          exponent = 2;
          si = true;
          break;
        case 'M':
          exponent = 3;
          si = true;
          break;
        case 'G':
          exponent = 4;
          si = true;
          break;
        case 'T':
          exponent = 5;
          si = true;
          break;
        case 'P':
          exponent = 6;
          si = true;
          break;
        case 'h':
          human = true;
          break;
        case 'S':
          si = true;
          break;
        case 'l':
          lohi = true;
          break;
        case 't':
          total = true;
          break;
        case 'v':
          committed = true;
          break;
        case 'w':
          wide = true;
          break;
        case 's': {
          const v = arg();
          const n = Number(v);
          if (v === undefined || !Number.isFinite(n) || v.trim() === '') return bad(v === undefined ? "option requires an argument -- 's'" : `seconds argument '${v}' failed`);
          if (n < 0) return bad(`seconds argument '${v}' is not positive number`);
          seconds = n;
          break;
        }
        case 'c': {
          const v = arg();
          const n = Number(v);
          if (v === undefined || !/^\d+$/.test(v)) return bad(v === undefined ? "option requires an argument -- 'c'" : `failed to parse count argument: '${v}'`);
          if (n < 1) return bad(`count argument '${v}' is not positive number`);
          count = n;
          break;
        }
        case 'H':
          write(ctx, FREE_USAGE.slice(1));
          return 0;
        case 'V':
          write(ctx, 'free from procps-ng 4.0.2\n');
          return 0;
        default:
          return bad(`invalid option -- '${c}'`);
      }
    }
  }
  const repeat = seconds !== undefined || count !== undefined;
  const delay = seconds ?? 1;
  const sz = (kb: number): string => scaleSize(kb, exponent, si, human);
  const col = (s: string): string => ` ${s.padStart(11)}`;
  for (let iter = 0; ; iter++) {
    ctx.tick(1);
    const m = meminfo(ctx);
    const f = memFigures(m);
    let out = '';
    if (iter > 0) out += '\n';
    out += wide ? '               total        used        free      shared     buffers       cache   available\n' : '               total        used        free      shared  buff/cache   available\n';
    out += 'Mem:'.padEnd(9) + sz(f.total).padStart(11) + col(sz(f.used)) + col(sz(f.free)) + col(sz(f.shared));
    out += wide ? col(sz(f.buffers)) + col(sz(f.cache)) : col(sz(f.buffCache));
    out += col(sz(f.available)) + '\n';
    if (lohi) {
      out += 'Low:'.padEnd(9) + sz(f.total).padStart(11) + col(sz(f.total - f.free)) + col(sz(f.free)) + '\n';
      out += 'High:'.padEnd(9) + sz(0).padStart(11) + col(sz(0)) + col(sz(0)) + '\n';
    }
    out += 'Swap:'.padEnd(9) + sz(f.swapTotal).padStart(11) + col(sz(f.swapUsed)) + col(sz(f.swapFree)) + '\n';
    if (total) out += 'Total:'.padEnd(9) + sz(f.total + f.swapTotal).padStart(11) + col(sz(f.used + f.swapUsed)) + col(sz(f.free + f.swapFree)) + '\n';
    if (committed) {
      const lim = m.CommitLimit ?? 0;
      const as = m.Committed_AS ?? 0;
      out += 'Comm:'.padEnd(9) + sz(lim).padStart(11) + col(sz(as)) + col(sz(lim - as)) + '\n';
    }
    write(ctx, out);
    if (!repeat) return 0;
    if (count !== undefined && iter + 1 >= count) return 0;
    yield* ctx.sleepUntil(ctx.host.now() + Math.round(delay * 1e9));
  }
};

// ------------------------------------------------------------------ uptime

function plural(n: number, w: string): string {
  return `${n} ${w}${n === 1 ? '' : 's'}`;
}

export function prettyUptime(up: number): string {
  let t = Math.floor(up);
  const years = Math.floor(t / (365 * 86400));
  t -= years * 365 * 86400;
  const weeks = Math.floor(t / (7 * 86400));
  t -= weeks * 7 * 86400;
  const days = Math.floor(t / 86400);
  t -= days * 86400;
  const hours = Math.floor(t / 3600);
  const minutes = Math.floor((t % 3600) / 60);
  const parts: string[] = [];
  if (years) parts.push(plural(years, 'year'));
  if (weeks) parts.push(plural(weeks, 'week'));
  if (days) parts.push(plural(days, 'day'));
  if (hours) parts.push(plural(hours, 'hour'));
  if (minutes || parts.length === 0) parts.push(plural(minutes, 'minute'));
  return 'up ' + parts.join(', ');
}

export const uptime = (ctx: ToolCtx): number => {
  const args = ctx.argv.slice(1);
  let mode = '';
  for (const a of args) {
    if (a === '-p' || a === '--pretty') mode = 'p';
    else if (a === '-s' || a === '--since') mode = 's';
    else if (a === '-V' || a === '--version') {
      write(ctx, 'uptime from procps-ng 4.0.2\n');
      return 0;
    } else if (a === '-h' || a === '--help') {
      write(ctx, '\nUsage:\n uptime [options]\n\nOptions:\n -p, --pretty   show uptime in pretty format\n -h, --help     display this help and exit\n -s, --since    system up since\n -V, --version  output version information and exit\n\nFor more details see uptime(1).\n');
      return 0;
    } else {
      ctx.stderr.write(`uptime: ${a.startsWith('-') ? `invalid option -- '${a.slice(1, 2)}'` : `unexpected argument '${a}'`}\n\nUsage:\n uptime [options]\n\nOptions:\n -p, --pretty   show uptime in pretty format\n -h, --help     display this help and exit\n -s, --since    system up since\n -V, --version  output version information and exit\n\nFor more details see uptime(1).\n`);
      return 1;
    }
  }
  const now = wallMs(ctx);
  if (mode === 'p') {
    write(ctx, prettyUptime(uptimeSecs(ctx)[0]) + '\n');
    return 0;
  }
  if (mode === 's') {
    const [up] = uptimeSecs(ctx);
    const d = new Date(Math.floor(now / 1000 - up) * 1000);
    const p = (n: number): string => String(n).padStart(2, '0');
    write(ctx, `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}\n`);
    return 0;
  }
  write(ctx, uptimeLine(ctx, now) + '\n');
  return 0;
};

export const w = (ctx: ToolCtx): number => {
  const args = ctx.argv.slice(1).filter((a) => a.startsWith('-'));
  const noHeader = args.some((a) => /^-[a-z]*h/.test(a) || a === '--no-header');
  const short = args.some((a) => /^-[a-z]*s/.test(a) || a === '--short');
  let out = '';
  if (!noHeader) {
    out += uptimeLine(ctx, wallMs(ctx)) + '\n';
    out += short ? 'USER     TTY      FROM              IDLE WHAT\n' : 'USER     TTY      FROM             LOGIN@   IDLE   JCPU   PCPU WHAT\n';
  }
  write(ctx, out);
  return 0;
};

// ------------------------------------------------------------------ vmstat

interface VmSample {
  cpu: CpuLine;
  intr: number;
  ctxt: number;
  pgpgin: number;
  pgpgout: number;
  pswpin: number;
  pswpout: number;
}

function vmSample(ctx: ToolCtx): VmSample {
  const st = procStat(ctx);
  const vm: Record<string, number> = {};
  for (const l of (readOr(ctx, '/proc/vmstat') ?? '').split('\n')) {
    const [k, v] = l.split(' ');
    if (k) vm[k] = Number(v);
  }
  return { cpu: st.cpu, intr: st.fields.intr?.[0] ?? 0, ctxt: st.fields.ctxt?.[0] ?? 0, pgpgin: vm.pgpgin ?? 0, pgpgout: vm.pgpgout ?? 0, pswpin: vm.pswpin ?? 0, pswpout: vm.pswpout ?? 0 };
}

const VM_USAGE = `
Usage:
 vmstat [options] [delay [count]]

Options:
 -a, --active           active/inactive memory
 -f, --forks            number of forks since boot
 -m, --slabs            slabinfo
 -n, --one-header       do not redisplay header
 -s, --stats            event counter statistics
 -d, --disk             disk statistics
 -D, --disk-sum         summarize disk statistics
 -p, --partition <dev>  partition specific statistics
 -S, --unit <char>      define display unit
 -w, --wide             wide output
 -t, --timestamp        show timestamp
 -y, --no-first         skips first line of output

 -h, --help     display this help and exit
 -V, --version  output version information and exit

For more details see vmstat(8).
`;

export const vmstat = function* (ctx: ToolCtx): Co<number> {
  let active = false;
  let oneHeader = false;
  let stats = false;
  let wide = false;
  let stamp = false;
  let forks = false;
  let noFirst = false;
  let disk = false;
  let unit = 1024;
  const nums: string[] = [];
  const args = ctx.argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('--')) {
      const map: Record<string, string> = { '--active': 'a', '--one-header': 'n', '--stats': 's', '--wide': 'w', '--timestamp': 't', '--forks': 'f', '--no-first': 'y', '--disk': 'd', '--unit': 'S', '--help': 'h', '--version': 'V' };
      const k = a.split('=')[0];
      if (!map[k]) {
        ctx.stderr.write(`vmstat: unrecognized option '${a}'\n${VM_USAGE}`);
        return 1;
      }
      if (map[k] === 'S') {
        const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
        unit = ({ k: 1000, K: 1024, m: 1000000, M: 1048576 } as Record<string, number>)[v ?? ''] ?? 1024;
        continue;
      }
      args.splice(i + 1, 0, '-' + map[k]);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j];
        switch (c) {
          case 'a':
            active = true;
            break;
          case 'n':
            oneHeader = true;
            break;
          case 's':
            stats = true;
            break;
          case 'w':
            wide = true;
            break;
          case 't':
            stamp = true;
            break;
          case 'f':
            forks = true;
            break;
          case 'y':
            noFirst = true;
            break;
          case 'd':
          case 'D':
            disk = true;
            break;
          case 'S': {
            const v = a.slice(j + 1) || args[++i];
            unit = ({ k: 1000, K: 1024, m: 1000000, M: 1048576 } as Record<string, number>)[v ?? ''] ?? 1024;
            j = a.length;
            break;
          }
          case 'h':
            write(ctx, VM_USAGE.slice(1));
            return 0;
          case 'V':
            write(ctx, 'vmstat from procps-ng 4.0.2\n');
            return 0;
          default:
            ctx.stderr.write(`vmstat: invalid option -- '${c}'\n${VM_USAGE}`);
            return 1;
        }
      }
      continue;
    }
    nums.push(a);
  }
  const conv = (kb: number): number => Math.floor((kb * 1024) / unit);
  if (forks) {
    write(ctx, `${String(procStat(ctx).fields.processes?.[0] ?? 0).padStart(13)} forks\n`);
    return 0;
  }
  if (stats) {
    const m = meminfo(ctx);
    const f = memFigures(m);
    const s = vmSample(ctx);
    const st = procStat(ctx);
    const L = (v: number, t: string): string => `${String(v).padStart(13)} ${t}\n`;
    write(
      ctx,
      L(conv(f.total), 'K total memory') +
        L(conv(f.used), 'K used memory') +
        L(conv(m.Active ?? 0), 'K active memory') +
        L(conv(m.Inactive ?? 0), 'K inactive memory') +
        L(conv(f.free), 'K free memory') +
        L(conv(f.buffers), 'K buffer memory') +
        L(conv(f.cache), 'K swap cache') +
        L(conv(f.swapTotal), 'K total swap') +
        L(conv(f.swapUsed), 'K used swap') +
        L(conv(f.swapFree), 'K free swap') +
        L(s.cpu.user, 'non-nice user cpu ticks') +
        L(s.cpu.nice, 'nice user cpu ticks') +
        L(s.cpu.system, 'system cpu ticks') +
        L(s.cpu.idle, 'idle cpu ticks') +
        L(s.cpu.iowait, 'IO-wait cpu ticks') +
        L(s.cpu.irq, 'IRQ cpu ticks') +
        L(s.cpu.softirq, 'softirq cpu ticks') +
        L(s.cpu.steal, 'stolen cpu ticks') +
        L(s.cpu.guest, 'non-nice guest cpu ticks') +
        L(s.cpu.guestNice, 'nice guest cpu ticks') +
        L(s.pgpgin, 'K paged in') +
        L(s.pgpgout, 'K paged out') +
        L(s.pswpin, 'pages swapped in') +
        L(s.pswpout, 'pages swapped out') +
        L(s.intr, 'interrupts') +
        L(s.ctxt, 'CPU context switches') +
        L(st.fields.btime?.[0] ?? 0, 'boot time') +
        L(st.fields.processes?.[0] ?? 0, 'forks'),
    );
    return 0;
  }
  if (disk) {
    let out = 'disk- ------------reads------------ ------------writes----------- -----IO------\n       total merged sectors      ms  total merged sectors      ms    cur    sec\n';
    for (const l of (readOr(ctx, '/proc/diskstats') ?? '').split('\n')) {
      const f = l.trim().split(/\s+/);
      if (f.length < 14) continue;
      // a disk has /sys/block/<name>; partitions do not
      let disk: boolean;
      try {
        disk = ctx.host.stat(ctx.pid, `/sys/block/${f[2]}`, '/').type !== undefined;
      } catch {
        disk = false;
      }
      if (!disk) continue;
      const v = f.slice(3).map(Number);
      out += `${f[2].padEnd(5)} ${String(v[0]).padStart(6)} ${String(v[1]).padStart(6)} ${String(v[2]).padStart(7)} ${String(v[3]).padStart(7)} ${String(v[4]).padStart(6)} ${String(v[5]).padStart(6)} ${String(v[6]).padStart(7)} ${String(v[7]).padStart(7)} ${String(v[8]).padStart(6)} ${String(Math.floor(v[9] / 1000)).padStart(6)}\n`;
    }
    write(ctx, out);
    return 0;
  }
  let delay = 0;
  let count = 1;
  if (nums.length) {
    if (!/^\d+$/.test(nums[0]) || Number(nums[0]) < 1) {
      ctx.stderr.write('vmstat: delay must be positive integer\n');
      return 1;
    }
    delay = Number(nums[0]);
    count = nums.length > 1 ? Number(nums[1]) : Infinity;
    if (nums.length > 1 && (!/^\d+$/.test(nums[1]) || count < 1)) {
      ctx.stderr.write('vmstat: count must be positive integer\n');
      return 1;
    }
  }
  const h1 = wide
    ? '--procs-- -----------------------memory---------------------- ---swap-- -----io---- -system-- ----------cpu----------'
    : 'procs -----------memory---------- ---swap-- -----io---- -system-- ------cpu-----';
  const mem = active ? (wide ? '        inact       active' : '  inact active') : wide ? '         buff        cache' : '   buff  cache';
  const h2 = wide
    ? `   r    b         swpd         free ${mem.slice(1)}   si   so    bi    bo   in   cs  us  sy  id  wa  st  gu`
    : ` r  b   swpd   free${mem}   si   so    bi    bo   in   cs us sy id wa st`;
  const header = (): string => `${h1}${stamp ? ' -----timestamp-----' : ''}\n${h2}${stamp ? '                 UTC' : ''}\n`;
  let prev: VmSample = { cpu: { user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0, guest: 0, guestNice: 0 }, intr: 0, ctxt: 0, pgpgin: 0, pgpgout: 0, pswpin: 0, pswpout: 0 };
  let out = header();
  let lines = 0;
  if (noFirst) {
    prev = vmSample(ctx);
    if (delay) yield* ctx.sleepUntil(ctx.host.now() + delay * 1e9);
  }
  for (let i = 0; i < count; i++) {
    ctx.tick(1);
    if (i > 0 && !oneHeader && lines > 0 && lines % 21 === 0) out += header();
    const s = vmSample(ctx);
    const d = (k: keyof CpuLine): number => s.cpu[k] - prev.cpu[k];
    const duse = d('user') + d('nice');
    const dsys = d('system') + d('irq') + d('softirq');
    let didl = d('idle');
    const diow = d('iowait');
    const dstl = d('steal');
    let div = duse + dsys + didl + diow + dstl;
    if (!div) {
      div = 1;
      didl = 1;
    }
    const half = Math.floor(div / 2);
    const rate = (v: number): number => Math.floor((v * HZ + half) / div);
    const pct = (v: number): number => Math.floor((100 * v + half) / div);
    const m = meminfo(ctx);
    const f = memFigures(m);
    const st = procStat(ctx);
    const vals = [
      st.fields.procs_running?.[0] ?? 0,
      st.fields.procs_blocked?.[0] ?? 0,
      conv(f.swapUsed),
      conv(f.free),
      conv(active ? (m.Inactive ?? 0) : f.buffers),
      conv(active ? (m.Active ?? 0) : f.cache),
      rate(conv((s.pswpin - prev.pswpin) * 4)),
      rate(conv((s.pswpout - prev.pswpout) * 4)),
      rate(s.pgpgin - prev.pgpgin),
      rate(s.pgpgout - prev.pgpgout),
      rate(s.intr - prev.intr),
      rate(s.ctxt - prev.ctxt),
      pct(duse),
      pct(dsys),
      pct(didl),
      pct(diow),
      pct(dstl),
    ];
    const widths = wide ? [4, 4, 12, 12, 12, 12, 4, 4, 5, 5, 4, 4, 3, 3, 3, 3, 3] : [2, 2, 6, 6, 6, 6, 4, 4, 5, 5, 4, 4, 2, 2, 2, 2, 2];
    let line = vals.map((v, k) => String(v).padStart(widths[k])).join(' ');
    if (wide) line += ' ' + String(0).padStart(3);
    if (stamp) {
      const dt = new Date(wallMs(ctx));
      const p = (n: number): string => String(n).padStart(2, '0');
      line += ` ${dt.getUTCFullYear()}-${p(dt.getUTCMonth() + 1)}-${p(dt.getUTCDate())} ${p(dt.getUTCHours())}:${p(dt.getUTCMinutes())}:${p(dt.getUTCSeconds())}`;
    }
    out += line + '\n';
    lines++;
    write(ctx, out);
    out = '';
    prev = s;
    if (i + 1 < count) yield* ctx.sleepUntil(ctx.host.now() + delay * 1e9);
  }
  return 0;
};

// ------------------------------------------------------------------ top

interface TopOpts {
  iterations: number;
  delay: number;
  pids: number[];
  user?: number;
  width: number;
  threads: boolean;
  idle: boolean;
  sortKey: string;
}

export const top = function* (ctx: ToolCtx): Co<number> {
  const names = idNames(ctx);
  const o: TopOpts = { iterations: Infinity, delay: 3, pids: [], width: Number(ctx.env.COLUMNS) || 80, threads: false, idle: true, sortKey: '%CPU' };
  let batch = false;
  const args = ctx.argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    let a = args[i];
    if (!a.startsWith('-')) a = '-' + a;
    for (let j = 1; j < a.length; j++) {
      const c = a[j];
      const arg = (): string => {
        const r = a.slice(j + 1);
        j = a.length;
        return r !== '' ? r : (args[++i] ?? '');
      };
      switch (c) {
        case 'b':
          batch = true;
          break;
        case 'n': {
          const v = arg();
          if (!/^\d+$/.test(v)) {
            ctx.stderr.write(`top: bad iterations argument '${v}'\n`);
            return 1;
          }
          o.iterations = Number(v) || Infinity;
          break;
        }
        case 'd': {
          const v = arg();
          const n = Number(v);
          if (!Number.isFinite(n) || v === '') {
            ctx.stderr.write(`top: bad delay interval '${v}'\n`);
            return 1;
          }
          if (n < 0) {
            ctx.stderr.write(`top: delay interval must be positive\n`);
            return 1;
          }
          o.delay = n;
          break;
        }
        case 'p':
          o.pids.push(...arg().split(',').filter(Boolean).map(Number));
          break;
        case 'u':
        case 'U': {
          const v = arg();
          const id = /^\d+$/.test(v) ? Number(v) : names.userId(v);
          if (id === undefined) {
            ctx.stderr.write(`top: Invalid user\n`);
            return 1;
          }
          o.user = id;
          break;
        }
        case 'w': {
          const r = a.slice(j + 1) || (/^\d+$/.test(args[i + 1] ?? '') ? args[++i] : '');
          j = a.length;
          o.width = r ? Number(r) : 512;
          break;
        }
        case 'H':
          o.threads = true;
          break;
        case 'i':
          o.idle = false;
          break;
        case 'o':
          o.sortKey = arg().replace(/^[+-]/, '').toUpperCase();
          break;
        case 'c':
        case 'S':
        case 's':
        case 'E':
        case 'e':
        case '1':
          if (c === 'E' || c === 'e') arg();
          break;
        case 'v':
        case 'h':
          write(ctx, 'top from procps-ng 4.0.2\n');
          return 0;
        default:
          ctx.stderr.write(`top: unknown option '${c}'\nUsage:\n  top -hv | -bcEeHiOSs1 -d secs -n max -u|U user -p pid(s) -o field -w [cols]\n`);
          return 1;
      }
    }
  }
  // without -b top needs a terminal; on one it redraws until interrupted (or -n frames)
  if (!batch && !ctx.tty) {
    ctx.stderr.write('top: failed tty get\n');
    return 1;
  }
  const pw = pidWidth(ctx);
  let prevCpu: CpuLine | null = null;
  let prevTicks = new Map<number, number>();
  let prevUp = 0;
  for (let it = 0; it < o.iterations; it++) {
    ctx.tick(1);
    const [up] = uptimeSecs(ctx);
    const st = procStat(ctx);
    const m = meminfo(ctx);
    const f = memFigures(m);
    const procs = readProcs(ctx, o.threads);
    let out = !batch ? '\x1b[H\x1b[2J' : it > 0 ? '\n' : '';
    out += `top - ${uptimeLine(ctx, wallMs(ctx)).slice(1)}\n`;
    const shown = procs.filter((p) => (o.pids.length === 0 || o.pids.includes(p.pid)) && (o.user === undefined || p.euid === o.user));
    const cnt = (pred: (p: Proc) => boolean): number => shown.filter(pred).length;
    const running = cnt((p) => p.state === 'R');
    const stopped = cnt((p) => p.state === 'T' || p.state === 't');
    const zombie = cnt((p) => p.state === 'Z');
    out += `${o.threads ? 'Threads' : 'Tasks'}: ${String(shown.length).padStart(3)} total, ${String(running).padStart(3)} running, ${String(shown.length - running - stopped - zombie).padStart(3)} sleeping, ${String(stopped).padStart(3)} stopped, ${String(zombie).padStart(3)} zombie\n`;
    const c = st.cpu;
    const pc = prevCpu ?? { user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0, guest: 0, guestNice: 0 };
    const dd = (k: keyof CpuLine): number => Math.max(0, c[k] - pc[k]);
    const tot = dd('user') + dd('nice') + dd('system') + dd('idle') + dd('iowait') + dd('irq') + dd('softirq') + dd('steal');
    const pct = (k: keyof CpuLine): string => fmt1(tot ? (dd(k) * 100) / tot : k === 'idle' ? 100 : 0, 5);
    out += `%Cpu(s):${pct('user')} us,${pct('system')} sy,${pct('nice')} ni,${pct('idle')} id,${pct('iowait')} wa,${pct('irq')} hi,${pct('softirq')} si,${pct('steal')} st \n`;
    const mib = (kb: number): string => fmt1(kb / 1024, 9);
    out += `MiB Mem :${mib(f.total)} total,${mib(f.free)} free,${mib(f.used)} used,${mib(f.buffCache)} buff/cache     \n`;
    out += `MiB Swap:${mib(f.swapTotal)} total,${mib(f.swapFree)} free,${mib(f.swapUsed)} used.${mib(f.available)} avail Mem \n`;
    out += '\n';
    const elapsed = prevCpu ? up - prevUp : 0;
    const ticks = new Map<number, number>();
    const pcpu = new Map<Proc, number>();
    for (const p of shown) {
      const t = p.utime + p.stime;
      ticks.set(p.tid, t);
      let v: number;
      if (prevCpu && elapsed > 0) v = ((t - (prevTicks.get(p.tid) ?? 0)) / HZ / elapsed) * 100;
      else {
        const life = up - p.start / HZ;
        v = life > 0 ? (t / HZ / life) * 100 : 0;
      }
      pcpu.set(p, v);
    }
    const pmem = (p: Proc): number => (f.total ? (p.vmRss * 100) / f.total : 0);
    let list = shown.filter((p) => o.idle || p.state === 'R' || (pcpu.get(p) ?? 0) > 0);
    const sortVal = (p: Proc): number => (o.sortKey === '%MEM' || o.sortKey === 'RES' ? p.vmRss : o.sortKey === 'PID' ? -p.tid : o.sortKey === 'TIME+' || o.sortKey === 'TIME' ? p.utime + p.stime : o.sortKey === 'VIRT' ? p.vmSize : (pcpu.get(p) ?? 0));
    list = [...list].sort((a, b) => sortVal(b) - sortVal(a));
    const cols: { h: string; w: number; left?: boolean; v: (p: Proc) => string }[] = [
      { h: 'PID', w: pw, v: (p) => String(p.tid) },
      { h: 'USER', w: 8, left: true, v: (p) => names.user(p.euid).slice(0, 8) },
      { h: 'PR', w: 3, v: (p) => (p.priority <= -100 ? 'rt' : String(p.priority)) },
      { h: 'NI', w: 3, v: (p) => String(p.nice) },
      { h: 'VIRT', w: 7, v: (p) => String(p.vmSize) },
      { h: 'RES', w: 6, v: (p) => String(p.vmRss) },
      { h: 'SHR', w: 6, v: (p) => String(p.rssFile + p.rssShmem) },
      { h: 'S', w: 1, v: (p) => p.state },
      { h: '%CPU', w: 5, v: (p) => (pcpu.get(p) ?? 0).toFixed(1) },
      { h: '%MEM', w: 5, v: (p) => pmem(p).toFixed(1) },
      { h: 'TIME+', w: 9, v: (p) => topTime(p.utime + p.stime) },
    ];
    // top leaves the terminal's last column empty
    const maxw = o.width - 1;
    const render = (cells: string[], cmd: string): string => {
      let line = '';
      for (let k = 0; k < cols.length; k++) {
        const cc = cols[k];
        const cell = (k === 0 ? '' : ' ') + (cc.left ? cells[k].padEnd(cc.w) : cells[k].padStart(cc.w));
        if (line.length + cell.length > maxw) return line;
        line += cell;
      }
      const room = maxw - line.length - 1;
      if (room <= 0) return line;
      return line + ' ' + (cmd.length > room ? cmd.slice(0, room - 1) + '+' : cmd);
    };
    out += render(cols.map((cc) => cc.h), 'COMMAND') + '\n';
    for (const p of list) out += render(cols.map((cc) => cc.v(p)), p.comm) + '\n';
    write(ctx, out);
    prevCpu = c;
    prevTicks = ticks;
    prevUp = up;
    if (it + 1 < o.iterations) yield* ctx.sleepUntil(ctx.host.now() + Math.round(o.delay * 1e9));
  }
  return 0;
};

function topTime(ticks: number): string {
  const cs = Math.floor((ticks * 100) / HZ);
  const secs = Math.floor(cs / 100);
  return `${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, '0')}.${String(cs % 100).padStart(2, '0')}`;
}

export { loadavg, userCount };
