/**
 * /sys/kernel: the top-level kernel attributes, mm/ (transparent hugepages,
 * hugetlb pools, ksm), slab/ (from the mm's caches), irq/ (from the
 * scheduler's interrupt lines), btf/, reboot/, cgroup/ and the mount points
 * of debugfs, tracefs and securityfs.
 */
import { KernelError } from '../../errors';
import type { Kernel } from '../../kernel';
import type { DirNode, FsCtx } from '../vnode';
import sysfsData from '../../data/sysfs.json';
import { type KTable, attr, kdir, kstrtoul, val, wattr } from './kernfs';

interface SysfsData {
  kernelTop: [string, string][];
  thp: [string, string][];
  slabAttrs: string[];
}
const DATA = sysfsData as unknown as SysfsData;

const THP_ENABLED = ['always', 'madvise', 'never'];
const THP_DEFRAG = ['always', 'defer', 'defer+madvise', 'madvise', 'never'];
const THP_SHMEM = ['always', 'within_size', 'advise', 'never', 'deny', 'force'];

/** hugepage_init(): THP stays off on machines with less than 512 MiB of RAM. */
export function thpAvailable(k: Kernel): boolean {
  return k.mm.totalPages >= 512 * 256;
}

function choice(opts: readonly string[], cur: string): string {
  return opts.map((o) => (o === cur ? `[${o}]` : o)).join(' ') + '\n';
}

/** sysfs_streq(): equal, ignoring one trailing newline. */
const streq = (data: string, s: string): boolean => data === s || data === `${s}\n`;

/** Current value of a transparent_hugepage knob. */
export function thpSetting(k: Kernel, name: 'enabled' | 'defrag' | 'shmem_enabled' | 'use_zero_page' | 'khugepaged/defrag'): string {
  const set = k.devices.attr(`kernel/mm/transparent_hugepage/${name}`);
  if (set !== undefined) return set;
  const on = thpAvailable(k);
  switch (name) {
    case 'enabled':
      return on ? 'always' : 'never';
    case 'defrag':
      return on ? 'madvise' : 'never';
    case 'shmem_enabled':
      return 'never';
    case 'use_zero_page':
    case 'khugepaged/defrag':
      return on ? '1' : '0';
  }
}

function thpDir(k: Kernel): DirNode {
  const dv = k.devices;
  const base = 'kernel/mm/transparent_hugepage/';
  const pick = (name: 'enabled' | 'defrag' | 'shmem_enabled', opts: readonly string[]) =>
    attr(() => choice(opts, thpSetting(k, name)), {
      write: (d) => {
        const o = opts.find((x) => streq(d, x));
        if (!o) throw new KernelError('EINVAL');
        dv.setAttr(base + name, o);
      },
    });
  const ref = Object.fromEntries(DATA.thp);
  const num = (name: string, check: (v: number) => boolean, ro = false) =>
    ro
      ? attr(() => `${dv.attr(base + name) ?? ref[name]}\n`)
      : attr(() => `${dv.attr(base + name) ?? ref[name]}\n`, {
          write: (d) => {
            const v = kstrtoul(d);
            if (!check(v)) throw new KernelError('EINVAL');
            dv.setAttr(base + name, String(v));
          },
        });
  const flag = (name: 'use_zero_page' | 'khugepaged/defrag') =>
    attr(() => `${thpSetting(k, name)}\n`, {
      write: (d) => {
        const v = kstrtoul(d);
        if (v > 1) throw new KernelError('EINVAL');
        dv.setAttr(base + name, String(v));
      },
    });
  return kdir({
    enabled: pick('enabled', THP_ENABLED),
    defrag: pick('defrag', THP_DEFRAG),
    shmem_enabled: pick('shmem_enabled', THP_SHMEM),
    use_zero_page: flag('use_zero_page'),
    hpage_pmd_size: val(2097152),
    khugepaged: kdir({
      defrag: flag('khugepaged/defrag'),
      alloc_sleep_millisecs: num('khugepaged/alloc_sleep_millisecs', (v) => v <= 0xffffffff),
      scan_sleep_millisecs: num('khugepaged/scan_sleep_millisecs', (v) => v <= 0xffffffff),
      pages_to_scan: num('khugepaged/pages_to_scan', (v) => v > 0 && v <= 0xffffffff),
      max_ptes_none: num('khugepaged/max_ptes_none', (v) => v <= 511),
      max_ptes_swap: num('khugepaged/max_ptes_swap', (v) => v <= 511),
      max_ptes_shared: num('khugepaged/max_ptes_shared', (v) => v <= 511),
      full_scans: num('khugepaged/full_scans', () => false, true),
      pages_collapsed: num('khugepaged/pages_collapsed', () => false, true),
    }),
  });
}

