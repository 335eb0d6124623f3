import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import {
  DmesgPrinter,
  type DmesgOptions,
  defaultDmesgOptions,
  dmesgUsage,
  fromLogRecord,
  isDmesgArgError,
  parseDmesgArgs,
  parseSyslogBuffer,
  parseTimestamp,
  renderDmesg,
  renderSyslogBuffer,
  toDmesgJsonRecord,
} from './dmesg';
import { parseKmsg } from './kmsg';
import type { LogRecord } from './printk';

const REF = path.resolve(__dirname, '../../../../shared/reference/linux-6.1/dmesg');
const ref = (f: string): string => fs.readFileSync(path.join(REF, f), 'utf8');
/** the reference machine booted at 2026-11-26 23:54:59 UTC (dmesg -T of the record at 0.000000) */
const REF_BOOT_MS = Date.UTC(2026, 10, 26, 23, 54, 59, 0);
const records = (): LogRecord[] => parseKmsg(ref('kmsg_full.txt'));

function opts(argv: string[]): DmesgOptions {
  const o = parseDmesgArgs(argv);
  if (isDmesgArgError(o)) throw new Error(o.error);
  return o;
}

const render = (argv: string[], recs = records()): string => renderDmesg(recs, opts(argv), { bootEpochMs: REF_BOOT_MS });

describe('dmesg output is byte-identical to util-linux 2.38.1 on the reference records', () => {
  // the records come from the reference's own /dev/kmsg dump; dmesg read the same ring
  it.each([
    ['dmesg_plain.txt', []],
    ['dmesg_x.txt', ['-x']],
    ['dmesg_r_raw.txt', ['-r']],
    ['dmesg_t_ctime.txt', ['-T']],
    ['dmesg_notime.txt', ['-t']],
    ['dmesg_level_err_warn.txt', ['-l', 'err,warn']],
    ['dmesg_facility_user.txt', ['-f', 'user']],
    ['dmesg_json.txt', ['-J']],
  ])('%s (dmesg %s)', (file, argv) => {
    expect(render(argv as string[])).toBe(ref(file));
  });

  it('boot_dmesg.txt and boot_dmesg_raw.txt are the first records of the same ring', () => {
    const boot = records().slice(0, 378);
    expect(render([], boot)).toBe(ref('boot_dmesg.txt'));
    expect(render(['-r'], boot)).toBe(ref('boot_dmesg_raw.txt'));
  });

  it('the syslog(2) buffer matches what busybox dmesg -r printed', () => {
    expect(renderSyslogBuffer(records())).toBe(ref('syslog_via_busybox_dmesg_r.txt'));
  });
});

describe('dmesg output shape, line by line against the reference', () => {
  // independent of the records above: every line must have the reference's prefix layout
  const shapes: [string, string[], RegExp][] = [
    ['dmesg_plain.txt', [], /^(\[ {0,4}\d+\.\d{6}\] .*| {15}.*|)$/],
    ['dmesg_x.txt', ['-x'], /^([a-z]{4,6} *:[a-z]{3,6} *: \[ {0,4}\d+\.\d{6}\] .*| {30}.*|)$/],
    ['dmesg_r_raw.txt', ['-r'], /^(<\d>\[ {0,4}\d+\.\d{6}\] .*| {18}.*|)$/],
    ['dmesg_t_ctime.txt', ['-T'], /^(\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\] .*| {27}.*|)$/],
  ];
  it.each(shapes)('%s', (file, argv, re) => {
    for (const line of ref(file).split('\n').slice(0, -1)) expect(line).toMatch(re);
    for (const line of render(argv).split('\n').slice(0, -1)) expect(line).toMatch(re);
  });

  it('decode prefixes are "%-6s:%-6s: "', () => {
    const prefixes = new Set(ref('dmesg_x.txt').split('\n').map((l) => l.slice(0, 15)));
    const mine = new Set(render(['-x']).split('\n').map((l) => l.slice(0, 15)));
    expect(mine).toEqual(prefixes);
    expect(mine).toContain('user  :notice: ');
    expect(mine).toContain('kern  :debug : ');
  });

  it('JSON parses, has the reference keys in order and the odd "time" spacing', () => {
    const out = render(['-J']);
    const doc = JSON.parse(out) as { dmesg: { pri: number; time: number; msg: string }[] };
    // records with an empty text are skipped in JSON (plain output prints an empty line)
    expect(doc.dmesg.length).toBe(records().filter((r) => r.text !== '').length);
    expect(Object.keys(doc.dmesg[0])).toEqual(['pri', 'time', 'msg']);
    expect(out.split('\n').slice(0, 7)).toEqual(ref('dmesg_json.txt').split('\n').slice(0, 7));
    expect(out).toMatch(/^ {9}"time": {5}0\.000000,$/m);
    // -J -x: facility and level names
    const dx = JSON.parse(render(['-J', '-x'])) as { dmesg: Record<string, unknown>[] };
    expect(Object.keys(dx.dmesg[0])).toEqual(['fac', 'pri', 'time', 'msg']);
    expect(dx.dmesg[0]).toMatchObject({ fac: 'kern', pri: 'notice' });
  });

  it('prints nothing for JSON when no record passes the filters', () => {
    expect(render(['-J', '-l', 'emerg'])).toBe('');
    expect(render(['-l', 'emerg'])).toBe('');
  });
});

