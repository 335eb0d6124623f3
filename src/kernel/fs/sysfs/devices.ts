/**
 * The machine's devices as sysfs and procfs show them: block devices (disks,
 * partitions, request queues, I/O counters), network interfaces (MTU, link,
 * traffic counters), LEDs, and a few boot facts (TSC, KASLR).
 *
 * Which devices exist is derived, not stored: the boot devices of the
 * simulated QEMU machine (virtio disk vda, virtio NIC eth0, the i8042
 * keyboard's LEDs) plus what loaded modules create (loop0-7, dummy0.., the
 * nvme disk). Only what changed is state: I/O counters, explicit traffic,
 * writable attributes. Background traffic on eth0 is a closed-form function
 * of time (no timers), so advancing time in any number of steps gives the
 * same counters and an idle machine costs nothing.
 */
import { KernelError } from '../../errors';
import type { Kernel } from '../../kernel';
import { bootContext } from '../../printk/boot-log';
import { Rng } from '../../util/rng';
import procData from '../../data/proc.json';
import { type BlockRq, traceBlockComplete, traceBlockSubmit } from '../../trace/paths/mm-block';

// ---------------------------------------------------------------- block

/** One disk: a gendisk with its partitions (512-byte sectors). */
export interface DiskDesc {
  name: string;
  major: number;
  minor: number;
  sectors: number;
  parts: { start: number; sectors: number }[];
  /** queue attribute template */
  queue: 'virtio' | 'nvme' | 'loop';
  /** sysfs device path under /sys/devices */
  devpath: string;
  /** register_blkdev() name for /proc/devices */
  driver: string;
  removable: number;
  diskseq: number;
  /** partition naming: vda1, nvme0n1p1 */
  partName(i: number): string;
}

/** /proc/diskstats and /sys/block/<d>/stat fields (part_stat), 17 counters. */
export type IoStat = number[];
export const IO_FIELDS = 17;
const newIo = (): IoStat => new Array(IO_FIELDS).fill(0);

/** Elevators that can be attached to a queue, by the module providing them. */
export const ELEVATORS: readonly { name: string; alias?: string; module?: string }[] = [
  { name: 'mq-deadline', alias: 'deadline' },
  { name: 'kyber', module: 'kyber_iosched' },
  { name: 'bfq', module: 'bfq' },
];

/** Sectors of the default virtio disk: 8 GiB. */
export const VDA_SECTORS = 16 * 1024 * 1024;
const VIRTBLK_MAJOR = 254;

// ---------------------------------------------------------------- net

export interface NetDesc {
  name: string;
  ifindex: number;
  /** ARPHRD_* */
  type: number;
  loopback: boolean;
  noarp: boolean;
  defaultMtu: number;
  minMtu: number;
  maxMtu: number;
  /** permanent address */
  addr: string;
  devpath: string;
  /** parent device link (eth0 -> the virtio device) */
  parent?: string;
  txQueueLen: number;
  /** addr_assign_type: 0 permanent, 1 random */
  addrAssign: number;
}

/** rtnl_link_stats64 fields shown under statistics/ (sysfs order is kernfs order). */
export const NET_STATS = [
  'rx_packets',
  'tx_packets',
  'rx_bytes',
  'tx_bytes',
  'rx_errors',
  'tx_errors',
  'rx_dropped',
  'tx_dropped',
  'multicast',
  'collisions',
  'rx_length_errors',
  'rx_over_errors',
  'rx_crc_errors',
  'rx_frame_errors',
  'rx_fifo_errors',
  'rx_missed_errors',
  'tx_aborted_errors',
  'tx_carrier_errors',
  'tx_fifo_errors',
  'tx_heartbeat_errors',
  'tx_window_errors',
  'rx_compressed',
  'tx_compressed',
  'rx_nohandler',
] as const;
export type NetStat = (typeof NET_STATS)[number];

export interface NetTraffic {
  rxPackets?: number;
  rxBytes?: number;
  txPackets?: number;
  txBytes?: number;
  multicast?: number;
  rxDropped?: number;
  txDropped?: number;
}

// ---------------------------------------------------------------- LEDs

export const LED_NAMES = ['input0::numlock', 'input0::capslock', 'input0::scrolllock'] as const;
const KBD_TRIGGERS = [
  'kbd-scrolllock',
  'kbd-numlock',
  'kbd-capslock',
  'kbd-kanalock',
  'kbd-shiftlock',
  'kbd-altgrlock',
  'kbd-ctrllock',
  'kbd-altlock',
  'kbd-shiftllock',
  'kbd-shiftrlock',
  'kbd-ctrlllock',
  'kbd-ctrlrlock',
];

