import { BoundedSender, type DroppedReport, type SenderConn } from './bounded-sender';

class FakeConn implements SenderConn {
  writeBuffer: unknown[] = [];
  private drains = new Set<() => void>();
  on(_e: 'drain', fn: () => void): void {
    this.drains.add(fn);
  }
  off(_e: 'drain', fn: () => void): void {
    this.drains.delete(fn);
  }
  drain(): void {
    this.writeBuffer = [];
    for (const fn of [...this.drains]) fn();
  }
}

describe('BoundedSender', () => {
  const setup = (queueMax = 3, highWater = 2) => {
    const conn = new FakeConn();
    const sent: number[] = [];
    const dropped: DroppedReport[] = [];
    const s = new BoundedSender<{ seq: number }>(
      conn,
      (e) => {
        sent.push(e.seq);
        conn.writeBuffer.push(e);
      },
      (d) => dropped.push(d),
      { sessionId: 's', stream: 'dmesg' },
      { queueMax, highWater },
    );
    return { conn, sent, dropped, s };
  };

  it('passes events straight through while the socket keeps up', () => {
    const { conn, sent, s } = setup(3, 100);
    for (let i = 0; i < 50; i++) {
      s.push({ seq: i });
      conn.drain();
    }
    expect(sent).toEqual([...Array(50).keys()]);
    expect(s.droppedTotal).toBe(0);
  });

  it('holds memory flat under a stalled consumer, counts drops, and reports the gap once before resuming', () => {
    const { conn, sent, dropped, s } = setup(3, 2);
    for (let i = 0; i < 1000; i++) s.push({ seq: i });
    expect(sent).toEqual([0, 1]);
    expect(s.queued).toBe(3);
    expect(s.droppedTotal).toBe(995);
    conn.drain();
    conn.drain();
    conn.drain();
    expect(sent).toEqual([0, 1, 2, 3, 4]);
    expect(dropped).toEqual([{ sessionId: 's', stream: 'dmesg', count: 995, fromSeq: 5, toSeq: 999 }]);
    s.push({ seq: 1000 });
    conn.drain();
    expect(sent[sent.length - 1]).toBe(1000);
    expect(dropped).toHaveLength(1);
  });

  it('stops delivering after close', () => {
    const { conn, sent, s } = setup(3, 1);
    s.push({ seq: 0 });
    s.push({ seq: 1 });
    s.close();
    conn.drain();
    s.push({ seq: 2 });
    expect(sent).toEqual([0]);
  });
});