describe('dmesg formats on synthetic records', () => {
  const rec = (tsUs: number, level: number, facility: number, text: string, seq = 0): LogRecord => ({ seq, tsNs: tsUs * 1000, level, facility, text });
  const clock = { bootEpochMs: Date.UTC(2026, 0, 1, 0, 0, 0, 500) };
  const run = (argv: string[], recs: LogRecord[]): string => renderDmesg(recs, opts(argv), clock);

  it('raw prefixes use glibc LOG_MAKEPRI (facility | level), -S shows the real priority', () => {
    const r = [rec(1, 4, 1, 'user warn'), rec(2, 5, 3, 'daemon notice'), rec(3, 3, 0, 'kern err')];
    expect(run(['-r'], r)).toBe('<5>[    0.000001] user warn\n<7>[    0.000002] daemon notice\n<3>[    0.000003] kern err\n');
    expect(run(['-S', '-r'], r)).toBe('<12>[    0.000001] user warn\n<29>[    0.000002] daemon notice\n<3>[    0.000003] kern err\n');
  });

  it('facilities beyond ftp have no decode prefix; beyond res0 the raw priority is -1', () => {
    const r = [rec(1, 6, 16, 'local0'), rec(2, 6, 12, 'res0')];
    expect(run(['-x'], r)).toBe('[    0.000001] local0\n[    0.000002] res0\n');
    expect(run(['-r'], r)).toBe('<-1>[    0.000001] local0\n<14>[    0.000002] res0\n');
  });

  it('escapes unprintable characters but keeps tabs, and indents continuation lines', () => {
    const r = [rec(1, 6, 0, 'a\tb\x1bc\x7fé'), rec(2, 6, 0, 'x\ny\n')];
    expect(run([], r)).toBe('[    0.000001] a\tb\\x1bc\\x7fé\n[    0.000002] x\n               y\n\n');
    expect(run(['--noescape'], r.slice(0, 1))).toBe('[    0.000001] a\tb\x1bc\x7fé\n');
    expect(run(['-p'], [rec(5, 6, 0, 'one\n\ntwo')])).toBe('[    0.000005] one\n[    0.000005] two\n');
    expect(run(['-x', '-p'], [rec(5, 6, 0, 'one\ntwo')])).toBe('kern  :info  : [    0.000005] one\nkern  :info  : [    0.000005] two\n');
  });

  it('prints an empty record as an empty line', () => {
    expect(run([], [rec(1, 6, 0, '')])).toBe('\n');
    expect(run(['-J'], [rec(1, 6, 0, '')])).toBe('');
  });

  it('time formats: delta, time-delta, ctime-delta, iso, reltime', () => {
    const r = [rec(1_000_000, 6, 0, 'a'), rec(3_500_000, 6, 0, 'b'), rec(75_000_000, 6, 0, 'c')];
    expect(run(['-d'], r)).toBe('[    1.000000 <    0.000000>] a\n[    3.500000 <    2.500000>] b\n[   75.000000 <   71.500000>] c\n');
    expect(run(['-t', '-d'], r)).toBe('[<    0.000000>] a\n[<    2.500000>] b\n[<   71.500000>] c\n');
    expect(run(['-T', '-d'], r.slice(0, 2))).toBe('[Thu Jan  1 00:00:01 2026 <    0.000000>] a\n[Thu Jan  1 00:00:03 2026 <    2.500000>] b\n');
    expect(run(['--time-format', 'iso'], r.slice(0, 1))).toBe('2026-01-01T00:00:01,000000+00:00 a\n');
    // the first record of Jan 1 00:00 gets no time break: util-linux's last tm starts zeroed
    expect(run(['-e'], r)).toBe('[  +0.000000] a\n[  +2.500000] b\n[Jan 1 00:01] c\n');
    const later = renderDmesg(r, opts(['-e']), { bootEpochMs: Date.UTC(2026, 10, 26, 23, 54, 59) });
    expect(later).toBe('[Nov26 23:55] a\n[  +2.500000] b\n[Nov26 23:56] c\n');
  });

  it('filters by level and facility lists, -k and -u', () => {
    const r = [rec(1, 3, 0, 'kern err'), rec(2, 6, 0, 'kern info'), rec(3, 5, 1, 'user notice'), rec(4, 4, 11, 'ftp warn')];
    const texts = (argv: string[]): string[] => run(['-t', ...argv], r).split('\n').filter(Boolean);
    expect(texts(['-l', 'err,notice'])).toEqual(['kern err', 'user notice']);
    expect(texts(['-l', '3', '-l', 'WARN'])).toEqual(['kern err', 'ftp warn']);
    expect(texts(['-k'])).toEqual(['kern err', 'kern info']);
    expect(texts(['-u'])).toEqual(['user notice', 'ftp warn']);
    expect(texts(['-f', 'kern,ftp', '-l', 'warn,err'])).toEqual(['kern err', 'ftp warn']);
    expect(texts(['-l', ''])).toEqual([]);
  });

  it('--since/--until compare whole seconds of the record time', () => {
    const r = [rec(1_000_000, 6, 0, 'a'), rec(5_000_000, 6, 0, 'b'), rec(9_000_000, 6, 0, 'c')];
    expect(run(['-t', '--since', '2026-01-01 00:00:01'], r)).toBe('b\nc\n');
    expect(run(['-t', '--until', '2026-01-01T00:00:09'], r)).toBe('a\nb\n');
    const p = new DmesgPrinter(opts(['-t', '--since', '-3s']), { bootEpochMs: clock.bootEpochMs, nowMs: clock.bootEpochMs + 10_000 });
    expect(r.map((x) => p.print(fromLogRecord(x))).join('')).toBe('c\n');
  });

  it('a printer fed record by record (follow) prints what one render prints', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ ts: fc.nat(10_000_000), level: fc.integer({ min: 0, max: 7 }), fac: fc.integer({ min: 0, max: 23 }), text: fc.string() }), {
          maxLength: 30,
        }),
        fc.constantFrom<string[]>([], ['-x'], ['-J'], ['-r'], ['-d'], ['-T'], ['-e'], ['-J', '-x'], ['-p'], ['-l', 'err,info']),
        (raw, argv) => {
          let t = 0;
          const recs = raw.map((x, i) => rec((t += x.ts), x.level, x.fac, x.text, i));
          const o = opts(argv);
          const p = new DmesgPrinter(o, clock);
          const streamed = recs.map((r) => p.print(fromLogRecord(r))).join('') + p.finish();
          expect(streamed).toBe(renderDmesg(recs, o, clock));
          if (o.json && streamed) expect(JSON.parse(streamed).dmesg.length).toBeLessThanOrEqual(recs.length);
        },
      ),
    );
  });

  it('-S prints every line of a multi-line record with its own prefix', () => {
    const r = [rec(3_426_779, 4, 0, 'first\nsecond')];
    expect(run(['-S'], r)).toBe('[    3.426779] first\n[    3.426779] second\n');
    expect(parseSyslogBuffer('<4>[    1.000000] a\n<13>[    2.000000] b\n', { time: 'time' })).toEqual([
      { facility: 0, level: 4, sec: 1, usec: 0, text: 'a' },
      { facility: 1, level: 5, sec: 2, usec: 0, text: 'b' },
    ]);
  });

  it('REST records carry names and the microsecond time', () => {
    expect(toDmesgJsonRecord({ seq: 7, tsNs: 72_008_564_123, level: 5, facility: 1, text: 'hi', dict: { SUBSYSTEM: 'pci', DEVICE: '+pci:x' } })).toEqual({
      seq: 7,
      timeNs: 72_008_564_123,
      time: 72.008564,
      level: 5,
      levelName: 'notice',
      facility: 1,
      facilityName: 'user',
      text: 'hi',
      dict: { SUBSYSTEM: 'pci', DEVICE: '+pci:x' },
    });
  });
});