// ---------------------------------------------------------------- state

export interface BootFacts {
  /** TSC frequency, kHz (what dmesg's "tsc: Detected" printed) */
  tscKhz: number;
  /** loops_per_jiffy per CPU */
  lpj: number[];
  /** KASLR: kernel text offset from 0xffffffff81000000, in 2 MiB units */
  kaslr: number;
  /** physical load address of the kernel image */
  physBase: number;
}

export interface DevicesState {
  boot: BootFacts;
  /** I/O counters by block device name (disks and partitions) */
  io: Record<string, IoStat>;
  /** request queue attributes written, by disk */
  queue: Record<string, Record<string, string>>;
  /** explicit traffic by interface, NET_STATS order */
  traffic: Record<string, number[]>;
  /** interface settings that changed: mtu, up */
  net: Record<string, { mtu?: number; up?: boolean; alias?: string; txq?: number }>;
  leds: Record<string, { brightness: number; trigger: string }>;
  /** other writable sysfs attributes that were written, by path under /sys */
  attrs: Record<string, string>;
  /** cgroups created with mkdir (paths below the cgroup2 root) */
  cgroups?: string[];
  /** filesystems registered at runtime through registerFilesystem() */
  fs?: [string, boolean][];
  /** page cache of block device nodes, by device (disk or partition): cached and dirty sector ranges [start, end) of the disk */
  bdev?: Record<string, { cached: [number, number][]; dirty: [number, number][] }>;
}

/** Adds [a, b) to a sorted list of disjoint ranges. */
function addRange(list: [number, number][], a: number, b: number): [number, number][] {
  const out: [number, number][] = [];
  let lo = a;
  let hi = b;
  for (const [x, y] of list) {
    if (y < lo || x > hi) out.push([x, y]);
    else {
      lo = Math.min(lo, x);
      hi = Math.max(hi, y);
    }
  }
  out.push([lo, hi]);
  return out.sort((p, q) => p[0] - q[0]);
}

/** The parts of [a, b) not covered by `list`. */
function missing(list: [number, number][], a: number, b: number): [number, number][] {
  const out: [number, number][] = [];
  let cur = a;
  for (const [x, y] of list) {
    if (y <= cur || x >= b) continue;
    if (x > cur) out.push([cur, Math.min(x, b)]);
    cur = Math.max(cur, y);
    if (cur >= b) break;
  }
  if (cur < b) out.push([cur, b]);
  return out;
}

/** Service time of a request on the virtio disk (a host page cache behind it): ~0.1 ms + 4 µs per sector. */
export const rqServiceNs = (sectors: number): number => 100_000 + sectors * 4_000;

/**
 * What loading a module registers besides its code: filesystem types, device
 * majors, misc minors (register_filesystem, register_blkdev, register_chrdev,
 * misc_register), in the order its init does it.
 */
export const MODULE_REGISTRATIONS: Readonly<
  Record<string, { fs?: [string, boolean][]; blk?: [number, string][]; chr?: [number, string][]; misc?: [number, string][] }>
> = {
  ext4: {
    fs: [
      ['ext3', false],
      ['ext2', false],
      ['ext4', false],
    ],
  },
  btrfs: { fs: [['btrfs', false]], misc: [[234, 'btrfs-control']] },
  vfat: { fs: [['vfat', false]] },
  msdos: { fs: [['msdos', false]] },
  isofs: { fs: [['iso9660', false]] },
  xfs: { fs: [['xfs', false]] },
  squashfs: { fs: [['squashfs', false]] },
  udf: { fs: [['udf', false]] },
  fuse: {
    fs: [
      ['fuseblk', false],
      ['fuse', true],
      ['fusectl', true],
    ],
    chr: [],
    misc: [[229, 'fuse']],
  },
  overlay: { fs: [['overlay', true]] },
  nfs: {
    fs: [
      ['nfs', true],
      ['nfs4', true],
    ],
  },
  autofs4: { fs: [['autofs', true]], misc: [[235, 'autofs']] },
  configfs: { fs: [['configfs', true]] },
  loop: { blk: [[7, 'loop']], misc: [[237, 'loop-control']] },
  nvme_core: {
    chr: [
      [245, 'nvme-generic'],
      [246, 'nvme'],
    ],
  },
};

/** The devices of one machine. */
export class Devices {
  private s: DevicesState;

