/**
 * The device tree under /sys/devices: every device as an entry with its
 * path, class, device number and attribute directory. /sys/class, /sys/block
 * and /sys/dev are symlink views over the same list.
 */
import { KernelError } from '../../errors';
import type { Kernel } from '../../kernel';
import type { DirNode, FileNode } from '../vnode';
import sysfsData from '../../data/sysfs.json';
import { type DiskDesc, type NetDesc, LED_NAMES, NET_STATS } from './devices';
import { type KTable, attr, errattr, kdir, kstrtoint, kstrtoul, link, powerDir, rel, uevent, val } from './kernfs';

export interface DevEntry {
  /** path under /sys/devices */
  path: string;
  /** class (block, net, leds, mem, ...) and the name in /sys/class/<class> */
  cls?: string;
  name: string;
  devt?: { kind: 'char' | 'block'; major: number; minor: number };
  /** the device's own attributes (uevent, power, subsystem are added) */
  attrs?: () => KTable;
  uevent?: () => string[];
}

/** /sys/block/<d>/stat and /proc/diskstats fields: 17 counters. */
export function statLine(io: number[]): string {
  return io.map((v) => String(v).padStart(8)).join(' ') + '\n';
}

/** Queue attributes of each driver (values as the reference kernel shows them). */
const QUEUE_BASE: Record<DiskDesc['queue'], Record<string, string>> = {
  nvme: Object.fromEntries((sysfsData as unknown as { queue: { nvme: [string, string][] } }).queue.nvme),
  loop: Object.fromEntries((sysfsData as unknown as { queue: { loop: [string, string][] } }).queue.loop),
  virtio: {
    add_random: '0',
    chunk_sectors: '0',
    dax: '0',
    discard_granularity: '512',
    discard_max_bytes: '2147483136',
    discard_max_hw_bytes: '2147483136',
    discard_zeroes_data: '0',
    dma_alignment: '511',
    fua: '0',
    hw_sector_size: '512',
    io_poll: '0',
    io_poll_delay: '-1',
    io_timeout: '30000',
    iostats: '1',
    logical_block_size: '512',
    max_discard_segments: '1',
    max_hw_sectors_kb: '2147483647',
    max_integrity_segments: '0',
    max_sectors_kb: '1280',
    max_segment_size: '4294967295',
    max_segments: '254',
    minimum_io_size: '512',
    nomerges: '0',
    nr_requests: '256',
    nr_zones: '0',
    optimal_io_size: '0',
    physical_block_size: '512',
    read_ahead_kb: '128',
    rotational: '1',
    rq_affinity: '1',
    scheduler: '',
    stable_writes: '0',
    virt_boundary_mask: '0',
    wbt_lat_usec: '75000',
    write_cache: 'write back',
    write_same_max_bytes: '0',
    write_zeroes_max_bytes: '2147483136',
    zone_append_max_bytes: '0',
    zone_write_granularity: '0',
    zoned: 'none',
  },
};
/** hardware queue depth (tag set) of each driver */
const QUEUE_DEPTH: Record<DiskDesc['queue'], number> = { virtio: 256, nvme: 1023, loop: 128 };
const QUEUE_RW = new Set([
  'add_random',
  'io_poll',
  'io_poll_delay',
  'io_timeout',
  'iostats',
  'max_sectors_kb',
  'nomerges',
  'nr_requests',
  'read_ahead_kb',
  'rotational',
  'rq_affinity',
  'scheduler',
  'stable_writes',
  'wbt_lat_usec',
  'write_cache',
]);

function queueValue(k: Kernel, d: DiskDesc, a: string): string {
  if (a === 'scheduler') {
    const cur = k.devices.scheduler(d);
    let s = cur === 'none' ? '[none] ' : 'none ';
    for (const e of k.devices.elevators()) s += e === cur ? `[${e}] ` : `${e} `;
    return s;
  }
  const set = k.devices.queueAttr(d, a);
  if (set !== undefined) return set;
  if (a === 'nr_requests') {
    const depth = QUEUE_DEPTH[d.queue];
    // with an elevator: 2 * min(depth, BLKDEV_DEFAULT_RQ)
    return String(k.devices.scheduler(d) === 'none' ? depth : 2 * Math.min(depth, 128));
  }
  return QUEUE_BASE[d.queue][a] ?? '0';
}

