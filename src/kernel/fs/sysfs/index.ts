/**
 * sysfs: /sys of the simulated machine, rendered from the device model
 * (devices.ts), the kernel's subsystems and the reference kernel's data.
 * Directories list in kernfs order (what `find` prints); class, block and dev
 * directories are symlinks into /sys/devices like the kernel's.
 */
import { KernelError } from '../../errors';
import type { Kernel } from '../../kernel';
import { memoryLayout } from '../../printk/boot-layout';
import type { DirNode } from '../vnode';
import sysfsData from '../../data/sysfs.json';
import { cgroup2Root } from './cgroup';
import { cpuSysDir } from './cpu';
import { type DevEntry, deviceDir, deviceEntries } from './devtree';
import { type KTable, attr, kdir, link, powerDir, rel, uevent, val, wattr } from './kernfs';
import { kernelDir } from './kernel-dir';
import { moduleDir } from './module';
import { withLabSysFiles } from '../../modules/lab-fs';

/** The PCI functions of the QEMU i440fx machine: [slot, vendor, device, class, subsystem device, driver]. */
function pciFunctions(k: Kernel): [string, string, string, string, string, string | undefined][] {
  const out: [string, string, string, string, string, string | undefined][] = [
    ['0000:00:00.0', '0x8086', '0x1237', '0x060000', '0x1100', undefined],
    ['0000:00:01.0', '0x8086', '0x7000', '0x060100', '0x1100', undefined],
    ['0000:00:01.1', '0x8086', '0x7010', '0x010180', '0x1100', 'ata_piix'],
    ['0000:00:01.3', '0x8086', '0x7113', '0x068000', '0x1100', 'piix4_smbus'],
    ['0000:00:02.0', '0x1234', '0x1111', '0x030000', '0x1100', undefined],
    ['0000:00:03.0', '0x1af4', '0x1001', '0x010000', '0x0002', 'virtio-pci'],
    ['0000:00:04.0', '0x1af4', '0x1000', '0x020000', '0x0001', 'virtio-pci'],
  ];
  if (k.modules?.isLoaded('nvme')) out.push(['0000:00:05.0', '0x1b36', '0x0010', '0x010802', '0x1100', 'nvme']);
  return out;
}

