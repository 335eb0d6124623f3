import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { KernelError } from '../errors';
import { devkmsgWrite, escapeKmsg, formatKmsgRecord, parseKmsg, renderKmsg, unescapeKmsg, utf8Bytes, utf8Decode } from './kmsg';
import { LOG_LINE_MAX, Printk } from './printk';

const REF = path.resolve(__dirname, '../../../../shared/reference/linux-6.1/dmesg');
const ref = (f: string): string => fs.readFileSync(path.join(REF, f), 'utf8');

describe('/dev/kmsg record format', () => {
  it('renders the reference dump byte for byte from its records', () => {
    const text = ref('kmsg_full.txt');
    const recs = parseKmsg(text);
    expect(recs.length).toBe(1416);
    expect(renderKmsg(recs)).toBe(text);
    expect(renderKmsg(parseKmsg(ref('kmsg_head50.txt')))).toBe(ref('kmsg_head50.txt'));
  });

  it('has the reference shape: "pri,seq,ts_us,flags;text" and " KEY=value" lines', () => {
    for (const line of ref('kmsg_full.txt').split('\n').slice(0, -1)) expect(line).toMatch(/^(\d+,\d+,\d+,[-c];.*| (SUBSYSTEM|DEVICE)=\S+)$/);
    const out = formatKmsgRecord({ seq: 9, tsNs: 1_037_974_999, level: 6, facility: 0, text: 'pci 0000:00:01.1: BAR 4', dict: { SUBSYSTEM: 'pci', DEVICE: '+pci:0000:00:01.1' } });
    expect(out).toBe('6,9,1037974,-;pci 0000:00:01.1: BAR 4\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:01.1\n');
    expect(formatKmsgRecord({ seq: 1, tsNs: 5, level: 4, facility: 0, text: 'cont', flags: 'c' })).toBe('4,1,0,c;cont\n');
  });

  it('escapes control bytes, DEL, backslash and non-ASCII bytes as \\xNN', () => {
    expect(escapeKmsg('rcu: \tRCU')).toBe('rcu: \\x09RCU');
    expect(escapeKmsg('a\nb')).toBe('a\\x0ab');
    expect(escapeKmsg('ACPI: \\_SB_')).toBe('ACPI: \\x5c_SB_');
    expect(escapeKmsg('é\x7f😀')).toBe('\\xc3\\xa9\\x7f\\xf0\\x9f\\x98\\x80');
    expect(escapeKmsg('plain')).toBe('plain');
  });

  it('escape and unescape are inverse, UTF-8 encode and decode too (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(unescapeKmsg(escapeKmsg(s))).toBe(s);
        expect(utf8Decode(utf8Bytes(s))).toBe(s);
        expect(escapeKmsg(s)).toMatch(/^[\x20-\x7e]*$/);
      }),
    );
  });
});

describe('devkmsg_write', () => {
  const write = (data: string, p = new Printk(() => 72_008_564_000)) => devkmsgWrite(p, data);

  it('stores what the reference stored for its two userspace writes', () => {
    const want = parseKmsg(ref('kmsg_full.txt')).filter((r) => r.text.includes('userspace via /dev/kmsg') || r.text === 'no level prefix line');
    expect(want.map((r) => (r.facility << 3) | r.level)).toEqual([13, 12]);
    const p = new Printk(() => 72_008_564_000);
    const a = devkmsgWrite(p, '<5>kref: hello from userspace via /dev/kmsg\n');
    const b = devkmsgWrite(p, 'no level prefix line\n');
    expect([a, b].map((r) => ({ facility: r?.facility, level: r?.level, text: r?.text }))).toEqual(
      want.map((r) => ({ facility: r.facility, level: r.level, text: r.text })),
    );
    expect(ref('dmesg_facility_user.txt')).toBe('[   72.008564] kref: hello from userspace via /dev/kmsg\n[   72.010173] no level prefix line\n');
  });

  it('parses the "<N>" prefix as level N & 7, facility N >> 3, a kernel facility becoming LOG_USER', () => {
    expect(write('<14>info')).toMatchObject({ facility: 1, level: 6, text: 'info' });
    expect(write('<30>daemon')).toMatchObject({ facility: 3, level: 6, text: 'daemon' });
    expect(write('<0>emerg')).toMatchObject({ facility: 1, level: 0 });
    expect(write('<>empty')).toMatchObject({ facility: 1, level: 0, text: 'empty' });
    expect(write('<x>no prefix')).toMatchObject({ facility: 1, level: 4, text: '<x>no prefix' });
    expect(write('<4294967297>wrap')).toMatchObject({ facility: 1, level: 1, text: 'wrap' });
    expect(write('<2047>big')).toMatchObject({ facility: 255, level: 7 });
  });

  it('uses default_message_loglevel without a prefix', () => {
    const p = new Printk(() => 0);
    p.setConsoleLevels([7, 6]);
    expect(devkmsgWrite(p, 'x')).toMatchObject({ facility: 1, level: 6 });
  });

  it('keeps one write as one record: stops at NUL, drops one trailing newline', () => {
    const p = new Printk(() => 0);
    devkmsgWrite(p, 'a\nb\n\n');
    devkmsgWrite(p, 'c\0d');
    expect(p.records().map((r) => r.text)).toEqual(['a\nb\n', 'c']);
  });

  it('rejects a write longer than LOG_LINE_MAX and ignores writes when printk_devkmsg=off', () => {
    const p = new Printk(() => 0);
    expect(() => devkmsgWrite(p, 'x'.repeat(LOG_LINE_MAX + 1))).toThrow(KernelError);
    expect(devkmsgWrite(p, 'x'.repeat(LOG_LINE_MAX))?.text.length).toBe(LOG_LINE_MAX);
    expect(devkmsgWrite(p, 'quiet', 'off')).toBeUndefined();
    expect(p.records().length).toBe(1);
  });
});