/** The store() of a queue attribute, with its checks. */
function queueStore(k: Kernel, d: DiskDesc, a: string, data: string): void {
  const dv = k.devices;
  const num = (): number => kstrtoul(data);
  switch (a) {
    case 'scheduler':
      dv.setScheduler(d, data);
      return;
    case 'nr_requests': {
      let n = Math.max(4, num());
      const depth = QUEUE_DEPTH[d.queue];
      if (dv.scheduler(d) === 'none' ? n > depth : n > 8192) throw new KernelError('EINVAL');
      n = Math.floor(n);
      dv.queueSet(d, a, String(n));
      return;
    }
    case 'read_ahead_kb':
      dv.queueSet(d, a, String(num()));
      return;
    case 'max_sectors_kb': {
      const v = num();
      const hw = Number(QUEUE_BASE[d.queue].max_hw_sectors_kb);
      if (v > hw || v < 4) throw new KernelError('EINVAL');
      dv.queueSet(d, a, String(v));
      return;
    }
    case 'rotational':
    case 'add_random':
    case 'iostats':
    case 'stable_writes':
      dv.queueSet(d, a, num() ? '1' : '0');
      return;
    case 'nomerges': {
      const v = num();
      dv.queueSet(d, a, v === 2 ? '2' : v ? '1' : '0');
      return;
    }
    case 'rq_affinity': {
      const v = num();
      if (v <= 2) dv.queueSet(d, a, String(v));
      return;
    }
    case 'io_poll':
      // no poll queues on this device
      throw new KernelError('EINVAL');
    case 'io_poll_delay': {
      const v = kstrtoint(data);
      if (v < -1) throw new KernelError('EINVAL');
      dv.queueSet(d, a, v === -1 ? '-1' : '0');
      return;
    }
    case 'io_timeout': {
      const v = num();
      if (v === 0) throw new KernelError('EINVAL');
      dv.queueSet(d, a, String(v));
      return;
    }
    case 'wbt_lat_usec': {
      const v = kstrtoint(data);
      if (v < -1) throw new KernelError('EINVAL');
      dv.queueSet(d, a, v === -1 ? QUEUE_BASE[d.queue].wbt_lat_usec : String(v));
      return;
    }
    case 'write_cache': {
      const s = data.trim().toLowerCase();
      if (s === 'write back' || s === 'write through' || s === 'none') {
        dv.queueSet(d, a, s === 'write back' ? 'write back' : 'write through');
        return;
      }
      throw new KernelError('EINVAL');
    }
  }
  throw new KernelError('EINVAL');
}

function queueDir(k: Kernel, d: DiskDesc): DirNode {
  const names = Object.keys(QUEUE_BASE.nvme);
  const t: KTable = {};
  for (const a of names) {
    if (a === 'io_timeout' && d.queue === 'loop') continue;
    if (QUEUE_RW.has(a)) t[a] = attr(() => `${queueValue(k, d, a)}\n`, { write: (data) => queueStore(k, d, a, data) });
    else t[a] = attr(() => `${queueValue(k, d, a)}\n`);
  }
  t.iosched = kdir({});
  return kdir(t);
}