/** Devices that are not class devices: PCI functions, virtio devices, platform/ACPI nodes, system/. */
function busEntries(k: Kernel): DevEntry[] {
  const out: DevEntry[] = [];
  for (const [slot, vendor, device, cls, subdev, driver] of pciFunctions(k)) {
    const path = `pci0000:00/${slot}`;
    out.push({
      path,
      name: slot,
      uevent: () => [
        ...(driver ? [`DRIVER=${driver}`] : []),
        `PCI_CLASS=${cls.slice(2).replace(/^0+/, '')}`,
        `PCI_ID=${vendor.slice(2).toUpperCase()}:${device.slice(2).toUpperCase()}`,
        `PCI_SUBSYS_ID=1AF4:${subdev.slice(2).toUpperCase()}`,
        `PCI_SLOT_NAME=${slot}`,
        `MODALIAS=pci:v0000${vendor.slice(2).toUpperCase()}d0000${device.slice(2).toUpperCase()}sv00001AF4sd0000${subdev.slice(2).toUpperCase()}bc${cls.slice(2, 4).toUpperCase()}sc${cls.slice(4, 6).toUpperCase()}i${cls.slice(6, 8).toUpperCase()}`,
      ],
      attrs: () => {
        const t: KTable = {
          vendor: val(vendor),
          device: val(device),
          class: val(cls),
          subsystem_vendor: val(vendor === '0x1af4' ? '0x1af4' : '0x1af4'),
          subsystem_device: val(subdev),
          revision: val('0x00'),
          enable: val(driver ? 1 : 0),
          irq: val(slot.endsWith('03.0') ? 11 : slot.endsWith('04.0') ? 10 : 0),
          numa_node: val(-1),
          local_cpulist: val(k.config.cpus === 1 ? '0' : `0-${k.config.cpus - 1}`),
          subsystem: link(rel(`devices/${path}`, 'bus/pci')),
        };
        if (driver) t.driver = link(rel(`devices/${path}`, `bus/pci/drivers/${driver}`));
        return t;
      },
    });
  }
  out.push({
    path: 'pci0000:00/0000:00:03.0/virtio0',
    name: 'virtio0',
    uevent: () => ['DRIVER=virtio_blk', 'MODALIAS=virtio:d00000002v00001AF4'],
    attrs: () => virtioAttrs('0x0002', 'virtio_blk', 'pci0000:00/0000:00:03.0/virtio0'),
  });
  out.push({
    path: 'pci0000:00/0000:00:04.0/virtio1',
    name: 'virtio1',
    uevent: () => ['DRIVER=virtio_net', 'MODALIAS=virtio:d00000001v00001AF4'],
    attrs: () => virtioAttrs('0x0001', 'virtio_net', 'pci0000:00/0000:00:04.0/virtio1'),
  });
  out.push({ path: 'platform/i8042', name: 'i8042', uevent: () => ['DRIVER=i8042', 'MODALIAS=platform:i8042'] });
  out.push({
    path: 'platform/i8042/serio0',
    name: 'serio0',
    uevent: () => ['DRIVER=atkbd', 'SERIO_TYPE=06', 'SERIO_PROTO=00', 'SERIO_ID=00', 'SERIO_EXTRA=00', 'MODALIAS=serio:ty06pr00id00ex00'],
  });
  out.push({ path: 'platform/serial8250', name: 'serial8250', uevent: () => ['DRIVER=serial8250', 'MODALIAS=platform:serial8250'] });
  out.push({ path: 'pnp0/00:04', name: '00:04', uevent: () => [], attrs: () => ({ id: val('PNP0501') }) });
  out.push({ path: 'pnp0/00:05', name: '00:05', uevent: () => [], attrs: () => ({ id: val('PNP0b00') }) });
  for (let i = 0; i < k.config.cpus; i++) {
    const id = i.toString(16).padStart(2, '0');
    out.push({
      path: `LNXSYSTM:00/LNXCPU:${id}`,
      name: `LNXCPU:${id}`,
      uevent: () => ['MODALIAS=acpi:LNXCPU:'],
      attrs: () => ({ hid: val('LNXCPU'), path: val(`\\_PR_.CPU${i}`), modalias: val('acpi:LNXCPU:') }),
    });
  }
  const cpus = k.config.cpus === 1 ? '0' : `0-${k.config.cpus - 1}`;
  out.push({
    path: 'system/node/node0',
    name: 'node0',
    attrs: () => ({
      cpulist: val(cpus),
      cpumap: val(((1n << BigInt(k.config.cpus)) - 1n).toString(16)),
      distance: val(10),
      has_cpu: val(''),
    }),
  });
  out.push({
    path: 'system/clocksource/clocksource0',
    name: 'clocksource0',
    attrs: () => ({
      available_clocksource: val('hpet acpi_pm '),
      current_clocksource: attr(() => `${k.devices.attr('clocksource') ?? 'hpet'}\n`, {
        write: (d) => {
          const v = d.trim();
          if (!['hpet', 'acpi_pm', 'tsc', 'jiffies', 'refined-jiffies'].includes(v)) throw new KernelError('EINVAL');
          k.devices.setAttr('clocksource', v === 'tsc' ? 'hpet' : v);
        },
      }),
      unbind_clocksource: wattr(() => undefined),
    }),
  });
  return out;
}

function virtioAttrs(device: string, driver: string, path: string): KTable {
  return {
    device: val(device),
    vendor: val('0x1af4'),
    status: val('0x0000000f'),
    features: val('0110010000000000000000000000110100000000000000000000000000000000'),
    driver: link(rel(`devices/${path}`, `bus/virtio/drivers/${driver}`)),
    subsystem: link(rel(`devices/${path}`, 'bus/virtio')),
  };
}

/** Directories under /sys/devices that group devices without being one. */
const GROUPING = new Set([
  'virtual',
  'system',
  'block',
  'net',
  'tty',
  'rtc',
  'mem',
  'misc',
  'vc',
  'input',
  'bdi',
  'graphics',
  'vtconsole',
  'thermal',
  'dmi',
  'pci_bus',
  'nvme',
  'node',
  'clocksource',
]);

function allEntries(k: Kernel): DevEntry[] {
  return [...deviceEntries(k), ...busEntries(k)];
}

