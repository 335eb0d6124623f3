import fc from 'fast-check';
import { KernelError } from '../errors';
import { CONSOLE_TAIL_MAX, DEFAULT_CONSOLE_LEVELS, LOG_LINE_MAX, Printk, type LogRecord } from './printk';

function clockAt(start = 0): { now: () => number; set: (n: number) => void } {
  let t = start;
  return { now: () => t, set: (n) => (t = n) };
}

describe('Printk ring buffer', () => {
  it('stores one record per line by default and one multi-line record with oneRecord', () => {
    const p = new Printk(() => 5);
    expect(p.log(6, 'a\nb\n').map((r) => r.text)).toEqual(['a', 'b']);
    const [r] = p.log(4, 'x\ny', { oneRecord: true });
    expect(r.text).toBe('x\ny');
    expect(p.records().map((x) => x.seq)).toEqual([0, 1, 2]);
    expect(r.tsNs).toBe(5);
  });

  it('takes the level from a "<N>" or KERN_SOH prefix, else default_message_loglevel', () => {
    const p = new Printk(() => 0);
    expect(p.printk('<3>bad')[0]).toMatchObject({ level: 3, text: 'bad' });
    expect(p.printk('\x012soh')[0]).toMatchObject({ level: 2, text: 'soh' });
    expect(p.printk('plain')[0]).toMatchObject({ level: 4, text: 'plain' });
    p.setConsoleLevels([7, 6]);
    expect(p.printk('plain')[0].level).toBe(6);
    expect(p.printk('<9>not a level')[0]).toMatchObject({ level: 6, text: '<9>not a level' });
  });

  it('truncates a text to LOG_LINE_MAX bytes on a character boundary', () => {
    const p = new Printk(() => 0);
    expect(p.log(6, 'x'.repeat(2000))[0].text.length).toBe(LOG_LINE_MAX);
    const t = p.log(6, 'é'.repeat(600))[0].text;
    expect(t.length).toBe(LOG_LINE_MAX / 2);
  });

  it('keeps the byte ring within capacity, drops the oldest and keeps seqs contiguous (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 256, max: 8192 }),
        fc.array(fc.record({ level: fc.integer({ min: 0, max: 7 }), text: fc.string({ maxLength: 300 }) }), { maxLength: 300 }),
        (cap, msgs) => {
          const p = new Printk(() => 0, cap);
          for (const m of msgs) p.log(m.level, m.text, { oneRecord: true });
          const recs = p.records();
          expect(p.nextSeq).toBe(msgs.length);
          if (msgs.length) {
            expect(recs.length).toBeGreaterThan(0);
            expect(recs[recs.length - 1].seq).toBe(msgs.length - 1);
          }
          for (let i = 1; i < recs.length; i++) expect(recs[i].seq).toBe(recs[i - 1].seq + 1);
          expect(recs.length).toBeLessThanOrEqual(Math.max(1, cap >> 5));
          // a single record may exceed a tiny ring on its own; otherwise the text ring fits
          if (recs.length > 1) expect(p.usedBytes).toBeLessThanOrEqual(cap);
          expect(p.firstSeq).toBe(recs.length ? recs[0].seq : p.nextSeq);
        },
      ),
    );
  });

  it('since(fromSeq) never yields gaps or duplicates (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 }), fc.integer({ min: -5, max: 450 }), fc.integer({ min: 300, max: 4000 }), (n, from, cap) => {
        const p = new Printk(() => 0, cap);
        for (let i = 0; i < n; i++) p.log(6, `message number ${i}`);
        const got = p.since(from).map((r) => r.seq);
        const lo = Math.max(from, p.firstSeq);
        const want: number[] = [];
        for (let s = lo; s < p.nextSeq; s++) want.push(s);
        expect(got).toEqual(want);
      }),
    );
  });

  it('resumes a reader across overwrites: a reader that kept up sees every record exactly once', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 40 }), (bursts) => {
        const p = new Printk(() => 0, 2048);
        const seen: number[] = [];
        let next = 0;
        let i = 0;
        for (const b of bursts) {
          for (let j = 0; j < b; j++) p.log(6, `burst line ${i++}`);
          const got = p.since(next);
          if (got.length) {
            seen.push(...got.map((r) => r.seq));
            next = got[got.length - 1].seq + 1;
          }
        }
        // bursts of at most 20 records never overflow 2 KiB between reads: nothing missed
        expect(seen).toEqual([...Array(i).keys()]);
      }),
    );
  });

  it('clear() hides records from visible() only', () => {
    const p = new Printk(() => 0);
    p.log(6, 'a');
    p.log(6, 'b');
    p.clear();
    p.log(6, 'c');
    expect(p.visible().map((r) => r.text)).toEqual(['c']);
    expect(p.records().map((r) => r.text)).toEqual(['a', 'b', 'c']);
    expect(p.clearSeq).toBe(2);
  });
});