  constructor(private readonly k: Kernel) {
    // the boot facts dmesg printed: the boot log draws them from a fork of the kernel rng
    // when the machine boots right after construction; replay that draw on a copy
    const copy = new Rng(0);
    copy.setState(k.rng.getState());
    const ctx = bootContext(k, copy.fork());
    // KASLR offsets from a stream of their own (the kernel's rng is not consumed here)
    const own = new Rng(`${k.config.seed}\u0000kaslr`);
    const ramTop = Math.min(k.config.memoryMb, 3072) * 1024 * 1024;
    const physSlots = Math.max(1, Math.floor((ramTop - 0x4000000 - 0x1000000) / 0x200000));
    this.s = {
      boot: { tscKhz: ctx.tscKhz, lpj: ctx.lpj, kaslr: own.int(0, 0x1e0), physBase: 0x1000000 + own.int(0, physSlots - 1) * 0x200000 },
      io: {},
      queue: {},
      traffic: {},
      net: {},
      leds: {},
      attrs: {},
    };
  }

  get boot(): Readonly<BootFacts> {
    return this.s.boot;
  }

  private loaded(mod: string): boolean {
    return !!this.k.modules?.isLoaded(mod);
  }

  // ---------------------------------------------------------------- block devices

  /** Disks in registration order (vda at boot, then what modules created). */
  disks(): DiskDesc[] {
    const out: DiskDesc[] = [
      {
        name: 'vda',
        major: VIRTBLK_MAJOR,
        minor: 0,
        sectors: VDA_SECTORS,
        parts: [{ start: 2048, sectors: VDA_SECTORS - 2048 }],
        queue: 'virtio',
        devpath: 'pci0000:00/0000:00:03.0/virtio0/block/vda',
        driver: 'virtblk',
        removable: 0,
        diskseq: 1,
        partName: (i) => `vda${i}`,
      },
    ];
    let seq = 2;
    const byModule: Record<string, () => void> = {};
    byModule.nvme = () =>
      out.push({
        name: 'nvme0n1',
        major: 259,
        minor: 0,
        sectors: 131072,
        parts: [
          { start: 2048, sectors: 81920 },
          { start: 83968, sectors: 47104 },
        ],
        queue: 'nvme',
        devpath: 'pci0000:00/0000:00:05.0/nvme/nvme0/nvme0n1',
        driver: 'blkext',
        removable: 0,
        diskseq: seq++,
        partName: (i) => `nvme0n1p${i}`,
      });
    byModule.loop = () => {
      const n = Number(this.k.modules.find('loop')?.params.max_loop ?? 8) || 8;
      for (let i = 0; i < n; i++) {
        out.push({
          name: `loop${i}`,
          major: 7,
          minor: i,
          sectors: 0,
          parts: [],
          queue: 'loop',
          devpath: `virtual/block/loop${i}`,
          driver: 'loop',
          removable: 0,
          diskseq: seq++,
          partName: (j) => `loop${i}p${j}`,
        });
      }
    };
    for (const m of this.loadOrder()) byModule[m]?.();
    return out;
  }

  disk(name: string): DiskDesc | undefined {
    return this.disks().find((d) => d.name === name);
  }

  /** Every block device, disks followed by their partitions: [name, major, minor, sectors, disk]. */
  blockDevices(): { name: string; major: number; minor: number; sectors: number; disk: DiskDesc; part: number; start: number }[] {
    const out: { name: string; major: number; minor: number; sectors: number; disk: DiskDesc; part: number; start: number }[] = [];
    for (const d of this.disks()) {
      out.push({ name: d.name, major: d.major, minor: d.minor, sectors: d.sectors, disk: d, part: 0, start: 0 });
      d.parts.forEach((p, i) =>
        out.push({
          name: d.partName(i + 1),
          major: d.major,
          minor: d.minor + i + 1,
          sectors: p.sectors,
          disk: d,
          part: i + 1,
          start: p.start,
        }),
      );
    }
    return out;
  }

  /** part_stat of a block device (disk counters include their partitions' I/O). */
  ioStat(name: string): IoStat {
    const own = this.s.io[name];
    return own ? [...own] : newIo();
  }

