/**
 * signal and task events from the model: kill(2) from the shell, the kernel's
 * own signals (OOM killer, sysrq) and fork, in the formats of the reference.
 */
import { boot, rd, wr } from './testing';
import { Userspace } from '../userspace/runtime';
import { SIG } from '../sched/task';

const CTX = /^\s*(.+)-(\d+)\s+\[(\d{3})\] (.{5})\s+(\d+\.\d{6}): (\w+)(?:: |\()(.*)$/;

function lines(text: string): { comm: string; pid: number; event: string; body: string }[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = CTX.exec(l) as RegExpExecArray;
      expect(m).not.toBeNull();
      return { comm: m[1].trim(), pid: Number(m[2]), event: m[6], body: m[7] };
    });
}

describe('signal and task events', () => {
  it("the shell's kill: signal_generate from the shell, signal_deliver in the victim, task_newtask at each fork", () => {
    const k = boot();
    wr(k, 'set_event', 'signal:* task:* syscalls:sys_enter_kill');
    const us = new Userspace(k);
    const out = us.exec({ command: 'sleep 10 & echo $! $$; kill $!; wait' }, true).runToEnd();
    const [victim, shell] = out.stdout.trim().split(' ').map(Number);
    const ev = lines(rd(k, 'trace'));
    // fork: the new task, reported by its parent
    expect(ev).toContainEqual({ comm: 'bash', pid: shell, event: 'task_newtask', body: `pid=${victim} comm=bash clone_flags=1200011 oom_score_adj=0` });
    // kill(2) by the shell: the syscall, then the signal it generates (SI_USER, to the group, delivered)
    const kill = ev.findIndex((e) => e.event === 'sys_kill');
    expect(ev[kill]).toMatchObject({ pid: shell, body: `pid: ${victim.toString(16)}, sig: f)` });
    const gen = ev.findIndex((e) => e.event === 'signal_generate');
    expect(ev[gen]).toMatchObject({ pid: shell, body: `sig=15 errno=0 code=0 comm=sleep pid=${victim} grp=1 res=0` });
    // the victim dequeues it on its way out
    expect(ev.slice(gen)).toContainEqual({ comm: 'sleep', pid: victim, event: 'signal_deliver', body: 'sig=15 errno=0 code=0 sa_handler=0 sa_flags=0' });
    expect(kill).toBeGreaterThanOrEqual(0);
  });

  it('a signal whose default action is to ignore it is generated with res=1 and never delivered; nothing without tracing', () => {
    const k = boot();
    const us = new Userspace(k);
    const victim = k.sched.spawn(1, { path: '/usr/bin/sleep', argv: ['sleep', '100'] });
    us.exec({ command: `kill -WINCH ${victim}` }, true).runToEnd();
    expect(rd(k, 'trace').split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([]);
    wr(k, 'set_event', 'signal:*');
    us.exec({ command: `kill -WINCH ${victim}; kill -TERM ${victim}` }, true).runToEnd();
    const ev = lines(rd(k, 'trace'));
    expect(ev.map((e) => [e.pid === victim ? 'victim' : 'sender', e.event, e.body])).toEqual([
      ['sender', 'signal_generate', `sig=28 errno=0 code=0 comm=sleep pid=${victim} grp=1 res=1`],
      ['sender', 'signal_generate', `sig=15 errno=0 code=0 comm=sleep pid=${victim} grp=1 res=0`],
      ['victim', 'signal_deliver', 'sig=15 errno=0 code=0 sa_handler=0 sa_flags=0'],
    ]);
  });

  it("the kernel's own SIGKILL (the OOM killer, sysrq) says SI_KERNEL", () => {
    const k = boot();
    const victim = k.sched.spawn(1, { path: '/usr/bin/sleep', argv: ['sleep', '100'] });
    wr(k, 'set_event', 'signal:signal_generate');
    k.sched.kill(victim, SIG.KILL);
    const ev = lines(rd(k, 'trace'));
    expect(ev).toEqual([{ comm: '<idle>', pid: 0, event: 'signal_generate', body: `sig=9 errno=0 code=128 comm=sleep pid=${victim} grp=1 res=0` }]);
  });
});
