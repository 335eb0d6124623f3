import { KernelError } from '../../../errors';
import type { Kernel } from '../../../kernel';
import { SCHED_BATCH, SCHED_FIFO, SCHED_IDLE, SCHED_NORMAL, SCHED_RR } from '../../../sched/task';
import type { Co, ToolCtx, ToolSpec } from '../../types';
import { errText, write } from '../common';
import { cpulistCreate, cpulistParse, cpumaskCreate, cpumaskParse, kernelOf, selfTask } from './common';

/**
 * util-linux schedutils (taskset, chrt), renice and coreutils nice over
 * k.sched. Running a command under new attributes (taskset MASK cmd,
 * chrt PRIO cmd, nice -n N cmd) changes the tool's own task first and then
 * runs the command as its child, which inherits them through fork, as the
 * real tools do with exec. With a host whose commands are not tasks of
 * k.sched the command runs unchanged.
 */

const strerror = (e: unknown): string => errText(e);

function esrch(): KernelError {
  return new KernelError('ESRCH');
}

function threadsOf(k: Kernel, pid: number, all: boolean): number[] {
  const t = k.sched.task(pid);
  if (!t) throw esrch();
  if (!all) return [pid];
  return k.sched
    .allTasks()
    .filter((x) => x.tgid === t.tgid)
    .map((x) => x.pid);
}

function parsePid(s: string | undefined): number | null {
  if (s === undefined || !/^\s*\d+$/.test(s)) return null;
  return Number(s);
}

// ------------------------------------------------------------------ taskset

function* taskset(ctx: ToolCtx): Co<number> {
  const err = (m: string): number => {
    ctx.stderr.write(`taskset: ${m}\n`);
    return 1;
  };
  let all = false;
  let pidMode = false;
  let list = false;
  const args = ctx.argv.slice(1);
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (a === '--all-tasks') all = true;
    else if (a === '--pid') pidMode = true;
    else if (a === '--cpu-list') list = true;
    else if (a === '--version' || a === '-V') {
      write(ctx, 'taskset from util-linux 2.38.1\n');
      return 0;
    } else if (/^-[apc]+$/.test(a)) {
      for (const c of a.slice(1)) {
        if (c === 'a') all = true;
        else if (c === 'p') pidMode = true;
        else list = true;
      }
    } else if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      ctx.stderr.write(a.startsWith('--') ? `taskset: unrecognized option '${a}'\n` : `taskset: invalid option -- '${a[1]}'\n`);
      ctx.stderr.write("Try 'taskset --help' for more information.\n");
      return 1;
    } else break;
  }
  const ops = args.slice(i);
  if ((pidMode && ops.length < 1) || (!pidMode && ops.length < 2)) {
    ctx.stderr.write("taskset: bad usage\nTry 'taskset --help' for more information.\n");
    return 1;
  }
  const k = kernelOf(ctx);
  const ncpu = k ? k.sched.cpuCount() : 1;
  const parseSet = (s: string): number[] | null => (list ? cpulistParse(s) : cpumaskParse(s));
  const show = (pid: number, which: 'current' | 'new', cpus: number[]): void => {
    write(ctx, list ? `pid ${pid}'s ${which} affinity list: ${cpulistCreate(cpus)}\n` : `pid ${pid}'s ${which} affinity mask: ${cpumaskCreate(cpus)}\n`);
  };
  if (pidMode) {
    const pidArg = ops.length === 1 ? ops[0] : ops[1];
    const pid = parsePid(pidArg);
    if (pid === null) return err(`invalid PID argument: '${pidArg}'`);
    if (!k) return err(`failed to get pid ${pid}'s affinity: No such process`);
    let tids: number[];
    try {
      tids = threadsOf(k, pid, all);
    } catch (e) {
      return err(`failed to get pid ${pid}'s affinity: ${strerror(e)}`);
    }
    const want = ops.length > 1 ? parseSet(ops[0]) : undefined;
    if (want === null) return err(list ? `failed to parse CPU list: ${ops[0]}` : `failed to parse CPU mask: ${ops[0]}`);
    for (const tid of tids) {
      show(tid, 'current', k.sched.affinity(tid));
      if (want === undefined) continue;
      try {
        k.sched.setAffinity(
          tid,
          want.filter((c) => c < ncpu),
          { uid: ctx.host.uid },
        );
      } catch (e) {
        return err(`failed to set pid ${tid}'s affinity: ${strerror(e)}`);
      }
      show(tid, 'new', k.sched.affinity(tid));
    }
    return 0;
  }
  const want = parseSet(ops[0]);
  if (want === null) return err(list ? `failed to parse CPU list: ${ops[0]}` : `failed to parse CPU mask: ${ops[0]}`);
  const self = k ? selfTask(ctx, k) : undefined;
  if (k && self !== undefined) {
    try {
      k.sched.setAffinity(
        self,
        want.filter((c) => c < ncpu),
        { uid: ctx.host.uid },
      );
    } catch (e) {
      return err(`failed to set pid ${self}'s affinity: ${strerror(e)}`);
    }
  } else if (!want.some((c) => c < ncpu)) return err(`failed to set pid 0's affinity: Invalid argument`);
  return yield* ctx.run(ops.slice(1));
}