  /**
   * Accounts a completed request on `dev` (a disk or partition): `sectors`
   * 512-byte sectors read ('r'), written ('w'), discarded ('d') or a flush ('f').
   * The time a request takes follows the disk (a virtio disk on a host page cache:
   * ~0.1 ms + 4 µs per sector). Partitions count towards their disk, like part_stat_*.
   */
  blockIo(dev: string, rw: 'r' | 'w' | 'd' | 'f', sectors: number, opts: { merges?: number; ms?: number } = {}): void {
    if (!Number.isInteger(sectors) || sectors < 0) throw new KernelError('EINVAL', 'sectors');
    const bd = this.blockDevices().find((b) => b.name === dev);
    if (!bd) throw new KernelError('ENODEV', `no block device ${dev}`);
    const ms = opts.ms ?? Math.max(0, Math.round(0.1 + sectors * 0.004));
    const apply = (name: string): void => {
      const io = (this.s.io[name] ??= newIo());
      const base = rw === 'r' ? 0 : rw === 'w' ? 4 : rw === 'd' ? 11 : 15;
      if (rw === 'f') {
        io[15] += 1;
        io[16] += ms;
      } else {
        io[base] += 1;
        io[base + 1] += opts.merges ?? 0;
        io[base + 2] += sectors;
        io[base + 3] += ms;
      }
      io[9] += Math.max(ms, 1);
      io[10] += ms;
    };
    apply(bd.name);
    if (bd.part) apply(bd.disk.name);
  }

  // ---------------------------------------------------------------- block device page cache

  private bdevOf(name: string): { bd: ReturnType<Devices['blockDevices']>[number]; cache: { cached: [number, number][]; dirty: [number, number][] } } {
    const bd = this.blockDevices().find((b) => b.name === name);
    if (!bd) throw new KernelError('ENODEV', `no block device ${name}`);
    const all = (this.s.bdev ??= {});
    const cache = (all[bd.name] ??= { cached: [], dirty: [] });
    return { bd, cache };
  }

  /** Bytes of dirty block device pages (all disks). */
  bdevDirtyBytes(): number {
    let n = 0;
    for (const c of Object.values(this.s.bdev ?? {})) for (const [a, b] of c.dirty) n += (b - a) * 512;
    return n;
  }

  /**
   * Issues `rqs` (in order, under one plug) for task `pid` from `atNs`:
   * accounts each in part_stat when it completes and emits the submission
   * and completion paths and events when something observes the kernel.
   * Requests are served one after another; `sequential` (a reader waiting
   * for each readahead window) submits each after the previous completed.
   * Returns when the last completes.
   */
  private issue(pid: number, dev: string, rqs: BlockRq[], atNs: number, sequential = false): number {
    const cpu = this.k.sched.task(pid)?.cpu ?? 0;
    const observed = this.k.trace.observed;
    let t = atNs;
    let done = atNs;
    for (const rq of rqs) {
      const svc = rqServiceNs(rq.sectors);
      const issued = observed ? traceBlockSubmit(this.k, pid, rq, t, cpu) : t + 2_000;
      const end = Math.max(issued, done) + svc;
      this.blockIo(dev, rq.rwbs === 'FF' ? 'f' : rq.rwbs.includes('W') ? 'w' : 'r', rq.rwbs === 'FF' ? 0 : rq.sectors, { merges: Math.max(0, rq.bios - 1), ms: Math.round(svc / 1e6) });
      // the completion interrupt (counted whether or not anyone traces it)
      const irq = this.k.sched.blockIrq(cpu);
      if (irq) this.k.sched.countIrq(irq, cpu);
      if (observed) traceBlockComplete(this.k, rq, end, cpu);
      t = sequential ? end : issued;
      done = end;
    }
    return done - atNs;
  }

  private rqBase(bd: ReturnType<Devices['blockDevices']>[number]): Pick<BlockRq, 'major' | 'minor' | 'part' | 'sched'> {
    return {
      major: bd.disk.major,
      minor: bd.disk.minor,
      part: bd.part ? { minor: bd.minor, start: bd.start } : undefined,
      sched: this.scheduler(bd.disk) !== 'none',
    };
  }