/** The /sys/devices directory at `prefix` ("" = /sys/devices itself). */
function devicesAt(k: Kernel, prefix: string, entries?: DevEntry[]): KTable {
  const list = entries ?? allEntries(k);
  const kids = new Set<string>();
  const pre = prefix ? prefix + '/' : '';
  for (const e of list) {
    if (!e.path.startsWith(pre)) continue;
    kids.add(e.path.slice(pre.length).split('/')[0]);
  }
  if (prefix === 'system') kids.add('cpu');
  const t: KTable = {};
  for (const name of kids) {
    const path = pre + name;
    if (path === 'system/cpu') {
      t.cpu = () => cpuSysDir(k);
      continue;
    }
    t[name] = () => {
      const all = allEntries(k);
      const e = all.find((x) => x.path === path);
      if (e) return deviceDir(e, () => devicesAt(k, path, all));
      const grouping = GROUPING.has(name) || prefix === '';
      return kdir(() => {
        const c = devicesAt(k, path);
        if (!grouping && !prefix.startsWith('virtual')) {
          c.uevent = uevent(() => []);
          c.power = () => powerDir();
        }
        return c;
      });
    };
  }
  return t;
}

/** /sys/class/<class>: links to the class's devices. */
function classDir(k: Kernel): DirNode {
  const classes = (sysfsData as { classes: string[] }).classes.filter((c) => !c.startsWith('nvme') || k.modules?.isLoaded('nvme'));
  return kdir(() => {
    const entries = deviceEntries(k);
    const t: KTable = {};
    for (const c of classes) {
      t[c] = () =>
        kdir(() => {
          const m: KTable = {};
          for (const e of entries) if (e.cls === c) m[e.name] = link(rel(`class/${c}`, `devices/${e.path}`));
          if (c === 'gpio') {
            m.export = wattr(() => {
              throw new KernelError('EINVAL');
            });
            m.unexport = wattr(() => {
              throw new KernelError('EINVAL');
            });
          }
          if (c === 'devcoredump')
            m.disabled = attr(() => `${k.devices.attr('class/devcoredump/disabled') ?? 0}\n`, {
              write: (d) => k.devices.setAttr('class/devcoredump/disabled', d.trim() === '1' ? '1' : '0'),
            });
          if (c === 'firmware')
            m.timeout = attr(() => `${k.devices.attr('class/firmware/timeout') ?? 60}\n`, {
              write: (d) => k.devices.setAttr('class/firmware/timeout', String(Math.max(0, parseInt(d, 10) || 0))),
            });
          return m;
        });
    }
    return t;
  });
}

function blockDir(k: Kernel): DirNode {
  return kdir(() => Object.fromEntries(k.devices.disks().map((d) => [d.name, link(rel('block', `devices/${d.devpath}`))])));
}

function devDir(k: Kernel): DirNode {
  const sub = (kind: 'char' | 'block'): DirNode =>
    kdir(() => {
      const t: KTable = {};
      for (const e of deviceEntries(k))
        if (e.devt?.kind === kind) t[`${e.devt.major}:${e.devt.minor}`] = link(rel(`dev/${kind}`, `devices/${e.path}`));
      return t;
    });
  return kdir({ block: () => sub('block'), char: () => sub('char') });
}

