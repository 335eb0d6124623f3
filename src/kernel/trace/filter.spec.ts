import { staticEvent } from './data';
import { FilterParseError, compileFilter, filterErrorReadback } from './filter';

const sw = staticEvent('sched', 'sched_switch');
if (!sw) throw new Error('sched_switch format missing');
const fields = sw.fields;
const rec = { prev_comm: 'swapper/0', prev_pid: 0, prev_prio: 120, prev_state: 1, next_comm: 'rcu_preempt', next_pid: 15, next_prio: 120, common_pid: 0 };
const ok = (f: string, r: Record<string, string | number> = rec): boolean => compileFilter(f, fields)(r);
function fails(f: string): { text: string; pos: number } {
  try {
    compileFilter(f, fields);
  } catch (e) {
    if (e instanceof FilterParseError) return { text: e.text, pos: e.pos };
    throw e;
  }
  throw new Error(`filter ${f} compiled`);
}

describe('event filter grammar', () => {
  it.each([
    ['prev_pid == 0', true],
    ['prev_pid != 0', false],
    ['next_pid > 10', true],
    ['next_pid >= 15', true],
    ['next_pid < 15', false],
    ['next_pid <= 15', true],
    ['prev_state & 1', true],
    ['prev_state & 2', false],
    ['next_pid == 0xf', true],
    ['next_comm == "rcu_preempt"', true],
    ['next_comm == rcu_preempt', true],
    ['next_comm != "rcu_preempt"', false],
    ['next_comm ~ "rcu*"', true],
    ['next_comm ~ "*sched"', false],
    ['next_comm ~ "rcu_[pq]reempt"', true],
    ['prev_comm ~ "swapper/?"', true],
    ['prev_pid == 0 && next_pid == 15', true],
    ['prev_pid == 1 || next_pid == 15', true],
    ['prev_pid == 1 || next_pid == 16', false],
    ['!(prev_pid == 1)', true],
    ['!(prev_pid == 0 && next_pid == 15)', false],
    ['(prev_pid == 1 || prev_pid == 0) && (next_prio == 120)', true],
    ['common_pid == 0', true],
    ['prev_prio == -1', false],
  ])('%s => %s', (f, want) => {
    expect(ok(f)).toBe(want);
  });

  it.each([
    ['nosuchfield == 1', 'Field not found', 12],
    ['prev_pid = 1', 'Invalid operator', 9],
    ['prev_pid == abc', 'Invalid value (did you forget quotes)?', 12],
    ['prev_pid == 1x', 'Illegal integer value', 12],
    ['next_comm < "a"', 'Illegal operation for field type', 10],
    ['prev_pid ~ 1', 'Illegal operation for field type', 9],
    ['(prev_pid == 1', "Too many '('", 14],
    ['prev_pid == 1)', "Too few '('", 13],
    ['next_comm == "abc', 'Missing matching quote', 13],
    ['prev_pid ==', 'Meaningless filter expression', 11],
    ['prev_pid == 1 &&', 'Meaningless filter expression', 16],
  ])('rejects %s: %s', (f, text, pos) => {
    expect(fails(f)).toEqual({ text, pos });
  });

  it('reads back an error like the kernel (append_filter_err)', () => {
    expect(filterErrorReadback('nosuchfield == 1', new FilterParseError('Field not found', 12))).toBe(
      'nosuchfield == 1\n            ^\nparse_error: Field not found\n\n',
    );
  });
});