  /**
   * A buffered read of `bytes` at byte `off` of block device `name` by task
   * `pid` (read(2) on its node): what the page cache lacks is read in
   * readahead windows (read_ahead_kb). Returns the ns the reader waits.
   */
  bdevRead(pid: number, name: string, off: number, bytes: number): number {
    const { bd, cache } = this.bdevOf(name);
    const size = bd.sectors * 512;
    const end = Math.min(size, off + bytes);
    if (end <= off) return 0;
    const ra = Math.max(8, Number(this.queueAttr(bd.disk, 'read_ahead_kb') ?? 128) * 2);
    // page-aligned disk sectors
    const a = bd.start + Math.floor(off / 4096) * 8;
    const b = bd.start + Math.min(bd.sectors, Math.ceil(end / 4096) * 8);
    const rqs: BlockRq[] = [];
    const base = this.rqBase(bd);
    for (const [x, y] of missing(cache.cached, a, b)) {
      // readahead windows from the first missing page, clipped to the device
      for (let s = x; s < y; s += ra) {
        const n = Math.min(ra, bd.start + bd.sectors - s);
        rqs.push({ ...base, rwbs: 'RA', sector: s, sectors: n, bios: 1 });
        cache.cached = addRange(cache.cached, s, s + n);
      }
    }
    if (!rqs.length) return 0;
    // the pages read in join the page cache as Buffers (pgpgin)
    this.k.mm.chargeFileRead(`bdev:${name}`, rqs.reduce((a, r) => a + r.sectors, 0) * 512, { pid });
    return this.issue(pid, name, rqs, this.k.now, true);
  }

  /** A buffered write of `bytes` at byte `off` of block device `name`: the pages become cached and dirty (written back by sync/fsync). */
  bdevWrite(name: string, off: number, bytes: number, pid?: number): void {
    const { bd, cache } = this.bdevOf(name);
    const end = Math.min(bd.sectors * 512, off + bytes);
    if (end <= off) return;
    const a = bd.start + Math.floor(off / 4096) * 8;
    const b = bd.start + Math.min(bd.sectors, Math.ceil(end / 4096) * 8);
    const fresh = missing(cache.cached, a, b).reduce((n, [x, y]) => n + y - x, 0);
    cache.cached = addRange(cache.cached, a, b);
    cache.dirty = addRange(cache.dirty, a, b);
    // new pages join the page cache (Buffers); the dirty count (meminfo Dirty:) changed either way
    if (fresh) this.k.mm.chargeFileRead(`bdev:${name}`, fresh * 512, { pid, write: true });
    else this.k.mm.syncExternal(pid);
  }

  /**
   * Writes back the dirty pages of block device `name` (all disks when
   * undefined: sync(2)'s sync_bdevs) for task `pid`, in requests of at most
   * max_sectors_kb; `flush` adds blkdev_fsync's cache flush. Returns the ns
   * the caller waits.
   */
  bdevSync(pid: number, name?: string, flush = false): number {
    let t = this.k.now;
    const known = new Set(this.blockDevices().map((b) => b.name));
    const devs = name ? [name] : Object.keys(this.s.bdev ?? {}).filter((d) => known.has(d) && this.s.bdev?.[d].dirty.length);
    for (const d of devs) {
      const { bd, cache } = this.bdevOf(d);
      const base = this.rqBase(bd);
      const max = Math.max(8, Number(this.queueAttr(bd.disk, 'max_sectors_kb') ?? 1280) * 2);
      const rqs: BlockRq[] = [];
      for (const [x, y] of cache.dirty) {
        for (let s = x; s < y; s += max) {
          const n = Math.min(max, y - s);
          // sync(2) writes back through sync_bdevs() -> filemap_fdatawrite(), fsync through file_write_and_wait_range()
          rqs.push({ ...base, rwbs: 'WS', sector: s, sectors: n, bios: Math.ceil(n / 8), caller: flush ? undefined : 'filemap_fdatawrite' });
        }
      }
      cache.dirty = [];
      if (flush) rqs.push({ ...base, part: undefined, rwbs: 'FF', sector: 0, sectors: 0, bios: 1 });
      if (rqs.length) {
        t += this.issue(pid, d, rqs, t);
        this.k.mm.countPgpgout(rqs.reduce((a, r) => a + r.sectors, 0) / 2, pid);
      }
    }
    return t - this.k.now;
  }

  /** Elevators registered now (built-in first, then modules in load order). */
  elevators(): string[] {
    return ELEVATORS.filter((e) => !e.module || this.loaded(e.module)).map((e) => e.name);
  }

  /** The current elevator of a disk ('none' or a name). */
  scheduler(disk: DiskDesc): string {
    const set = this.s.queue[disk.name]?.scheduler;
    if (set !== undefined && (set === 'none' || this.elevators().includes(set))) return set;
    if (set !== undefined) return 'none';
    // elevator_get_default(): mq-deadline for single-queue devices, none for multi-queue ones
    if (disk.queue === 'loop') return 'none';
    return this.k.config.cpus === 1 ? 'mq-deadline' : 'none';
  }