// ------------------------------------------------------------------ chrt

const POLICY_NAMES: Record<number, string> = {
  [SCHED_NORMAL]: 'SCHED_OTHER',
  [SCHED_FIFO]: 'SCHED_FIFO',
  [SCHED_RR]: 'SCHED_RR',
  [SCHED_BATCH]: 'SCHED_BATCH',
  [SCHED_IDLE]: 'SCHED_IDLE',
  6: 'SCHED_DEADLINE',
};

const prioRange = (policy: number): [number, number] => (policy === SCHED_FIFO || policy === SCHED_RR ? [1, 99] : [0, 0]);

function* chrt(ctx: ToolCtx): Co<number> {
  const err = (m: string): number => {
    ctx.stderr.write(`chrt: ${m}\n`);
    return 1;
  };
  let policy = SCHED_RR;
  let all = false;
  let pidMode = false;
  let max = false;
  let verbose = false;
  const args = ctx.argv.slice(1);
  let i = 0;
  const longs: Record<string, string> = { '--batch': 'b', '--deadline': 'd', '--fifo': 'f', '--idle': 'i', '--other': 'o', '--rr': 'r', '--reset-on-fork': 'R', '--all-tasks': 'a', '--max': 'm', '--pid': 'p', '--verbose': 'v' };
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (a === '--version' || a === '-V') {
      write(ctx, 'chrt from util-linux 2.38.1\n');
      return 0;
    }
    const cs = longs[a] ?? (/^-[bdfiorRampv]+$/.test(a) ? a.slice(1) : undefined);
    if (cs === undefined) {
      if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
        ctx.stderr.write(a.startsWith('--') ? `chrt: unrecognized option '${a}'\n` : `chrt: invalid option -- '${[...a.slice(1)].find((c) => !'bdfiorRampv'.includes(c))}'\n`);
        ctx.stderr.write("Try 'chrt --help' for more information.\n");
        return 1;
      }
      break;
    }
    for (const c of cs) {
      if (c === 'b') policy = SCHED_BATCH;
      else if (c === 'd') policy = 6;
      else if (c === 'f') policy = SCHED_FIFO;
      else if (c === 'i') policy = SCHED_IDLE;
      else if (c === 'o') policy = SCHED_NORMAL;
      else if (c === 'r') policy = SCHED_RR;
      else if (c === 'a') all = true;
      else if (c === 'm') max = true;
      else if (c === 'p') pidMode = true;
      else if (c === 'v') verbose = true;
    }
  }
  if (max) {
    for (const p of [SCHED_NORMAL, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, 6]) {
      const [lo, hi] = prioRange(p);
      write(ctx, `${POLICY_NAMES[p]} min/max priority\t: ${lo}/${hi}\n`);
    }
    return 0;
  }
  const ops = args.slice(i);
  if ((pidMode && ops.length < 1) || (!pidMode && ops.length < 2)) {
    ctx.stderr.write("chrt: bad usage\nTry 'chrt --help' for more information.\n");
    return 1;
  }
  const k = kernelOf(ctx);
  const showPid = (pid: number, which: 'current' | 'new'): number => {
    const t = k?.sched.taskInfo(pid);
    if (!t) return err(`failed to get pid ${pid}'s policy: No such process`);
    write(ctx, `pid ${pid}'s ${which} scheduling policy: ${POLICY_NAMES[t.policy] ?? String(t.policy)}\n`);
    write(ctx, `pid ${pid}'s ${which} scheduling priority: ${t.rtPrio}\n`);
    return 0;
  };
  if (pidMode && ops.length === 1) {
    const pid = parsePid(ops[0]);
    if (pid === null) return err(`invalid PID argument: '${ops[0]}'`);
    if (!k || !k.sched.task(pid)) return err(`failed to get pid ${pid}'s policy: No such process`);
    for (const tid of threadsOf(k, pid, all)) {
      const r = showPid(tid, 'current');
      if (r) return r;
    }
    return 0;
  }
  if (!/^\s*-?\d+$/.test(ops[0])) return err(`invalid priority argument: '${ops[0]}'`);
  const prio = Number(ops[0]);
  const [lo, hi] = prioRange(policy);
  if (prio < lo || prio > hi) return err(`unsupported priority value for the policy: ${prio}: see --max for valid range`);
  const apply = (pid: number): number => {
    if (!k) return err(`failed to set pid ${pid}'s policy: Operation not permitted`);
    try {
      if (policy === 6) throw new KernelError('EINVAL');
      k.sched.setPolicy(pid, policy, prio, { uid: ctx.host.uid });
    } catch (e) {
      return err(`failed to set pid ${pid}'s policy: ${strerror(e)}`);
    }
    return verbose ? showPid(pid, 'new') : 0;
  };
  if (pidMode) {
    const pid = parsePid(ops[1]);
    if (pid === null) return err(`invalid PID argument: '${ops[1]}'`);
    if (!k || !k.sched.task(pid)) return err(`failed to set pid ${pid}'s policy: No such process`);
    for (const tid of threadsOf(k, pid, all)) {
      const r = apply(tid);
      if (r) return r;
    }
    return 0;
  }
  const self = k ? selfTask(ctx, k) : undefined;
  if (self !== undefined) {
    const r = apply(self);
    if (r) return r;
  } else if (ctx.host.uid !== 0 && (policy === SCHED_FIFO || policy === SCHED_RR)) return err(`failed to set pid 0's policy: Operation not permitted`);
  return yield* ctx.run(ops.slice(1));
}