describe('console', () => {
  it('has the reference kernel.printk defaults', () => {
    expect(new Printk(() => 0).getConsoleLevels()).toEqual([7, 4, 1, 7]);
    expect([...DEFAULT_CONSOLE_LEVELS]).toEqual([7, 4, 1, 7]);
  });

  it('writes records below console_loglevel to the console, one line per text line', () => {
    const c = clockAt(1_234_567_891);
    const p = new Printk(c.now);
    const lines: string[] = [];
    p.events.on('console', (l) => lines.push(l));
    p.log(7, 'debug is not shown');
    p.log(6, 'info');
    p.log(4, 'one\ntwo', { oneRecord: true });
    expect(p.consoleTail()).toEqual(['[    1.234567] info', '[    1.234567] one', '[    1.234567] two']);
    expect(lines).toEqual(p.consoleTail());
    p.setConsoleLevels([4]);
    p.log(4, 'warn now hidden');
    p.log(3, 'err shown');
    expect(p.consoleTail(1)).toEqual(['[    1.234567] err shown']);
    expect(p.getConsoleLevels()).toEqual([4, 4, 1, 7]);
  });

  it('bounds the console tail', () => {
    const p = new Printk(() => 0);
    for (let i = 0; i < CONSOLE_TAIL_MAX + 50; i++) p.log(5, `line ${i}`);
    const tail = p.consoleTail();
    expect(tail.length).toBe(CONSOLE_TAIL_MAX);
    expect(tail[tail.length - 1]).toBe(`[    0.000000] line ${CONSOLE_TAIL_MAX + 49}`);
    expect(p.consoleTail(3).length).toBe(3);
  });

  it('follows syslog(2) console actions: level 1..8 raised to the minimum, off/on save and restore', () => {
    const p = new Printk(() => 0);
    expect(() => p.setConsoleLoglevel(0)).toThrow(KernelError);
    expect(() => p.setConsoleLoglevel(9)).toThrow(KernelError);
    p.setConsoleLevels([7, 4, 3, 7]);
    p.setConsoleLoglevel(2);
    expect(p.consoleLoglevel).toBe(3);
    p.setConsoleLoglevel(8);
    p.consoleOff();
    expect(p.consoleLoglevel).toBe(3);
    p.consoleOff();
    p.consoleOn();
    expect(p.consoleLoglevel).toBe(8);
    p.consoleOn();
    expect(p.consoleLoglevel).toBe(8);
    expect(() => p.setConsoleLevels([])).toThrow(KernelError);
    expect(() => p.setConsoleLevels([1.5])).toThrow(KernelError);
  });
});

describe('state', () => {
  const records = (p: Printk): LogRecord[] => p.records().map((r) => ({ ...r }));

  it('snapshot -> restore gives identical records, console and levels (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            level: fc.integer({ min: 0, max: 7 }),
            text: fc.string({ maxLength: 80 }),
            dict: fc.option(fc.constant({ SUBSYSTEM: 'pci', DEVICE: '+pci:0000:00:01.0' }), { nil: undefined }),
          }),
          { maxLength: 60 },
        ),
        fc.integer({ min: 1, max: 8 }),
        (msgs, lvl) => {
          const c = clockAt();
          const a = new Printk(c.now, 1024);
          msgs.forEach((m, i) => {
            c.set(i * 1000);
            a.log(m.level, m.text, { dict: m.dict, oneRecord: true });
            if (i === 5) a.clear();
          });
          a.setConsoleLoglevel(lvl);
          const b = new Printk(c.now, 1024);
          b.setState(JSON.parse(JSON.stringify(a.getState())));
          expect(records(b)).toEqual(records(a));
          expect(b.consoleTail()).toEqual(a.consoleTail());
          expect(b.getConsoleLevels()).toEqual(a.getConsoleLevels());
          expect(b.visible()).toEqual(a.visible());
          // and both continue the same way
          a.log(6, 'next');
          b.log(6, 'next');
          expect(b.getState()).toEqual(a.getState());
        },
      ),
    );
  });

  it('getState is a copy', () => {
    const p = new Printk(() => 0);
    p.log(6, 'x', { dict: { SUBSYSTEM: 'a', DEVICE: '+a:b' } });
    const s = p.getState();
    s.records[0].text = 'changed';
    (s.records[0].dict as Record<string, string>).SUBSYSTEM = 'changed';
    s.consoleLevels[0] = 1;
    expect(p.records()[0]).toMatchObject({ text: 'x', dict: { SUBSYSTEM: 'a' } });
    expect(p.consoleLoglevel).toBe(7);
  });
});