  /** elv_iosched_store(). */
  setScheduler(disk: DiskDesc, input: string): void {
    const name = input.slice(0, 15).trim();
    if (name.startsWith('none')) {
      this.queueSet(disk, 'scheduler', 'none');
      return;
    }
    const find = (): string | undefined =>
      ELEVATORS.find((e) => (e.name === name || e.alias === name) && (!e.module || this.loaded(e.module)))?.name;
    let e = find();
    if (!e) {
      // request_module("%s-iosched")
      const def = ELEVATORS.find((x) => x.name === name || x.alias === name);
      if (def?.module && this.k.modules) {
        try {
          this.k.modules.requestModule(`${name}-iosched`);
          if (!this.loaded(def.module)) this.k.modules.load(def.module);
        } catch {
          // a failed request_module is only a failed lookup
        }
      }
      e = find();
    }
    if (!e) throw new KernelError('EINVAL', `no elevator ${name}`);
    if (e === this.scheduler(disk)) return;
    this.queueSet(disk, 'scheduler', e);
    // elevator init resets nr_requests: 2 * min(queue depth, BLKDEV_DEFAULT_RQ)
    delete this.s.queue[disk.name].nr_requests;
  }

  queueAttr(disk: DiskDesc, attr: string): string | undefined {
    return this.s.queue[disk.name]?.[attr];
  }

  queueSet(disk: DiskDesc, attr: string, value: string): void {
    (this.s.queue[disk.name] ??= {})[attr] = value;
  }

  // ---------------------------------------------------------------- network

  /** Interfaces in ifindex order. */
  netdevs(): NetDesc[] {
    const out: NetDesc[] = [
      {
        name: 'lo',
        ifindex: 1,
        type: 772,
        loopback: true,
        noarp: true,
        defaultMtu: 65536,
        minMtu: 0,
        maxMtu: 0,
        addr: '00:00:00:00:00:00',
        devpath: 'virtual/net/lo',
        txQueueLen: 1000,
        addrAssign: 0,
      },
      {
        name: 'eth0',
        ifindex: 2,
        type: 1,
        loopback: false,
        noarp: false,
        defaultMtu: 1500,
        minMtu: 68,
        maxMtu: 65535,
        addr: '52:54:00:12:34:56',
        devpath: 'pci0000:00/0000:00:04.0/virtio1/net/eth0',
        parent: 'pci0000:00/0000:00:04.0/virtio1',
        txQueueLen: 1000,
        addrAssign: 0,
      },
    ];
    if (this.loaded('dummy')) {
      const n = Math.max(0, Number(this.k.modules.find('dummy')?.params.numdummies ?? 1) || 0);
      const r = new Rng(`${this.k.config.seed}\u0000dummy`);
      for (let i = 0; i < n; i++) {
        const b = [0, 0, 0, 0, 0, 0].map(() => r.int(0, 255));
        b[0] = (b[0] & 0xfe) | 0x02; // eth_random_addr(): locally administered unicast
        out.push({
          name: `dummy${i}`,
          ifindex: 3 + i,
          type: 1,
          loopback: false,
          noarp: true,
          defaultMtu: 1500,
          minMtu: 0,
          maxMtu: 0,
          addr: b.map((x) => x.toString(16).padStart(2, '0')).join(':'),
          devpath: `virtual/net/dummy${i}`,
          txQueueLen: 1000,
          addrAssign: 1,
        });
      }
    }
    return out;
  }

  netdev(name: string): NetDesc | undefined {
    return this.netdevs().find((n) => n.name === name);
  }

  mtu(d: NetDesc): number {
    return this.s.net[d.name]?.mtu ?? d.defaultMtu;
  }

  isUp(d: NetDesc): boolean {
    return this.s.net[d.name]?.up ?? !d.name.startsWith('dummy');
  }

  txQueueLen(d: NetDesc): number {
    return this.s.net[d.name]?.txq ?? d.txQueueLen;
  }

  setTxQueueLen(d: NetDesc, n: number): void {
    (this.s.net[d.name] ??= {}).txq = n;
  }

  ifalias(d: NetDesc): string {
    return this.s.net[d.name]?.alias ?? '';
  }

  setIfalias(d: NetDesc, alias: string): void {
    (this.s.net[d.name] ??= {}).alias = alias;
  }

