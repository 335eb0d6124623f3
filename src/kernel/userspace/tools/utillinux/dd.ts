import { KernelError } from '../../../errors';
import type { StatInfo } from '../../../shell/host';
import type { Co, ToolCtx, ToolSpec } from '../../types';
import { errText, statOrNull, write } from '../common';
import { kernelOf, selfTask } from './common';

/**
 * coreutils 9.1 dd: if= of= bs= ibs= obs= count= skip= seek= conv= status=
 * (iflag/oflag accepted and ignored). Data goes through the host (files,
 * device nodes: /dev/zero, /dev/null, /dev/full, /dev/urandom, /dev/random);
 * the time it takes is modelled and passes in virtual time, so the summary's
 * seconds and rate come from the machine's clock.
 */

/** gnulib human_readable() with human_autoscale | human_round_to_nearest | human_space_before_unit | human_SI | human_B. */
export function humanSI(n: number, base: 1000 | 1024, fromBlock = 1, toBlock = 1): string {
  const letters = ['', 'k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
  const suffix = (e: number): string => (e === 0 ? ' B' : ' ' + (base === 1000 && e === 1 ? 'k' : letters[e].toUpperCase()) + (base === 1024 ? 'iB' : 'B'));
  const integer = toBlock <= fromBlock ? fromBlock % toBlock === 0 : toBlock % fromBlock === 0;
  if (!integer) {
    // floating point path: always scaled at least once
    const damt0 = n * (fromBlock / toBlock);
    let e = 1;
    let exponent = 0;
    do {
      e *= base;
      exponent++;
    } while (e * base <= damt0 && exponent < 8);
    const damt = damt0 / e;
    let s = damt.toFixed(1);
    if (s.length > 1 + 2 + (base === 1024 ? 0 : 1)) s = (Math.round(damt * 10) / 10).toFixed(0);
    return s + suffix(exponent);
  }
  // integer path (exact)
  let amt: number;
  let tenths = 0;
  let rounding = 0;
  if (toBlock <= fromBlock) amt = n * (fromBlock / toBlock);
  else {
    const divisor = toBlock / fromBlock;
    const r10 = (n % divisor) * 10;
    const r2 = (r10 % divisor) * 2;
    amt = Math.floor(n / divisor);
    tenths = Math.floor(r10 / divisor);
    rounding = r2 < divisor ? (0 < r2 ? 1 : 0) : 2 + (divisor < r2 ? 1 : 0);
  }
  let exponent = 0;
  let point = '';
  if (base <= amt) {
    do {
      const r10 = (amt % base) * 10 + tenths;
      const r2 = (r10 % base) * 2 + (rounding >> 1);
      amt = Math.floor(amt / base);
      tenths = Math.floor(r10 / base);
      rounding = r2 < base ? (r2 + rounding !== 0 ? 1 : 0) : 2 + (base < r2 + rounding ? 1 : 0);
      exponent++;
    } while (base <= amt && exponent < 8);
    if (amt < 10) {
      if (2 < rounding + (tenths & 1)) {
        tenths++;
        rounding = 0;
        if (tenths === 10) {
          amt++;
          tenths = 0;
        }
      }
      if (amt < 10) {
        point = '.' + tenths;
        tenths = rounding = 0;
      }
    }
  }
  if (5 < tenths + (0 < rounding + (amt & 1) ? 1 : 0)) {
    amt++;
    if (amt === base && exponent < 8) {
      exponent++;
      point = '.0';
      amt = 1;
    }
  }
  return `${amt}${point}${suffix(exponent)}`;
}

/** printf("%g") */
export function fmtG(v: number): string {
  if (v === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(v)));
  let s: string;
  if (exp < -4 || exp >= 6) {
    s = v.toExponential(5);
    const [m0, e] = s.split('e');
    let mant = m0;
    if (mant.includes('.')) mant = mant.replace(/0+$/, '').replace(/\.$/, '');
    const en = Number(e);
    s = `${mant}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
  } else {
    s = v.toPrecision(6);
    if (s.includes('e')) return fmtG(Number(s));
    if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  }
  return s;
}

/** the final line of dd's statistics */
export function xferStats(bytes: number, ns: number, progress = false): string {
  const si = humanSI(bytes, 1000);
  const iec = humanSI(bytes, 1024);
  const rate = ns > 0 ? humanSI(bytes, 1000, 1e9, ns) : 'Infinity B';
  const secs = ns / 1e9;
  const ds = progress ? `${Math.round(secs)} s` : `${fmtG(secs)} s`;
  if (si.endsWith(' B')) return `${bytes} byte${bytes === 1 ? '' : 's'} copied, ${ds}, ${rate}/s`;
  if (iec.endsWith(' B')) return `${bytes} bytes (${si}) copied, ${ds}, ${rate}/s`;
  return `${bytes} bytes (${si}, ${iec}) copied, ${ds}, ${rate}/s`;
}

/** dd's number syntax: 1M, 2x512, 1kB, 4b, 2w ... ; null when invalid */
export function parseDdNumber(s: string): number | null {
  const parts = s.split('x');
  let v = 1;
  for (const p of parts) {
    const m = /^(\d+)(c|w|b|kB|K|k|KiB|MB|M|MiB|xM|GB|G|GiB|TB|T|TiB|PB|P|PiB|EB|E|EiB)?$/.exec(p);
    if (!m) return null;
    const unit = m[2] ?? '';
    const mul: Record<string, number> = {
      '': 1,
      c: 1,
      w: 2,
      b: 512,
      kB: 1e3,
      K: 1024,
      k: 1024,
      KiB: 1024,
      MB: 1e6,
      M: 1 << 20,
      MiB: 1 << 20,
      GB: 1e9,
      G: 2 ** 30,
      GiB: 2 ** 30,
      TB: 1e12,
      T: 2 ** 40,
      TiB: 2 ** 40,
      PB: 1e15,
      P: 2 ** 50,
      PiB: 2 ** 50,
      EB: 1e18,
      E: 2 ** 60,
      EiB: 2 ** 60,
    };
    v *= Number(m[1]) * mul[unit];
  }
  return Number.isSafeInteger(v) ? v : null;
}

type DevKind = 'zero' | 'null' | 'full' | 'random' | 'file' | 'std' | 'blk';

function devKind(st: StatInfo | null): DevKind {
  if (st?.type === 'blk') return 'blk';
  if (!st || st.type !== 'chr' || !st.rdev || st.rdev.major !== 1) return 'file';
  switch (st.rdev.minor) {
    case 3:
      return 'null';
    case 5:
      return 'zero';
    case 7:
      return 'full';
    case 8:
    case 9:
      return 'random';
    default:
      return 'file';
  }
}

/** modelled throughput, ns per byte */
const READ_NS: Record<DevKind, number> = { zero: 0.1, null: 0, full: 0.1, random: 2.4, file: 0.35, std: 0.5, blk: 0.35 };
const WRITE_NS: Record<DevKind, number> = { zero: 0, null: 0, full: 0, random: 0.05, file: 0.5, std: 0.5, blk: 0.5 };
/** bytes one dd may write to a file or stdout (the machine keeps files as strings) */
const MAX_MATERIALISED = 32 << 20;
/** per read()+write() pair */
const SYSCALL_NS = 1200;

function* dd(ctx: ToolCtx): Co<number> {
  const err = (m: string): void => void ctx.stderr.write(`dd: ${m}\n`);
  const ops: Record<string, string> = {};
  const known = ['if', 'of', 'bs', 'ibs', 'obs', 'cbs', 'count', 'skip', 'seek', 'iseek', 'oseek', 'conv', 'iflag', 'oflag', 'status'];
  for (const a of ctx.argv.slice(1)) {
    if (a === '--help') {
      write(ctx, 'Usage: dd [OPERAND]...\n  or:  dd OPTION\n');
      return 0;
    }
    if (a === '--version') {
      write(ctx, 'dd (coreutils) 9.1\n');
      return 0;
    }
    const eq = a.indexOf('=');
    const key = eq < 0 ? a : a.slice(0, eq);
    if (eq < 0 || !known.includes(key)) {
      err(`unrecognized operand '${a}'`);
      ctx.stderr.write("Try 'dd --help' for more information.\n");
      return 1;
    }
    ops[key === 'iseek' ? 'skip' : key === 'oseek' ? 'seek' : key] = a.slice(eq + 1);
  }
  const num = (key: string, dflt: number): number | null => {
    const v = ops[key];
    if (v === undefined) return dflt;
    const n = parseDdNumber(v);
    if (n === null) {
      err(`invalid number: '${v}'`);
      return null;
    }
    return n;
  };
  const bs = num('bs', 0);
  const ibs0 = num('ibs', 512);
  const obs0 = num('obs', 512);
  const count = num('count', -1);
  const skip = num('skip', 0);
  const seek = num('seek', 0);
  if (bs === null || ibs0 === null || obs0 === null || count === null || skip === null || seek === null) return 1;
  const ibs = bs || ibs0;
  const obs = bs || obs0;
  if (ibs === 0 || obs === 0) {
    err(`invalid number: '0'`);
    return 1;
  }
  const status = ops.status ?? 'default';
  if (!['default', 'none', 'noxfer', 'progress'].includes(status)) {
    err(`invalid status level: '${status}'`);
    ctx.stderr.write("Try 'dd --help' for more information.\n");
    return 1;
  }
  const conv = (ops.conv ?? '').split(',').filter(Boolean);
  for (const c of conv) {
    if (!['notrunc', 'noerror', 'sync', 'fsync', 'fdatasync', 'excl', 'nocreat', 'sparse', 'lcase', 'ucase', 'swab'].includes(c)) {
      err(`invalid conversion: '${c}'`);
      ctx.stderr.write("Try 'dd --help' for more information.\n");
      return 1;
    }
  }

  // ---------------------------------------------------------------- input
  const inPath = ops.if;
  const inSt = inPath !== undefined ? statOrNull(ctx, inPath) : null;
  if (inPath !== undefined && !inSt) {
    err(`failed to open '${inPath}': No such file or directory`);
    return 1;
  }
  const inKind: DevKind = inPath === undefined ? 'std' : devKind(inSt);
  let inData = '';
  if (inKind === 'std') inData = ctx.stdin.readAll();
  else if (inKind === 'file') {
    try {
      if (inSt?.type === 'dir') throw new KernelError('EISDIR');
      inData = ctx.host.readFile(ctx.pid, inPath as string, ctx.cwd);
    } catch (e) {
      if (e instanceof KernelError && e.code === 'EISDIR') err(`error reading '${inPath}': Is a directory`);
      else err(`failed to open '${inPath}': ${errText(e)}`);
      return 1;
    }
  }
  const infinite = inKind === 'zero' || inKind === 'full' || inKind === 'random';
  // block device nodes: the disk's bytes (read through its page cache; the model's disks read as zeros)
  const kk = kernelOf(ctx);
  const blkName = (st: StatInfo | null): string | undefined =>
    st?.rdev && kk ? kk.devices.blockDevices().find((b) => b.major === st.rdev?.major && b.minor === st.rdev?.minor)?.name : undefined;
  const blkSize = (n: string | undefined): number => (n && kk ? (kk.devices.blockDevices().find((b) => b.name === n)?.sectors ?? 0) * 512 : 0);
  const inBlk = inKind === 'blk' ? blkName(inSt) : undefined;
  if (inKind === 'blk' && (!inBlk || !ctx.host.access(ctx.pid, inPath as string, ctx.cwd, 4))) {
    err(`failed to open '${inPath}': ${inBlk ? 'Permission denied' : 'No such device or address'}`);
    return 1;
  }
  const inBlkSize = blkSize(inBlk);
  if (inKind === 'null') inData = '';

  // ---------------------------------------------------------------- output
  const outPath = ops.of;
  let outSt = outPath !== undefined ? statOrNull(ctx, outPath) : null;
  const outKind: DevKind = outPath === undefined ? 'std' : outSt ? devKind(outSt) : 'file';
  const notrunc = conv.includes('notrunc');
  let outBase = '';
  if (outKind === 'file' && outPath !== undefined) {
    if (outSt?.type === 'dir') {
      err(`failed to open '${outPath}': Is a directory`);
      return 1;
    }
    if (!outSt && conv.includes('nocreat')) {
      err(`failed to open '${outPath}': No such file or directory`);
      return 1;
    }
    if (outSt && !ctx.host.access(ctx.pid, outPath, ctx.cwd, 2)) {
      err(`failed to open '${outPath}': Permission denied`);
      return 1;
    }
    if (outSt && conv.includes('excl')) {
      err(`failed to open '${outPath}': File exists`);
      return 1;
    }
    try {
      const at = seek * obs;
      // pseudo files (size 0) are neither read back nor truncated: only the data is written
      const existing = outSt && outSt.size > 0 && (notrunc || at > 0) ? ctx.host.readFile(ctx.pid, outPath, ctx.cwd) : '';
      outBase = notrunc ? existing : existing.slice(0, at);
      if (outBase.length < at) outBase += '\0'.repeat(at - outBase.length);
      // open(O_CREAT | (notrunc ? 0 : O_TRUNC))
      if (!outSt || (outSt.size > 0 && !notrunc)) ctx.host.writeFile(ctx.pid, outPath, ctx.cwd, outBase);
      outSt = statOrNull(ctx, outPath);
    } catch (e) {
      err(`failed to open '${outPath}': ${errText(e)}`);
      return 1;
    }
  }
  const outBlk = outKind === 'blk' ? blkName(outSt) : undefined;
  if (outKind === 'blk' && (!outBlk || !ctx.host.access(ctx.pid, outPath as string, ctx.cwd, 2))) {
    err(`failed to open '${outPath}': ${outBlk ? 'Permission denied' : 'No such device or address'}`);
    return 1;
  }
  const outBlkSize = blkSize(outBlk);
  const needData = outKind === 'file' || outKind === 'std';
  // random bytes: a xorshift32 seeded once from the machine's rng (deterministic and fast);
  // bytes below 0x80, since the machine's files are strings and such a char is one byte in every tool
  let seed = ctx.host.random() >>> 0 || 0x9e3779b9;
  const randomBlock = (n: number): string => {
    const codes = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      codes[i] = (seed >>> 24) & 0x7f;
    }
    let out = '';
    for (let i = 0; i < n; i += 8192) out += String.fromCharCode(...codes.slice(i, i + 8192));
    return out;
  };

  // ---------------------------------------------------------------- copy
  let inPos = inKind === 'std' || inKind === 'file' || inKind === 'blk' ? skip * ibs : 0;
  const inStart = inPos;
  let skipShort = false;
  if ((inKind === 'std' || inKind === 'file') && inPos > inData.length) {
    skipShort = true;
    inPos = inData.length;
  }
  let inFull = 0;
  let inPartial = 0;
  let outFull = 0;
  let outPartial = 0;
  let bytes = 0;
  let writeErr: string | undefined;
  const chunks: string[] = [];
  // files are JSON-serialised strings in the machine's state: one dd writes at most this much (as if RLIMIT_FSIZE)
  const maxBytes = MAX_MATERIALISED;
  let stdoutText = '';
  const flushStd = (): void => {
    if (stdoutText) ctx.stdout.write(stdoutText);
    stdoutText = '';
  };
  for (let rec = 0; count < 0 || rec < count; rec++) {
    let block: string | number;
    if (infinite) block = needData ? (inKind === 'random' ? randomBlock(ibs) : '\0'.repeat(ibs)) : ibs;
    else if (inKind === 'blk') {
      if (inPos >= inBlkSize) break;
      const n = Math.min(ibs, inBlkSize - inPos);
      block = needData ? '\0'.repeat(n) : n;
      inPos += n;
    } else {
      if (inPos >= inData.length) break;
      block = inData.slice(inPos, inPos + ibs);
      inPos += block.length;
    }
    const len = typeof block === 'number' ? block : block.length;
    if (len === ibs) inFull++;
    else inPartial++;
    if (needData && bytes + len > maxBytes) {
      writeErr = `error writing '${outPath ?? 'standard output'}': File too large`;
      break;
    }
    if (outKind === 'full' || (outKind === 'blk' && seek * obs + bytes + len > outBlkSize)) {
      writeErr = `error writing '${outPath}': No space left on device`;
      break;
    }
    if (typeof block === 'string' && outKind === 'file') chunks.push(block);
    else if (typeof block === 'string' && outKind === 'std') {
      stdoutText += block;
      if (stdoutText.length >= 1 << 16) flushStd();
    }
    bytes += len;
    // with bs= each block is written as it was read; otherwise output is re-blocked by obs
    if (bs) {
      if (len === obs) outFull++;
      else outPartial++;
    }
    if ((rec & 63) === 63) ctx.tick(1 + Math.floor((needData ? 64 * len : 0) / 65536));
  }
  flushStd();
  if (outKind === 'file' && chunks.length) {
    const data = chunks.join('');
    const at = seek * obs;
    let code = '';
    const attempt = (n: number): boolean => {
      try {
        ctx.host.writeFile(ctx.pid, outPath as string, ctx.cwd, outBase.slice(0, at) + data.slice(0, n) + (notrunc ? outBase.slice(at + n) : ''));
        return true;
      } catch (e) {
        writeErr = `error writing '${outPath}': ${errText(e)}`;
        code = e instanceof KernelError ? e.code : '';
        return false;
      }
    };
    if (!attempt(data.length)) {
      if (code === 'ENOSPC') {
        // the filesystem filled up: what fits was written (whole output blocks)
        let lo = 0;
        let hi = Math.floor(data.length / obs);
        while (lo < hi) {
          const mid = Math.ceil((lo + hi) / 2);
          if (attempt(mid * obs)) lo = mid;
          else hi = mid - 1;
        }
        attempt(lo * obs);
        writeErr = `error writing '${outPath}': No space left on device`;
        bytes = lo * obs;
      } else bytes = 0;
    }
  }
  if (!bs || (writeErr && outKind !== 'full')) {
    outFull = Math.floor(bytes / obs);
    outPartial = bytes % obs ? 1 : 0;
  }

  // ---------------------------------------------------------------- time
  const k = kernelOf(ctx);
  const self = k ? selfTask(ctx, k) : undefined;
  const records = inFull + inPartial;
  const readBytes = bytes + (outKind === 'full' ? ibs * records : 0);
  let ns = SYSCALL_NS * Math.max(1, records) + readBytes * READ_NS[inKind] + bytes * WRITE_NS[outKind] + 20_000;
  ns = Math.round(ns * (0.95 + (ctx.host.random() % 1000) / 10000));
  // block device nodes: reads wait for the disk where the page cache misses; writes dirty it, conv=fsync writes back and flushes
  if (k && self !== undefined) {
    if (inBlk && inPos > inStart) ns += k.devices.bdevRead(self, inBlk, inStart, inPos - inStart);
    if (outBlk && bytes > 0) k.devices.bdevWrite(outBlk, seek * obs, bytes, self);
    if (outBlk && (conv.includes('fsync') || conv.includes('fdatasync'))) ns += k.devices.bdevSync(self, outBlk, true);
  }
  const start = ctx.host.now();
  if (k && self !== undefined) {
    try {
      k.sched.addIo(self, { rchar: readBytes, wchar: bytes, syscr: records, syscw: outFull + outPartial });
    } catch {
      // the task went away
    }
  }
  const progressLines: string[] = [];
  if (status === 'progress') {
    for (let s = 1; s * 1e9 < ns; s++) {
      yield* ctx.sleepUntil(start + s * 1e9);
      const b = Math.floor((bytes * s * 1e9) / ns);
      const line = xferStats(b, s * 1e9, true);
      progressLines.push(line);
      ctx.stderr.write(`\r${line}`);
    }
  }
  yield* ctx.sleepUntil(start + ns);
  const elapsed = Math.max(1, ctx.host.now() - start);
  if (writeErr) err(writeErr);
  if (skipShort) err(`'${inPath ?? 'standard input'}': cannot skip to specified offset`);
  if (status !== 'none') {
    let out = '';
    if (progressLines.length) out += '\n';
    out += `${inFull}+${inPartial} records in\n${outFull}+${outPartial} records out\n`;
    if (status !== 'noxfer') out += xferStats(bytes, elapsed) + '\n';
    ctx.stderr.write(out);
  }
  return writeErr ? 1 : 0;
}

export const DD_TOOLS: ToolSpec[] = [{ name: 'dd', run: dd }];