function blockEntries(k: Kernel): DevEntry[] {
  const out: DevEntry[] = [];
  for (const d of k.devices.disks()) {
    const bdi = `${d.major}:${d.minor}`;
    out.push({
      path: d.devpath,
      cls: 'block',
      name: d.name,
      devt: { kind: 'block', major: d.major, minor: d.minor },
      uevent: () => [`MAJOR=${d.major}`, `MINOR=${d.minor}`, `DEVNAME=${d.name}`, 'DEVTYPE=disk', `DISKSEQ=${d.diskseq}`],
      attrs: () => {
        const t: KTable = {
          alignment_offset: val(0),
          bdi: link(rel(d.devpath, `virtual/bdi/${bdi}`)),
          discard_alignment: val(0),
          diskseq: val(d.diskseq),
          events: val(''),
          events_async: val(''),
          events_poll_msecs: val(-1),
          ext_range: val(d.queue === 'virtio' ? 16 : 256),
          hidden: val(0),
          holders: kdir({}),
          inflight: val(`${'0'.padStart(8)} ${'0'.padStart(8)}`),
          integrity: kdir({}),
          mq: kdir({}),
          queue: () => queueDir(k, d),
          range: val(d.queue === 'virtio' ? 16 : d.queue === 'loop' ? 1 : 0),
          removable: val(d.removable),
          ro: val(0),
          size: attr(() => `${d.sectors}\n`),
          slaves: kdir({}),
          stat: attr(() => statLine(k.devices.ioStat(d.name))),
          trace: kdir({}),
        };
        if (d.queue === 'virtio') t.device = link('../../../virtio0');
        if (d.queue === 'nvme') t.device = link('../../nvme0');
        if (d.queue === 'loop') t.loop = kdir({});
        return t;
      },
    });
    d.parts.forEach((p, i) => {
      const pn = d.partName(i + 1);
      const minor = d.minor + i + 1;
      out.push({
        path: `${d.devpath}/${pn}`,
        cls: 'block',
        name: pn,
        devt: { kind: 'block', major: d.major, minor },
        uevent: () => [
          `MAJOR=${d.major}`,
          `MINOR=${minor}`,
          `DEVNAME=${pn}`,
          'DEVTYPE=partition',
          `DISKSEQ=${d.diskseq}`,
          `PARTN=${i + 1}`,
        ],
        attrs: () => partAttrs(k, d, i),
      });
    });
    out.push({ path: `virtual/bdi/${bdi}`, cls: 'bdi', name: bdi, attrs: () => bdiAttrs(k, d) });
  }
  return out;
}

function partAttrs(k: Kernel, d: DiskDesc, i: number): KTable {
  const p = d.parts[i];
  const pn = d.partName(i + 1);
  return {
    alignment_offset: val(0),
    discard_alignment: val(0),
    holders: kdir({}),
    inflight: val(`${'0'.padStart(8)} ${'0'.padStart(8)}`),
    partition: val(i + 1),
    ro: val(0),
    size: val(p.sectors),
    start: val(p.start),
    stat: attr(() => statLine(k.devices.ioStat(pn))),
  };
}

function bdiAttrs(k: Kernel, d: DiskDesc): KTable {
  return {
    read_ahead_kb: attr(() => `${queueValue(k, d, 'read_ahead_kb')}\n`, { write: (data) => queueStore(k, d, 'read_ahead_kb', data) }),
    min_ratio: val(0),
    max_ratio: val(100),
    stable_pages_required: val(0),
  };
}

// ---------------------------------------------------------------- net

const NET_FLAGS = (d: NetDesc, up: boolean): number => {
  if (d.loopback) return up ? 0x9 : 0x8;
  let f = 0x2 | (d.noarp ? 0x80 : 0x1000);
  if (up) f |= 0x1;
  return f;
};

