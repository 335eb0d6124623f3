import type { AndOr, SimpleCommand } from './ast';
import { Parser, ShellSyntaxError } from './parser';

const first = (src: string): AndOr => Parser.parse(src).commands[0].items[0];
const simple = (src: string): SimpleCommand => first(src).first.commands[0] as SimpleCommand;

function syntaxError(src: string, limits = {}): ShellSyntaxError {
  try {
    Parser.parse(src, limits);
  } catch (e) {
    if (e instanceof ShellSyntaxError) return e;
    throw e;
  }
  throw new Error(`no syntax error for ${JSON.stringify(src)}`);
}

describe('shell parser', () => {
  it('parses a simple command with words, assignments and redirections, with positions', () => {
    const c = simple('A=1 echo  "a b" c >out 2>&1');
    expect(c.type).toBe('simple');
    expect(c.assigns).toMatchObject([{ name: 'A', append: false, pos: 0, line: 1 }]);
    expect(c.words.map((w) => w.raw)).toEqual(['echo', '"a b"', 'c']);
    expect(c.words.map((w) => w.pos)).toEqual([4, 10, 16]);
    expect(c.words[1].parts).toEqual([{ type: 'lit', value: 'a b', q: true }]);
    expect(c.redirs).toMatchObject([
      { op: '>', target: { raw: 'out' }, pos: 18 },
      { fd: 2, op: '>&', target: { raw: '1' } },
    ]);
  });

  it('builds pipelines, and-or lists and background jobs', () => {
    const s = Parser.parse('a | b |& c && ! d || e &\nf');
    expect(s.commands).toHaveLength(2);
    const ao = s.commands[0].items[0];
    expect(ao.background).toBe(true);
    expect(ao.text).toBe('a | b |& c && ! d || e');
    expect(ao.first.commands).toHaveLength(3);
    expect(ao.first.stderrToo).toEqual([false, true, false]);
    expect(ao.rest.map((r) => r.op)).toEqual(['&&', '||']);
    expect(ao.rest[0].pipeline.negate).toBe(true);
    expect(s.commands[1].line).toBe(2);
  });

  it('parses compound commands', () => {
    const s = Parser.parse('if a; then b; elif c; then d; else e; fi; while x; do y; done; until z; do :; done; for i in 1 2; do echo $i; done; case $x in a|b) one;; *) two;; esac; (sub); { grp; }; f() { body; }; ((1+2)); [[ -n x ]]');
    const types = s.commands[0].items.map((i) => i.first.commands[0].type);
    expect(types).toEqual(['if', 'while', 'until', 'for', 'case', 'subshell', 'group', 'func', 'arithcmd', 'cond']);
    const ifc = s.commands[0].items[0].first.commands[0];
    expect(ifc.type === 'if' && ifc.clauses.length).toBe(2);
  });

  it('parses expansions into parts', () => {
    const w = simple('echo a$HOME${x:-d e}$(echo hi)`b`$((1+2))"$y q"$\'\\n\'').words[1];
    expect(w.parts.map((p) => p.type)).toEqual(['lit', 'param', 'param', 'cmdsub', 'cmdsub', 'arith', 'param', 'lit']);
    const p = w.parts[2];
    expect(p.type === 'param' && p.op).toBe(':-');
    expect(w.parts[6]).toMatchObject({ type: 'param', name: 'y', q: true });
    expect(w.parts[7]).toEqual({ type: 'lit', value: ' q\n', q: true });
  });

  it('reads here-documents after the line', () => {
    const s = Parser.parse("cat <<EOF; cat <<'X'\nhello $USER\nEOF\nraw $x\nX\necho after");
    const items = s.commands[0].items;
    const r1 = (items[0].first.commands[0] as SimpleCommand).redirs[0];
    const r2 = (items[1].first.commands[0] as SimpleCommand).redirs[0];
    expect(r1.heredocQuoted).toBe(false);
    expect(r1.heredoc?.parts.map((p) => p.type)).toEqual(['lit', 'param', 'lit']);
    expect(r2.heredocQuoted).toBe(true);
    expect(r2.heredoc?.parts).toEqual([{ type: 'lit', value: 'raw $x\n', q: true }]);
    expect(s.commands[1].line).toBe(6);
  });

  it("reports bash's syntax errors with the line", () => {
    const cases: [string, string, number, string | undefined][] = [
      ['echo )', "syntax error near unexpected token `)'", 1, 'echo )'],
      ['if true; then echo', 'syntax error: unexpected end of file', 2, undefined],
      ['echo "abc', 'unexpected EOF while looking for matching `"\'', 1, undefined],
      ['for', "syntax error near unexpected token `newline'", 1, 'for'],
      ['echo a; ; echo b', "syntax error near unexpected token `;'", 1, 'echo a; ; echo b'],
      ['echo ok\necho )', "syntax error near unexpected token `)'", 2, 'echo )'],
      ['echo $(echo a\n\nb', "unexpected EOF while looking for matching `)'", 4, undefined],
      ['fi', "syntax error near unexpected token `fi'", 1, 'fi'],
      ['echo a >', "syntax error near unexpected token `newline'", 1, 'echo a >'],
    ];
    for (const [src, msg, line, source] of cases) {
      const e = syntaxError(src);
      expect({ src, msg: e.message, line: e.line, source: e.sourceLine }).toEqual({ src, msg, line, source });
    }
  });

  it('enforces length, token and nesting limits with clear errors', () => {
    expect(syntaxError('echo ' + 'x'.repeat(70000)).message).toMatch(/command too long \(70005 bytes, limit 65536\)/);
    expect(syntaxError('echo a b c d e f', { maxTokens: 4 }).message).toBe('too many tokens (limit 4)');
    const deep = '( '.repeat(80) + 'echo' + ' )'.repeat(80);
    const e = syntaxError(deep);
    expect(e.message).toBe('nesting too deep (limit 64)');
    expect(e.limit).toBe(true);
    expect(syntaxError('echo $(echo $(echo $(echo x)))', { maxDepth: 2 }).message).toBe('nesting too deep (limit 2)');
  });

  it('parses one complete command at a time', () => {
    const p = Parser.create('echo a\necho )\n');
    expect(p.next_complete()?.items).toHaveLength(1);
    expect(() => p.next_complete()).toThrow(ShellSyntaxError);
  });
});