function hugepagesDir(k: Kernel): DirNode {
  const sys = (name: string) => attr(() => `${k.sysctl.value(`vm/${name}`)}\n`, { write: (d) => k.sysctl.write(`vm/${name}`, d) });
  const dv = k.devices;
  const g = 'kernel/mm/hugepages/hugepages-1048576kB/';
  const gig = (name: string) =>
    attr(() => `${dv.attr(g + name) ?? 0}\n`, {
      write: (d) => {
        const v = kstrtoul(d);
        // no 1 GiB pages can be allocated at runtime on a machine this size
        dv.setAttr(g + name, name === 'nr_hugepages' || name === 'nr_hugepages_mempolicy' ? '0' : String(v));
      },
    });
  return kdir({
    'hugepages-2048kB': kdir({
      nr_hugepages: sys('nr_hugepages'),
      nr_hugepages_mempolicy: sys('nr_hugepages_mempolicy'),
      nr_overcommit_hugepages: sys('nr_overcommit_hugepages'),
      free_hugepages: attr(() => `${k.sysctl.value('vm/nr_hugepages')}\n`),
      resv_hugepages: val(0),
      surplus_hugepages: val(0),
    }),
    'hugepages-1048576kB': kdir({
      nr_hugepages: gig('nr_hugepages'),
      nr_hugepages_mempolicy: gig('nr_hugepages_mempolicy'),
      nr_overcommit_hugepages: gig('nr_overcommit_hugepages'),
      free_hugepages: val(0),
      resv_hugepages: val(0),
      surplus_hugepages: val(0),
      demote_size: val('2048kB'),
      demote: wattr(() => {
        throw new KernelError('EINVAL');
      }),
    }),
  });
}

function rwNum(k: Kernel, path: string, dflt: string, check: (v: number) => boolean = () => true) {
  return attr(() => `${k.devices.attr(path) ?? dflt}\n`, {
    write: (d) => {
      const v = kstrtoul(d);
      if (!check(v)) throw new KernelError('EINVAL');
      k.devices.setAttr(path, String(v));
    },
  });
}

function ksmDir(k: Kernel): DirNode {
  const p = 'kernel/mm/ksm/';
  const ro = (v: number) => val(v);
  return kdir({
    run: rwNum(k, p + 'run', '0', (v) => v <= 2),
    pages_to_scan: rwNum(k, p + 'pages_to_scan', '100'),
    sleep_millisecs: rwNum(k, p + 'sleep_millisecs', '20'),
    merge_across_nodes: rwNum(k, p + 'merge_across_nodes', '1', (v) => v <= 1),
    use_zero_pages: rwNum(k, p + 'use_zero_pages', '0', (v) => v <= 1),
    max_page_sharing: rwNum(k, p + 'max_page_sharing', '256', (v) => v >= 2),
    stable_node_chains_prune_millisecs: rwNum(k, p + 'stable_node_chains_prune_millisecs', '2000'),
    full_scans: ro(0),
    pages_shared: ro(0),
    pages_sharing: ro(0),
    pages_unshared: ro(0),
    pages_volatile: ro(0),
    stable_node_chains: ro(0),
    stable_node_dups: ro(0),
  });
}

interface SlabApi {
  slabCaches?(): readonly { name: string; objsize: number; perslab: number; pagesperslab: number; reclaimable: boolean }[];
  slabRowOf?(c: { name: string }): { active: number; num: number; slabs: number };
}