  /** dev_set_mtu(): EINVAL outside [min_mtu, max_mtu]; IPv6 follows the new MTU. */
  setMtu(d: NetDesc, mtu: number): void {
    if (!Number.isInteger(mtu) || mtu < 0) throw new KernelError('EINVAL');
    if (mtu < d.minMtu || (d.maxMtu && mtu > d.maxMtu)) throw new KernelError('EINVAL');
    (this.s.net[d.name] ??= {}).mtu = mtu;
    this.k.sysctl.onMtuChange(d.name, mtu);
  }

  setUp(d: NetDesc, up: boolean): void {
    (this.s.net[d.name] ??= {}).up = up;
  }

  /** Adds traffic on an interface (what sockets and the network stack send and receive). */
  netTraffic(dev: string, t: NetTraffic): void {
    const d = this.netdev(dev);
    if (!d) throw new KernelError('ENODEV', `no interface ${dev}`);
    const v = (this.s.traffic[dev] ??= new Array(NET_STATS.length).fill(0));
    const add = (stat: NetStat, n: number | undefined): void => {
      if (n === undefined) return;
      if (!Number.isInteger(n) || n < 0) throw new KernelError('EINVAL', stat);
      v[NET_STATS.indexOf(stat)] += n;
    };
    add('rx_packets', t.rxPackets);
    add('rx_bytes', t.rxBytes);
    add('tx_packets', t.txPackets);
    add('tx_bytes', t.txBytes);
    add('multicast', t.multicast);
    add('rx_dropped', t.rxDropped);
    add('tx_dropped', t.txDropped);
    if (d.loopback) {
      // what lo transmits it receives
      add('rx_packets', t.txPackets);
      add('rx_bytes', t.txBytes);
      add('tx_packets', t.rxPackets);
      add('tx_bytes', t.rxBytes);
    }
  }

  /** Counters of an interface now: background traffic (eth0) plus explicit traffic. */
  netStats(dev: string): Record<NetStat, number> {
    const out = Object.fromEntries(NET_STATS.map((s) => [s, 0])) as Record<NetStat, number>;
    const v = this.s.traffic[dev];
    if (v) NET_STATS.forEach((s, i) => (out[s] += v[i]));
    if (dev === 'eth0') {
      const bg = backgroundTraffic(this.k.now / 1e9, this.raPeriod());
      out.rx_packets += bg.rxPackets;
      out.rx_bytes += bg.rxBytes;
      out.tx_packets += bg.txPackets;
      out.tx_bytes += bg.txBytes;
      out.multicast += bg.multicast;
    }
    return out;
  }

  private raPeriod(): number {
    return 200 + (new Rng(`${this.k.config.seed}\u0000ra`).nextU32() % 400);
  }

  // ---------------------------------------------------------------- LEDs

  ledTriggers(): string[] {
    const cpus = Array.from({ length: this.k.config.cpus }, (_, i) => `cpu${i}`);
    return [...KBD_TRIGGERS, 'disk-activity', 'disk-read', 'disk-write', 'mtd', 'nand-disk', 'cpu', ...cpus, 'panic'];
  }

  led(name: string): { brightness: number; trigger: string } {
    const s = this.s.leds[name];
    if (s) return { ...s };
    const lock = name.split('::')[1];
    return { brightness: 0, trigger: `kbd-${lock}` };
  }

  setLed(name: string, v: { brightness?: number; trigger?: string }): void {
    const cur = this.led(name);
    this.s.leds[name] = { brightness: v.brightness ?? cur.brightness, trigger: v.trigger ?? cur.trigger };
  }

  // ---------------------------------------------------------------- registrations

  /** Loaded modules, oldest first. */
  private loadOrder(): string[] {
    return [...(this.k.modules?.list() ?? [])].reverse().map((m) => m.name);
  }

  /** register_filesystem() from a module or driver not in MODULE_REGISTRATIONS. */
  registerFilesystem(name: string, nodev: boolean): void {
    const list = (this.s.fs ??= []);
    if (this.filesystems().some(([n]) => n === name)) throw new KernelError('EBUSY');
    list.push([name, nodev]);
  }

  unregisterFilesystem(name: string): void {
    const list = this.s.fs ?? [];
    const i = list.findIndex(([n]) => n === name);
    if (i < 0) throw new KernelError('EINVAL');
    list.splice(i, 1);
  }

  /** Registered filesystem types in registration order: [name, nodev]. */
  filesystems(): [string, boolean][] {
    const out: [string, boolean][] = (procData as unknown as { filesystems: [string, boolean][] }).filesystems.map(([n, d]) => [n, d]);
    for (const m of this.loadOrder()) for (const f of MODULE_REGISTRATIONS[m]?.fs ?? []) out.push([...f]);
    for (const f of this.s.fs ?? []) out.push([...f]);
    return out;
  }