describe('parseDmesgArgs', () => {
  const errorOf = (argv: string[]): string => {
    const o = parseDmesgArgs(argv);
    if (!isDmesgArgError(o)) throw new Error('expected an error');
    expect(o.exitCode).toBe(1);
    return o.error;
  };

  it('parses the read options', () => {
    expect(parseDmesgArgs([])).toEqual(defaultDmesgOptions());
    expect(opts(['-xT'])).toMatchObject({ decode: true, time: 'ctime' });
    expect(opts(['--level=err,warn', '--facility', 'kern'])).toMatchObject({ levels: [3, 4], facilities: [0] });
    expect(opts(['-l3'])).toMatchObject({ levels: [3] });
    expect(opts(['--lev', 'debug'])).toMatchObject({ levels: [7] });
    expect(opts(['-w'])).toMatchObject({ follow: true, followNew: false });
    expect(opts(['--follow-new'])).toMatchObject({ follow: true, followNew: true });
    expect(opts(['-c'])).toMatchObject({ action: 'read-clear' });
    expect(opts(['-C'])).toMatchObject({ action: 'clear' });
    expect(opts(['-n', '1'])).toMatchObject({ action: 'console-level', consoleLevel: 1 });
    expect(opts(['-n', 'debug'])).toMatchObject({ consoleLevel: 8 });
    expect(opts(['--console-level=8'])).toMatchObject({ consoleLevel: 8 });
    expect(opts(['-J', '-r', '-p'])).toMatchObject({ json: true, raw: false, forcePrefix: false, time: 'time', noescape: true });
    expect(opts(['-J', '-T', '-d'])).toMatchObject({ json: true, time: 'time' });
    expect(opts(['-S'])).toMatchObject({ method: 'syslog' });
    expect(opts(['-F', '/tmp/log'])).toMatchObject({ method: 'file', file: '/tmp/log' });
    expect(opts(['-h', '-z'])).toMatchObject({ action: 'help' });
    expect(opts(['--version'])).toMatchObject({ action: 'version' });
    expect(opts(['-L', '-P', '-H'])).toMatchObject({ time: 'reltime' });
    expect(opts(['--since', 'yesterday', '--until', 'now'])).toMatchObject({ since: 'yesterday', until: 'now' });
  });

  it("reports bad levels and facilities with util-linux's messages", () => {
    expect(errorOf(['-l', 'foo'])).toBe("dmesg: unknown level 'foo'\n");
    expect(errorOf(['-l', 'err,foo,warn'])).toBe("dmesg: unknown level 'foo,warn'\n");
    expect(errorOf(['-l', '8'])).toBe("dmesg: unknown level '8'\n");
    expect(errorOf(['-f', 'local0'])).toBe("dmesg: unknown facility 'local0'\n");
    expect(errorOf(['-f', '12'])).toBe("dmesg: unknown facility '12'\n");
    expect(errorOf(['-n', '0'])).toBe("dmesg: unknown level '0'\n");
    expect(errorOf(['-n', '9'])).toBe("dmesg: unknown level '9'\n");
    expect(errorOf(['-l', ',err'])).toBe('');
    expect(errorOf(['--time-format', 'x'])).toBe('dmesg: unknown time format: x\n');
    expect(errorOf(['--since', 'soon'])).toBe('dmesg: invalid time value "soon"\n');
    expect(errorOf(['-s', 'big'])).toBe("dmesg: invalid buffer size argument: 'big'\n");
    expect(errorOf(['-l', '99999999999999999999'])).toBe("dmesg: failed to parse level '99999999999999999999': Numerical result out of range\n");
  });

  it("reports getopt errors and mutually exclusive options", () => {
    const tryHelp = "Try 'dmesg --help' for more information.\n";
    expect(errorOf(['-z'])).toBe(`dmesg: invalid option -- 'z'\n${tryHelp}`);
    expect(errorOf(['-i'])).toBe(tryHelp);
    expect(errorOf(['-l'])).toBe(`dmesg: option requires an argument -- 'l'\n${tryHelp}`);
    expect(errorOf(['--level'])).toBe(`dmesg: option '--level' requires an argument\n${tryHelp}`);
    expect(errorOf(['--raw=1'])).toBe(`dmesg: option '--raw' doesn't allow an argument\n${tryHelp}`);
    expect(errorOf(['--bogus=1'])).toBe(`dmesg: unrecognized option '--bogus=1'\n${tryHelp}`);
    expect(errorOf(['--co'])).toBe(`dmesg: option '--co' is ambiguous; possibilities: '--color' '--console-level' '--console-off' '--console-on'\n${tryHelp}`);
    expect(errorOf(['extra'])).toBe(`dmesg: bad usage\n${tryHelp}`);
    expect(errorOf(['-r', '-x'])).toBe('dmesg: mutually exclusive arguments: --raw --decode\n');
    expect(errorOf(['-C', '-c'])).toBe('dmesg: mutually exclusive arguments: --clear --console-off --console-on --read-clear --console-level --raw\n');
    expect(errorOf(['-T', '-r'])).toBe('dmesg: mutually exclusive arguments: --ctime --raw\n');
  });

  it('prints the usage with the first 8 facilities only, as util-linux does', () => {
    const u = dmesgUsage();
    expect(u.startsWith('\nUsage:\n dmesg [options]\n')).toBe(true);
    expect(u).toContain('\nSupported log facilities:\n    kern - kernel messages\n');
    expect(u).toContain('    news - network news subsystem\n\nSupported log levels');
    expect(u).not.toContain('uucp');
    expect(u.endsWith('   debug - debug-level messages\n\nFor more details see dmesg(1).\n')).toBe(true);
  });

  it('parses timestamps like util-linux (UTC)', () => {
    const now = Date.UTC(2026, 5, 15, 12, 30, 0) * 1000;
    expect(parseTimestamp('now', now)).toBe(now);
    expect(parseTimestamp('today', now)).toBe(Date.UTC(2026, 5, 15) * 1000);
    expect(parseTimestamp('-5min', now)).toBe(now - 300e6);
    expect(parseTimestamp('+1h 30min', now)).toBe(now + 5400e6);
    expect(parseTimestamp('2 days ago', now)).toBe(now - 2 * 86400e6);
    expect(parseTimestamp('1.5s ago', now)).toBe(now - 1.5e6);
    expect(parseTimestamp('26-06-15 10:00', now)).toBe(Date.UTC(2026, 5, 15, 10) * 1000);
    expect(parseTimestamp('08:15', now)).toBe(Date.UTC(2026, 5, 15, 8, 15) * 1000);
    expect(parseTimestamp('2026-13-01', now)).toBeUndefined();
    expect(parseTimestamp('5 parsecs ago', now)).toBeUndefined();
  });
});