function slabDir(k: Kernel): DirNode {
  const mm = k.mm as unknown as SlabApi;
  return kdir(() => {
    if (typeof mm.slabCaches !== 'function' || typeof mm.slabRowOf !== 'function') return {};
    const out: KTable = {};
    for (const c of mm.slabCaches()) {
      out[c.name] = () => {
        const row = () => mm.slabRowOf?.(c) ?? { active: 0, num: 0, slabs: 0 };
        const size = Math.ceil(c.objsize / 8) * 8;
        const values: Record<string, () => string> = {
          aliases: () => '0',
          align: () => '8',
          cache_dma: () => '0',
          cpu_partial: () => '0',
          cpu_slabs: () => `${Math.min(row().slabs, k.config.cpus)}`,
          ctor: () => '',
          destroy_by_rcu: () => '0',
          hwcache_align: () => '0',
          min_partial: () => '5',
          object_size: () => `${c.objsize}`,
          objects: () => `${row().active}`,
          objects_partial: () => '0',
          objs_per_slab: () => `${c.perslab}`,
          order: () => `${Math.round(Math.log2(c.pagesperslab))}`,
          partial: () => '0',
          poison: () => '0',
          reclaim_account: () => (c.reclaimable ? '1' : '0'),
          red_zone: () => '0',
          remote_node_defrag_ratio: () => '100',
          sanity_checks: () => '0',
          shrink: () => '',
          slab_size: () => `${size}`,
          slabs: () => `${row().slabs}`,
          slabs_cpu_partial: () => '0(0)',
          store_user: () => '0',
          total_objects: () => `${row().num}`,
          trace: () => '0',
          usersize: () => '0',
          validate: () => '',
        };
        const t: KTable = {};
        for (const a of DATA.slabAttrs) {
          const f = values[a] ?? (() => '0');
          t[a] = a === 'shrink' || a === 'validate' ? wattr(() => undefined, 0o200) : attr(() => `${f()}\n`);
        }
        return kdir(t);
      };
    }
    return out;
  });
}

interface IrqApi {
  irqLines?(): readonly { irq: number; chip: string; hwirq: string; trigger: string; name: string; counts: number[] }[];
}

function irqDir(k: Kernel): DirNode {
  const s = k.sched as unknown as IrqApi;
  return kdir(() => {
    if (typeof s.irqLines !== 'function') return {};
    const out: KTable = {};
    for (const l of s.irqLines()) {
      out[String(l.irq)] = () =>
        kdir({
          actions: val(l.name),
          chip_name: val(l.chip),
          hwirq: val(l.hwirq),
          name: val(l.trigger.toLowerCase() === 'edge' ? 'edge' : 'fasteoi'),
          per_cpu_count: attr(() => `${(s.irqLines?.().find((x) => x.irq === l.irq)?.counts ?? l.counts).join(',')}\n`),
          type: val(l.trigger.toLowerCase() === 'edge' ? 'edge' : 'level'),
          wakeup: val('disabled'),
        });
    }
    return out;
  });
}

/** The vmlinux build notes: Xen ELF notes and the GNU build id, as binary. */
function notes(): string {
  const note = (name: string, type: number, desc: string): string => {
    const le = (n: number): string => String.fromCharCode(n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255);
    const pad = (s: string): string => s + '\0'.repeat((4 - (s.length % 4)) % 4);
    return le(name.length + 1) + le(desc.length) + le(type) + pad(name + '\0') + pad(desc);
  };
  const buildId =
    '\u00b5\u0072\u0013\u00e6\u0044\u009f\u00d0\u0029\u0077\u00a1\u0038\u0012\u00ce\u0005\u0042\u006b\u00f1\u0039\u0020\u00dd';
  return (
    note('Xen', 6, 'linux\0') +
    note('Xen', 7, '2.6\0') +
    note('Xen', 5, 'xen-3.0\0') +
    note('GNU', 3, buildId) +
    note('Linux', 0x100, '6.1.0-56-amd64\0')
  );
}