function netAttrs(k: Kernel, d: NetDesc): KTable {
  const dv = k.devices;
  const up = (): boolean => dv.isUp(d);
  const virtio = !!d.parent;
  const linkErr = (): FileNode => errattr('EINVAL');
  const t: KTable = {
    addr_assign_type: val(d.addrAssign),
    addr_len: val(6),
    address: val(d.addr),
    broadcast: val(d.loopback ? '00:00:00:00:00:00' : 'ff:ff:ff:ff:ff:ff'),
    carrier: attr(
      () => {
        if (!up()) throw new KernelError('EINVAL');
        return '1\n';
      },
      {
        write: () => {
          throw new KernelError('EINVAL');
        },
      },
    ),
    carrier_changes: attr(() => `${up() ? (d.loopback ? 0 : 2) : 0}\n`),
    carrier_down_count: attr(() => `${up() && !d.loopback ? 1 : 0}\n`),
    carrier_up_count: attr(() => `${up() && !d.loopback ? 1 : 0}\n`),
    dev_id: val('0x0'),
    dev_port: val(0),
    dormant: attr(() => {
      if (!up()) throw new KernelError('EINVAL');
      return '0\n';
    }),
    duplex: virtio
      ? attr(() =>
          up()
            ? 'unknown\n'
            : (() => {
                throw new KernelError('EINVAL');
              })(),
        )
      : linkErr(),
    flags: attr(() => `0x${NET_FLAGS(d, up()).toString(16)}\n`, {
      write: (data) => {
        const v = kstrtoul(data.replace(/^0x/, ''), data.trim().startsWith('0x') ? 16 : 10);
        dv.setUp(d, (v & 1) === 1);
      },
    }),
    gro_flush_timeout: attr(() => '0\n', { write: (data) => void kstrtoul(data) }),
    ifalias: attr(() => `${dv.ifalias(d)}\n`, {
      write: (data) => {
        const s = data.replace(/\n$/, '');
        if (s.length >= 256) throw new KernelError('EINVAL');
        dv.setIfalias(d, s);
      },
    }),
    ifindex: val(d.ifindex),
    iflink: val(d.ifindex),
    link_mode: val(0),
    mtu: attr(() => `${dv.mtu(d)}\n`, { write: (data) => dv.setMtu(d, kstrtoul(data)) }),
    name_assign_type: d.loopback ? errattr('EINVAL') : val(1),
    napi_defer_hard_irqs: attr(() => '0\n', { write: (data) => void kstrtoul(data) }),
    netdev_group: val(0),
    operstate: attr(() => `${up() ? (d.loopback ? 'unknown' : 'up') : 'down'}\n`),
    phys_port_id: errattr('EOPNOTSUPP'),
    phys_port_name: errattr('EOPNOTSUPP'),
    phys_switch_id: errattr('EOPNOTSUPP'),
    proto_down: val(0),
    queues: kdir({
      'rx-0': kdir({ rps_cpus: val('0'), rps_flow_cnt: val(0) }),
      'tx-0': kdir({ tx_timeout: val(0), xps_cpus: val('0'), tx_maxrate: val(0) }),
    }),
    speed: virtio
      ? attr(() =>
          up()
            ? '-1\n'
            : (() => {
                throw new KernelError('EINVAL');
              })(),
        )
      : linkErr(),
    statistics: kdir(Object.fromEntries(NET_STATS.map((s) => [s, attr(() => `${dv.netStats(d.name)[s]}\n`)]))),
    testing: val(0),
    threaded: attr(() => '0\n', { write: (data) => void kstrtoul(data) }),
    tx_queue_len: attr(() => `${dv.txQueueLen(d)}\n`, { write: (data) => dv.setTxQueueLen(d, kstrtoul(data)) }),
    type: val(d.type),
  };
  if (d.parent) t.device = link('../../../' + d.parent.split('/').pop());
  return t;
}

// ---------------------------------------------------------------- LEDs

const LED_PARENT = 'platform/i8042/serio0/input/input0';

function ledAttrs(k: Kernel, name: string): KTable {
  const dv = k.devices;
  return {
    brightness: attr(() => `${dv.led(name).brightness}\n`, {
      write: (data) => {
        // brightness_store(): kstrtoul, 0 removes the trigger, values cap at max_brightness
        const v = kstrtoul(data);
        if (v === 0) dv.setLed(name, { brightness: 0, trigger: 'none' });
        else dv.setLed(name, { brightness: Math.min(v, 1) });
      },
    }),
    max_brightness: val(1),
    trigger: attr(
      () => {
        const cur = dv.led(name).trigger;
        let s = cur === 'none' ? '[none]' : 'none';
        for (const t of dv.ledTriggers()) s += t === cur ? ` [${t}]` : ` ${t}`;
        return s + '\n';
      },
      {
        write: (data) => {
          const t = data.replace(/\n$/, '');
          if (t === 'none') dv.setLed(name, { trigger: 'none', brightness: 0 });
          else if (dv.ledTriggers().includes(t)) dv.setLed(name, { trigger: t });
          else throw new KernelError('EINVAL');
        },
      },
    ),
    device: link('../../input0'),
  };
}

// ---------------------------------------------------------------- character devices

