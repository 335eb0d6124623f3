import { Tty } from './tty';
import { bootShell } from './testing';

function term(): { tty: Tty; type: (s: string) => string } {
  const { shell } = bootShell({ mode: 'interactive', cwd: '/root', hostname: 'kbox' });
  const tty = new Tty(shell);
  return { tty, type: (s) => tty.input(s) };
}

describe('tty line discipline', () => {
  it('shows bash\'s prompt with ~ for the home directory', () => {
    const { tty, type } = term();
    expect(tty.start()).toBe('root@kbox:~# ');
    expect(type('cd /etc\r')).toBe('cd /etc\r\nroot@kbox:/etc# ');
    expect(type('cd /root/..\r')).toBe('cd /root/..\r\nroot@kbox:/# ');
  });

  it('echoes input, handles backspace, runs the line with CRLF output', () => {
    const { type } = term();
    expect(type('echo hx')).toBe('echo hx');
    expect(type('\x7fi')).toBe('\b \bi');
    expect(type('\r')).toBe('\r\nhi\r\nroot@kbox:~# ');
    expect(type('printf "a\\nb\\n"\r')).toBe('printf "a\\nb\\n"\r\na\r\nb\r\nroot@kbox:~# ');
    expect(type('foo\r')).toBe('foo\r\nbash: foo: command not found\r\nroot@kbox:~# ');
  });

  it('Ctrl-C drops the line; Ctrl-D on an empty line ends the session', () => {
    const { tty, type } = term();
    expect(type('echo abc\x03')).toBe('echo abc^C\r\nroot@kbox:~# ');
    expect(type('x\x04')).toBe('x');
    expect(type('\x7f\x04')).toBe('\b \bexit\r\n');
    expect(tty.isClosed).toBe(true);
    expect(type('echo more\r')).toBe('');
  });

  it('exit ends the session', () => {
    const { tty, type } = term();
    expect(type('exit 3\r')).toBe('exit 3\r\nexit\r\n');
    expect(tty.isClosed).toBe(true);
    expect(tty.shell.exited).toBe(3);
  });

  it('walks the history with the arrow keys', () => {
    const { type } = term();
    type('echo one\r');
    type('echo two\r');
    expect(type('ec')).toBe('ec');
    expect(type('\x1b[A')).toBe('\b \b\b \becho two');
    expect(type('\x1b[A')).toBe('\b \b'.repeat(8) + 'echo one');
    expect(type('\x1b[A')).toBe('\x07');
    expect(type('\x1b[B\x1b[B')).toBe('\b \b'.repeat(8) + 'echo two' + '\b \b'.repeat(8) + 'ec');
    // an escape sequence split across reads
    expect(type('\x1b')).toBe('');
    expect(type('[A')).toBe('\b \b\b \becho two');
    expect(type('\r')).toBe('\r\ntwo\r\nroot@kbox:~# ');
  });

  it('continues an incomplete command with PS2', () => {
    const { type } = term();
    expect(type('for i in 1 2\r')).toBe('for i in 1 2\r\n> ');
    expect(type('do echo $i\r')).toBe('do echo $i\r\n> ');
    expect(type('done\r')).toBe('done\r\n1\r\n2\r\nroot@kbox:~# ');
  });

  it('interrupts a running foreground command with Ctrl-C', () => {
    const { shell } = bootShell({ mode: 'interactive', cwd: '/root', hostname: 'kbox' });
    const tty = new Tty(shell, { stepsPerPump: 50 });
    const out = tty.input('while true; do :; done\r');
    expect(out).toBe('while true; do :; done\r\n');
    expect(tty.busy).toBe(true);
    expect(tty.input('\x03')).toBe('^C\r\nroot@kbox:~# ');
    expect(tty.busy).toBe(false);
    expect(tty.input('echo $?\r')).toBe('echo $?\r\n130\r\nroot@kbox:~# ');
  });

  it('stops a foreground command with Ctrl-Z into a job, and fg resumes it', () => {
    const { shell } = bootShell({ mode: 'interactive', cwd: '/root', hostname: 'kbox' });
    const tty = new Tty(shell, { stepsPerPump: 50 });
    tty.input('i=0; while [ $i -lt 300 ]; do i=$((i+1)); done; echo finished $i\r');
    expect(tty.busy).toBe(true);
    expect(tty.input('\x1a')).toBe('^Z\r\n[1]+  Stopped                 i=0; while [ $i -lt 300 ]; do i=$((i+1)); done; echo finished $i\r\nroot@kbox:~# ');
    expect(tty.input('jobs\r')).toBe('jobs\r\n[1]+  Stopped                 i=0; while [ $i -lt 300 ]; do i=$((i+1)); done; echo finished $i\r\nroot@kbox:~# ');
    let out = tty.input('fg\r');
    while (tty.busy) out += tty.tick();
    expect(out).toBe('fg\r\ni=0; while [ $i -lt 300 ]; do i=$((i+1)); done; echo finished $i\r\nfinished 300\r\nroot@kbox:~# ');
  });

  it('reports finished background jobs before the prompt', () => {
    const { type } = term();
    expect(type('true &\r')).toMatch(/^true &\r\n\[1\] \d+\r\n\[1\]\+ {2}Done {20}true\r\nroot@kbox:~# $/);
  });

  it('serialises its state', () => {
    const { tty, type } = term();
    type('echo partial');
    const s = JSON.parse(JSON.stringify(tty.getState()));
    const { tty: t2 } = term();
    t2.setState(s);
    expect(t2.input('\r')).toBe('\r\npartial\r\nroot@kbox:~# ');
  });
});