/** /sys/kernel */
export function kernelDir(k: Kernel, extra: KTable): DirNode {
  const top = Object.fromEntries(DATA.kernelTop) as Record<string, string>;
  const dv = k.devices;
  return kdir(() => {
    const loaded = [...(k.modules?.list() ?? [])].map((m) => m.name);
    const t: KTable = {
      fscaps: val(top.fscaps ?? '1'),
      kexec_crash_loaded: val(0),
      kexec_crash_size: attr(() => '0\n', { write: (d) => void kstrtoul(d) }),
      kexec_loaded: val(0),
      notes: { ...attr(() => notes(), { mode: 0o444 }), size: () => 0 },
      oops_count: attr(() => `${dv.attr('kernel/oops_count') ?? 0}\n`),
      profiling: attr(() => `${dv.attr('kernel/profiling') ?? 0}\n`, {
        write: (d) => {
          const v = kstrtoul(d);
          dv.setAttr('kernel/profiling', String(v));
        },
      }),
      rcu_expedited: rwNum(k, 'kernel/rcu_expedited', '0', (v) => v <= 0xffffffff),
      rcu_normal: rwNum(k, 'kernel/rcu_normal', '0', (v) => v <= 0xffffffff),
      uevent_seqnum: attr(() => `${ueventSeqnum(k)}\n`),
      vmcoreinfo: attr(() => `${(dv.boot.physBase + 0x3578000).toString(16).padStart(16, '0').replace(/^/, '0x')} 1024\n`, { mode: 0o400 }),
      warn_count: attr(() => `${dv.attr('kernel/warn_count') ?? 0}\n`),
      mm: kdir({
        transparent_hugepage: () => thpDir(k),
        hugepages: () => hugepagesDir(k),
        ksm: () => ksmDir(k),
        swap: kdir({
          vma_ra_enabled: attr(() => `${dv.attr('kernel/mm/swap/vma_ra_enabled') ?? 'true'}\n`, {
            write: (d) => dv.setAttr('kernel/mm/swap/vma_ra_enabled', /^(y|1|t|on)/i.test(d.trim()) ? 'true' : 'false'),
          }),
        }),
        numa: kdir({ demotion_enabled: rwNum(k, 'kernel/mm/numa/demotion_enabled', 'false') }),
        lru_gen: kdir({
          enabled: attr(() => `${dv.attr('kernel/mm/lru_gen/enabled') ?? '0x0000'}\n`, {
            write: (d) => dv.setAttr('kernel/mm/lru_gen/enabled', `0x${kstrtoul(d.replace(/^0x/, ''), 16).toString(16).padStart(4, '0')}`),
          }),
          min_ttl_ms: rwNum(k, 'kernel/mm/lru_gen/min_ttl_ms', '0'),
        }),
      }),
      slab: () => slabDir(k),
      irq: () => irqDir(k),
      btf: kdir(() => Object.fromEntries(['vmlinux', ...loaded].map((m) => [m, { ...attr(() => 'BTF', { mode: 0o444 }), size: () => 0 }]))),
      reboot: kdir({
        mode: attr(() => `${dv.attr('kernel/reboot/mode') ?? 'cold'}\n`, {
          write: (d) => setChoice(k, 'kernel/reboot/mode', d, ['cold', 'warm', 'hard', 'soft', 'gpio']),
        }),
        type: attr(() => `${dv.attr('kernel/reboot/type') ?? 'acpi'}\n`, {
          write: (d) => setChoice(k, 'kernel/reboot/type', d, ['bios', 'acpi', 'kbd', 'triple', 'efi', 'pci']),
        }),
        cpu: rwNum(k, 'kernel/reboot/cpu', '0', (v) => v < k.config.cpus),
        force: rwNum(k, 'kernel/reboot/force', '0', (v) => v <= 1),
      }),
      cgroup: kdir({
        delegate: val('cgroup.procs\ncgroup.threads\ncgroup.subtree_control\nmemory.oom.group'),
        features: val('nsdelegate\nmemory_localevents\nmemory_recursiveprot'),
      }),
      boot_params: kdir({ version: val('0x020f'), data: { ...attr(() => '\0'.repeat(4096), { mode: 0o400 }), size: () => 4096 } }),
      livepatch: kdir({}),
      iommu_groups: kdir({}),
      software_nodes: kdir({}),
      security: kdir({}),
      tracing: kdir({}, 0o700),
      debug: kdir({}, 0o700),
      ...extra,
    };
    return t;
  });
}

function setChoice(k: Kernel, path: string, d: string, opts: string[]): void {
  const v = d.trim();
  if (!opts.includes(v)) throw new KernelError('EINVAL');
  k.devices.setAttr(path, v);
}

/** Uevents sent since boot: the reference boot's count plus one per device a loaded module added. */
function ueventSeqnum(k: Kernel): number {
  let n = 700;
  for (const m of k.modules?.list() ?? []) n += 2 + (m.name === 'loop' ? 24 : m.name === 'dummy' ? 6 : m.name === 'nvme' ? 8 : 0);
  return n;
}

export type { FsCtx };