/** Character devices of the base system: [class, name, major, minor, path under /sys/devices]. */
function charDevices(k: Kernel): [string, string, number, number, string][] {
  const out: [string, string, number, number, string][] = [];
  const mem: [string, number][] = [
    ['mem', 1],
    ['kmem', 2],
    ['null', 3],
    ['port', 4],
    ['zero', 5],
    ['full', 7],
    ['random', 8],
    ['urandom', 9],
    ['kmsg', 11],
  ];
  for (const [n, m] of mem) if (n !== 'kmem') out.push(['mem', n, 1, m, `virtual/mem/${n}`]);
  for (let i = 0; i < 64; i++) out.push(['tty', `tty${i}`, 4, i, `virtual/tty/tty${i}`]);
  out.push(['tty', 'ttyS0', 4, 64, 'pnp0/00:04/tty/ttyS0']);
  for (let i = 1; i < 4; i++) out.push(['tty', `ttyS${i}`, 4, 64 + i, `platform/serial8250/tty/ttyS${i}`]);
  out.push(
    ['tty', 'tty', 5, 0, 'virtual/tty/tty'],
    ['tty', 'console', 5, 1, 'virtual/tty/console'],
    ['tty', 'ptmx', 5, 2, 'virtual/tty/ptmx'],
  );
  for (const [n, m] of [
    ['vcs', 0],
    ['vcs1', 1],
    ['vcsu', 64],
    ['vcsu1', 65],
    ['vcsa', 128],
    ['vcsa1', 129],
  ] as [string, number][])
    out.push(['vc', n, 7, m, `virtual/vc/${n}`]);
  for (const [minor, name] of k.devices.miscDevices()) out.push(['misc', name, 10, minor, `virtual/misc/${name}`]);
  if (k.modules?.isLoaded('nvme')) {
    out.push(['nvme', 'nvme0', 246, 0, 'pci0000:00/0000:00:05.0/nvme/nvme0']);
    out.push(['nvme-generic', 'ng0n1', 245, 0, 'pci0000:00/0000:00:05.0/nvme/nvme0/ng0n1']);
  }
  out.push(['input', 'mice', 13, 63, 'virtual/input/mice']);
  out.push(['rtc', 'rtc0', 251, 0, 'pnp0/00:05/rtc/rtc0']);
  return out;
}

/** Every device of the machine. */
export function deviceEntries(k: Kernel): DevEntry[] {
  const out: DevEntry[] = [...blockEntries(k)];
  for (const d of k.devices.netdevs()) {
    out.push({
      path: d.devpath,
      cls: 'net',
      name: d.name,
      uevent: () => [`INTERFACE=${d.name}`, `IFINDEX=${d.ifindex}`],
      attrs: () => netAttrs(k, d),
    });
  }
  out.push({
    path: LED_PARENT,
    cls: 'input',
    name: 'input0',
    uevent: () => [
      'PRODUCT=11/1/1/ab41',
      'NAME="AT Translated Set 2 keyboard"',
      'PHYS="isa0060/serio0/input0"',
      'PROP=0',
      'EV=120013',
      'KEY=402000000 3803078f800d001 feffffdfffefffff fffffffffffffffe',
      'MSC=10',
      'LED=7',
      'MODALIAS=input:b0011v0001p0001eAB41-e0,1,4,11,14,k71,72,73,74,75,76,77,79,7A,7B,7C,7D,7E,7F,80,8C,8E,8F,9B,9C,9D,9E,9F,A3,A4,A5,A6,AC,AD,B7,B8,B9,D9,E2,ram4,l0,1,2,sfw',
    ],
    attrs: () => ({ name: val('AT Translated Set 2 keyboard'), phys: val('isa0060/serio0/input0'), uniq: val(''), properties: val(0) }),
  });
  for (const l of LED_NAMES) out.push({ path: `${LED_PARENT}/${l}`, cls: 'leds', name: l, attrs: () => ledAttrs(k, l) });
  for (const [cls, name, major, minor, path] of charDevices(k)) {
    out.push({
      path,
      cls,
      name,
      devt: { kind: 'char', major, minor },
      uevent: () => [`MAJOR=${major}`, `MINOR=${minor}`, `DEVNAME=${devname(cls, name)}`],
    });
  }
  out.push({
    path: 'virtual/graphics/fbcon',
    cls: 'graphics',
    name: 'fbcon',
    attrs: () => ({ cursor_blink: attr(() => '1\n', { write: (d) => void kstrtoint(d) }), rotate: val(0), rotate_all: val(0) }),
  });
  out.push({
    path: 'virtual/vtconsole/vtcon0',
    cls: 'vtconsole',
    name: 'vtcon0',
    attrs: () => ({ bind: val(1), name: val('(S) dummy device') }),
  });
  out.push({
    path: 'pci0000:00/pci_bus/0000:00',
    cls: 'pci_bus',
    name: '0000:00',
    attrs: () => ({ cpuaffinity: val('ffffffff'), cpulistaffinity: val(`0-${Math.max(0, k.config.cpus - 1)}`), rescan: val('') }),
  });
  for (let i = 0; i < 2; i++)
    out.push({
      path: `virtual/thermal/cooling_device${i}`,
      cls: 'thermal',
      name: `cooling_device${i}`,
      attrs: () => ({ type: val('Processor'), max_state: val(0), cur_state: val(0) }),
    });
  out.push({ path: 'virtual/dmi/id', cls: 'dmi', name: 'id', attrs: () => dmiAttrs() });
  // wakeup sources of the platform devices (power button, RTC, keyboard, mouse, alarmtimer, ...)
  const wakeups = [
    'LNXSYSTM:00/LNXPWRBN:00',
    'pnp0/00:05',
    'platform/i8042/serio0',
    'platform/i8042/serio1',
    'platform/alarmtimer.0.auto',
    'LNXSYSTM:00/LNXSYBUS:00/PNP0A03:00',
    'pnp0/00:02',
    'pnp0/00:03',
    'platform/reg-dummy',
  ];
  wakeups.forEach((parent, i) =>
    out.push({
      path: `${parent}/wakeup/wakeup${i}`,
      cls: 'wakeup',
      name: `wakeup${i}`,
      attrs: () => ({
        name: val(parent.split('/').pop() ?? ''),
        active_count: val(0),
        event_count: val(0),
        wakeup_count: val(0),
        expire_count: val(0),
        active_time_ms: val(0),
        total_time_ms: val(0),
        max_time_ms: val(0),
        last_change_ms: val(0),
        prevent_suspend_time_ms: val(0),
      }),
    }),
  );
  out.push({
    path: 'platform/reg-dummy/regulator.0',
    cls: 'regulator',
    name: 'regulator.0',
    attrs: () => ({ name: val('regulator-dummy'), type: val('unknown'), num_users: val(0), suspend_standby_state: val('disabled') }),
  });
  if (k.modules?.isLoaded('nvme'))
    out.push({
      path: 'virtual/nvme-subsystem/nvme-subsys0',
      cls: 'nvme-subsystem',
      name: 'nvme-subsys0',
      attrs: () => ({
        subsysnqn: val('nqn.2019-08.org.qemu:nvme0'),
        model: val('QEMU NVMe Ctrl'),
        serial: val('nvme0'),
        iopolicy: val('numa'),
      }),
    });
  return out;
}