// ------------------------------------------------------------------ renice

function renice(ctx: ToolCtx): number {
  const args = ctx.argv.slice(1);
  if (args.length === 0) {
    ctx.stderr.write("renice: not enough arguments\nTry 'renice --help' for more information.\n");
    return 1;
  }
  if (args[0] === '-V' || args[0] === '--version') {
    write(ctx, 'renice from util-linux 2.38.1\n');
    return 0;
  }
  let i = 0;
  if (args[0] === '-n' || args[0] === '--priority') i = 1;
  const prioArg = args[i];
  if (prioArg === undefined || !/^[+-]?\d+$/.test(prioArg)) {
    ctx.stderr.write(`renice: invalid priority '${prioArg ?? ''}'\nTry 'renice --help' for more information.\n`);
    return 1;
  }
  const prio = Number(prioArg);
  const k = kernelOf(ctx);
  let which: 'p' | 'g' | 'u' = 'p';
  let status = 0;
  const names = { p: 'process ID', g: 'process group ID', u: 'user ID' };
  for (const a of args.slice(i + 1)) {
    if (a === '-p' || a === '--pid') {
      which = 'p';
      continue;
    }
    if (a === '-g' || a === '--pgrp') {
      which = 'g';
      continue;
    }
    if (a === '-u' || a === '--user') {
      which = 'u';
      continue;
    }
    let id: number;
    if (which === 'u' && !/^\d+$/.test(a)) {
      const pw = (() => {
        try {
          return ctx.host.readFile(ctx.pid, '/etc/passwd', '/');
        } catch {
          return '';
        }
      })();
      const f = pw.split('\n').find((l) => l.split(':')[0] === a);
      if (!f) {
        ctx.stderr.write(`renice: unknown user ${a}\n`);
        status = 1;
        continue;
      }
      id = Number(f.split(':')[2]);
    } else if (/^\d+$/.test(a)) id = Number(a);
    else {
      ctx.stderr.write(`renice: invalid ${names[which]} '${a}'\nTry 'renice --help' for more information.\n`);
      return 1;
    }
    const targets = k
      ? k.sched
          .allTasks()
          .filter((t) => !t.kthread && t.state !== 'Z' && (which === 'p' ? t.pid === id : which === 'g' ? t.pid === t.tgid && t.pgid === id : t.pid === t.tgid && t.uid === id))
      : [];
    if (targets.length === 0) {
      ctx.stderr.write(`renice: failed to get priority for ${id} (${names[which]}): No such process\n`);
      status = 1;
      continue;
    }
    const old = which === 'p' ? targets[0].nice : Math.min(...targets.map((t) => t.nice));
    try {
      for (const t of targets) k!.sched.setNice(t.pid, prio, { uid: ctx.host.uid });
    } catch (e) {
      ctx.stderr.write(`renice: failed to set priority for ${id} (${names[which]}): ${strerror(e)}\n`);
      status = 1;
      continue;
    }
    const now = which === 'p' ? k!.sched.taskInfo(targets[0].pid)!.nice : Math.min(...targets.map((t) => k!.sched.taskInfo(t.pid)?.nice ?? prio));
    write(ctx, `${id} (${names[which]}) old priority ${old}, new priority ${now}\n`);
  }
  return status;
}