  /** Character and block majors: [major, name], registration order. */
  majors(kind: 'chr' | 'blk'): [number, string][] {
    const d = procData as unknown as { chrdev: [number, string][]; blkdev: [number, string][] };
    const out: [number, string][] =
      kind === 'chr'
        ? d.chrdev.map(([a, b]) => [a, b])
        : [[VIRTBLK_MAJOR, 'virtblk'], ...d.blkdev.map(([a, b]) => [a, b] as [number, string])];
    for (const m of this.loadOrder()) for (const x of MODULE_REGISTRATIONS[m]?.[kind] ?? []) out.push([...x]);
    return out;
  }

  /** misc devices, newest first (misc_list order). */
  miscDevices(): [number, string][] {
    const out: [number, string][] = (procData as unknown as { misc: [number, string][] }).misc.map(([a, b]) => [a, b]);
    for (const m of this.loadOrder()) for (const x of MODULE_REGISTRATIONS[m]?.misc ?? []) out.unshift([...x]);
    return out;
  }

  // ---------------------------------------------------------------- cgroups

  cgroupsMade(): readonly string[] {
    return this.s.cgroups ?? [];
  }

  makeCgroup(path: string): void {
    const list = (this.s.cgroups ??= []);
    if (list.includes(path)) throw new KernelError('EEXIST');
    list.push(path);
  }

  /** Writing a pid to cgroup.procs: the scheduler keeps task membership. */
  moveToCgroup(pid: number, path: string): void {
    const s = this.k.sched as unknown as { setCgroup?(pid: number, path: string): void };
    if (typeof s.setCgroup !== 'function') throw new KernelError('EOPNOTSUPP');
    s.setCgroup(pid, path);
  }

  // ---------------------------------------------------------------- generic attributes

  attr(path: string): string | undefined {
    return this.s.attrs[path];
  }

  setAttr(path: string, value: string): void {
    this.s.attrs[path] = value;
  }

  getState(): DevicesState {
    return JSON.parse(JSON.stringify(this.s)) as DevicesState;
  }

  setState(s: DevicesState | undefined): void {
    if (!s) return;
    this.s = JSON.parse(JSON.stringify(s)) as DevicesState;
  }
}

// ---------------------------------------------------------------- background traffic

/** eth0 comes up this long after boot (networking.service). */
const LINK_UP_S = 3;
const NTP_FIRST_S = 5;
const ETH_HLEN = 14;

/**
 * What a Debian guest on QEMU user networking exchanges when idle, as counters
 * at time `t` (seconds since boot): DHCP at link-up, IPv6 router solicitation
 * and the answering RA, systemd-timesyncd's NTP polls (32 s doubling to
 * 2048 s) and the router's periodic unsolicited RAs.
 */
export function backgroundTraffic(
  t: number,
  raPeriod: number,
): Required<Pick<NetTraffic, 'rxPackets' | 'rxBytes' | 'txPackets' | 'txBytes' | 'multicast'>> {
  const r = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, multicast: 0 };
  if (t < LINK_UP_S) return r;
  const tx = (n: number, bytes: number): void => {
    r.txPackets += n;
    r.txBytes += n * bytes;
  };
  const rx = (n: number, bytes: number, mc = false): void => {
    r.rxPackets += n;
    r.rxBytes += n * bytes;
    if (mc) r.multicast += n;
  };
  // DHCP discover/offer/request/ack; IPv6 RS, MLDv2 report, DAD
  tx(2, 342);
  rx(2, 590);
  tx(1, 70);
  tx(2, 90);
  tx(1, 78);
  rx(1, 118, true);
  // NTP: polls at 5 s, then intervals 32, 64, ... 2048 s
  if (t >= NTP_FIRST_S) {
    let polls = 1;
    let at = NTP_FIRST_S;
    let iv = 32;
    while (iv < 2048 && at + iv <= t) {
      at += iv;
      polls++;
      iv *= 2;
    }
    if (at + 2048 <= t) polls += Math.floor((t - at) / 2048);
    tx(polls, 76 + ETH_HLEN);
    rx(polls, 76 + ETH_HLEN);
  }
  // unsolicited router advertisements
  const ras = Math.floor((t - LINK_UP_S) / raPeriod);
  rx(ras, 118, true);
  return r;
}