function devname(cls: string, name: string): string {
  if (cls === 'input') return `input/${name}`;
  if (name === 'loop-control' || cls !== 'misc') return name;
  return name;
}

/** QEMU i440fx + SeaBIOS SMBIOS. */
function dmiAttrs(): KTable {
  return {
    bios_date: val('04/01/2014'),
    bios_release: val('0.0'),
    bios_vendor: val('SeaBIOS'),
    bios_version: val('1.16.2-debian-1.16.2-1'),
    chassis_type: val(1),
    chassis_vendor: val('QEMU'),
    chassis_version: val('pc-i440fx-8.0'),
    modalias: val(
      'dmi:bvnSeaBIOS:bvr1.16.2-debian-1.16.2-1:bd04/01/2014:br0.0:svnQEMU:pnStandardPC(i440FX+PIIX,1996):pvrpc-i440fx-8.0:cvnQEMU:ct1:cvrpc-i440fx-8.0:sku:',
    ),
    product_name: val('Standard PC (i440FX + PIIX, 1996)'),
    product_version: val('pc-i440fx-8.0'),
    sys_vendor: val('QEMU'),
  };
}

/** The attribute directory of a device entry (with uevent, power, subsystem and dev). */
export function deviceDir(entry: DevEntry, children: () => KTable): DirNode {
  return kdir(() => {
    const t: KTable = { ...(entry.attrs?.() ?? {}), ...children() };
    if (!t.uevent) t.uevent = uevent(entry.uevent ?? (() => []));
    if (!t.power) t.power = () => powerDir();
    if (entry.devt && !t.dev) t.dev = val(`${entry.devt.major}:${entry.devt.minor}`);
    if (entry.cls && !t.subsystem) t.subsystem = link(rel(`devices/${entry.path}`, `class/${entry.cls}`));
    return t;
  });
}