// ------------------------------------------------------------------ nice

function* nice(ctx: ToolCtx): Co<number> {
  const args = ctx.argv.slice(1);
  let adj: string | undefined;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (a === '-n' || a === '--adjustment') {
      adj = args[++i];
      if (adj === undefined) {
        ctx.stderr.write(`nice: option requires an argument -- 'n'\nTry 'nice --help' for more information.\n`);
        return 125;
      }
      continue;
    }
    let m = /^--adjustment=(.*)$/.exec(a) ?? /^-n(.+)$/.exec(a);
    if (m) {
      adj = m[1];
      continue;
    }
    m = /^-([+-]?\d+)$/.exec(a);
    if (m) {
      adj = m[1];
      continue;
    }
    if (a === '--version') {
      write(ctx, 'nice (GNU coreutils) 9.1\n');
      return 0;
    }
    if (a.startsWith('-') && a.length > 1) {
      ctx.stderr.write(a.startsWith('--') ? `nice: unrecognized option '${a}'\n` : `nice: invalid option -- '${a[1]}'\n`);
      ctx.stderr.write("Try 'nice --help' for more information.\n");
      return 125;
    }
    break;
  }
  const cmd = args.slice(i);
  const k = kernelOf(ctx);
  const self = k ? selfTask(ctx, k) : undefined;
  const current = k && self !== undefined ? (k.sched.taskInfo(self)?.nice ?? 0) : 0;
  if (cmd.length === 0) {
    if (adj !== undefined) {
      ctx.stderr.write("nice: a command must be given with an adjustment\nTry 'nice --help' for more information.\n");
      return 125;
    }
    write(ctx, `${current}\n`);
    return 0;
  }
  let n = 10;
  if (adj !== undefined) {
    if (!/^[+-]?\d+$/.test(adj)) {
      ctx.stderr.write(`nice: invalid adjustment '${adj}'\n`);
      return 125;
    }
    n = Math.max(-40, Math.min(40, Number(adj)));
  }
  if (k && self !== undefined) {
    try {
      k.sched.setNice(self, Math.max(-20, Math.min(19, current + n)), { uid: ctx.host.uid });
    } catch (e) {
      ctx.stderr.write(`nice: cannot set niceness: ${e instanceof KernelError && e.code === 'EACCES' ? 'Permission denied' : strerror(e)}\n`);
    }
  } else if (n < 0 && ctx.host.uid !== 0) ctx.stderr.write('nice: cannot set niceness: Permission denied\n');
  return yield* ctx.run(cmd);
}

export const SCHEDUTILS_TOOLS: ToolSpec[] = [
  { name: 'taskset', run: taskset },
  { name: 'chrt', run: chrt },
  { name: 'renice', run: renice },
  { name: 'nice', run: nice },
];