function busDir(k: Kernel): DirNode {
  const bus = (devs: () => [string, string][], drivers: string[]): DirNode =>
    kdir({
      devices: () => kdir(() => Object.fromEntries(devs().map(([n, p]) => [n, link(rel('bus/x/devices', `devices/${p}`))]))),
      drivers: kdir(
        Object.fromEntries(
          drivers.map((d) => [d, kdir({ bind: wattr(() => undefined), unbind: wattr(() => undefined), uevent: wattr(() => undefined) })]),
        ),
      ),
      drivers_autoprobe: val(1),
      drivers_probe: wattr(() => undefined),
      uevent: wattr(() => undefined),
    });
  return kdir({
    cpu: () => bus(() => Array.from({ length: k.config.cpus }, (_, i) => [`cpu${i}`, `system/cpu/cpu${i}`]), ['processor']),
    pci: () =>
      bus(
        () => pciFunctions(k).map(([s]) => [s, `pci0000:00/${s}`]),
        ['ata_piix', 'piix4_smbus', 'virtio-pci', ...(k.modules?.isLoaded('nvme') ? ['nvme'] : [])],
      ),
    virtio: () =>
      bus(
        () => [
          ['virtio0', 'pci0000:00/0000:00:03.0/virtio0'],
          ['virtio1', 'pci0000:00/0000:00:04.0/virtio1'],
        ],
        ['virtio_blk', 'virtio_net'],
      ),
    platform: () =>
      bus(
        () => [
          ['i8042', 'platform/i8042'],
          ['serial8250', 'platform/serial8250'],
        ],
        ['i8042', 'serial8250'],
      ),
    serio: () => bus(() => [['serio0', 'platform/i8042/serio0']], ['atkbd']),
    pnp: () =>
      bus(
        () => [
          ['00:04', 'pnp0/00:04'],
          ['00:05', 'pnp0/00:05'],
        ],
        ['serial', 'rtc_cmos'],
      ),
    node: () => bus(() => [['node0', 'system/node/node0']], []),
    clocksource: () => bus(() => [['clocksource0', 'system/clocksource/clocksource0']], []),
  });
}

function firmwareDir(k: Kernel): DirNode {
  return kdir({
    acpi: kdir({ tables: kdir({}, 0o700), interrupts: kdir({}) }),
    dmi: kdir({ entries: kdir({}), tables: kdir({}, 0o700) }),
    memmap: () =>
      kdir(() => {
        const l = memoryLayout(k.config.memoryMb, k.config.cpus);
        const t: KTable = {};
        l.e820.forEach((e, i) => {
          t[String(i)] = kdir({
            start: val(`0x${e.start.toString(16)}`),
            end: val(`0x${(e.end - 1).toString(16)}`),
            type: val(e.type === 'usable' ? 'System RAM' : 'Reserved'),
          });
        });
        return t;
      }),
  });
}

function fsDir(k: Kernel): DirNode {
  return kdir(() => {
    const t: KTable = {
      bpf: kdir({}),
      cgroup: kdir({}),
      pstore: kdir({}),
    };
    if (k.modules?.isLoaded('ext4')) t.ext4 = kdir({ features: kdir({}) });
    if (k.modules?.isLoaded('btrfs')) t.btrfs = kdir({ features: kdir({}) });
    if (k.modules?.isLoaded('fuse')) t.fuse = kdir({ connections: kdir({}) });
    return t;
  });
}

function powerRoot(k: Kernel): DirNode {
  const rw = (name: string, dflt: string, opts?: string[]) =>
    attr(() => `${k.devices.attr(`power/${name}`) ?? dflt}\n`, {
      write: (d) => {
        const v = d.trim();
        if (opts && !opts.includes(v)) throw new KernelError('EINVAL');
        k.devices.setAttr(`power/${name}`, v);
      },
    });
  return kdir({
    state: attr(() => 'freeze mem disk\n', {
      write: () => {
        throw new KernelError('EBUSY');
      },
    }),
    disk: val('[platform] shutdown reboot suspend test_resume '),
    mem_sleep: val('s2idle [deep]'),
    pm_async: rw('pm_async', '1', ['0', '1']),
    pm_freeze_timeout: rw('pm_freeze_timeout', '20000'),
    wakeup_count: val(0),
    image_size: rw('image_size', String(Math.floor((k.config.memoryMb * 1024 * 1024 * 2) / 5))),
    resume: val('0:0'),
    resume_offset: val(0),
    reserved_size: val(1048576),
    sync_on_suspend: rw('sync_on_suspend', '1', ['0', '1']),
  });
}

/** sysfs of a machine; also registers the cgroup2 filesystem (mounted on /sys/fs/cgroup). */
export function buildSysfs(k: Kernel): DirNode {
  k.registerPseudoFs('cgroup2', cgroup2Root(k));
  const root = kdir({
    block: () => blockDir(k),
    bus: () => busDir(k),
    class: () => classDir(k),
    dev: () => devDir(k),
    devices: () => kdir(() => devicesAt(k, '')),
    firmware: () => firmwareDir(k),
    fs: () => fsDir(k),
    hypervisor: kdir({}),
    kernel: () => kernelDir(k, {}),
    module: () => moduleDir(k),
    power: () => powerRoot(k),
  });
  return withLabSysFiles(k, root);
}
