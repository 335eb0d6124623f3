/**
 * /sys/module: one directory per built-in module that has parameters or a
 * version (param_sysfs_builtin), merged with the loaded modules' directories
 * the module subsystem renders (moduleSysfsEntries).
 */
import { KernelError } from '../../errors';
import type { Kernel } from '../../kernel';
import { paramDefault } from '../../modules/effects';
import { moduleSysfsEntries } from '../../modules/views';
import type { DirNode, DirTable, FsCtx } from '../vnode';
import builtins from '../../data/modules-builtin.json';
import { type KTable, attr, kdir, wattr } from './kernfs';

interface BuiltinModule {
  name: string;
  params: [string, string][];
  version?: string;
}

/** Parameter values of built-in modules where the kernel's default is not the type's zero. */
const BUILTIN_PARAMS: Record<string, string> = {
  'printk.time': 'Y',
  'printk.console_suspend': 'Y',
  'printk.always_kmsg_dump': 'N',
  'printk.ignore_loglevel': 'N',
  'printk.console_no_auto_verbose': 'N',
  'sysrq.sysrq_downtime_ms': '0',
  'kernel.panic': '-1',
  'kernel.panic_on_warn': '0',
  'kernel.pause_on_oops': '0',
  'vt.default_utf8': '1',
  'vt.global_cursor_default': '-1',
  'vt.cur_default': '2',
  'vt.italic': '2',
  'vt.underline': '3',
  'vt.color': '7',
  'workqueue.power_efficient': 'N',
  'workqueue.disable_numa': 'N',
  'rcupdate.rcu_expedited': '0',
  'rcupdate.rcu_normal': '0',
  'block.events_dfl_poll_msecs': '0',
  'random.ratelimit_disable': '0',
  'tcp_cubic.beta': '717',
  'tcp_cubic.fast_convergence': '1',
  'tcp_cubic.hystart': '1',
  'tcp_cubic.hystart_detect': '3',
  'tcp_cubic.hystart_low_window': '16',
  'tcp_cubic.hystart_ack_delta_us': '2000',
  'tcp_cubic.initial_ssthresh': '0',
  'tcp_cubic.bic_scale': '41',
  'tcp_cubic.tcp_friendliness': '1',
  '8250.nr_uarts': '4',
  '8250.skip_txen_test': '0',
  '8250.share_irqs': '0',
  'keyboard.brl_timeout': '300',
  'keyboard.brl_nbchords': '1',
};

/**
 * module_param() permissions of built-in parameters that are not 0644 (the
 * common S_IRUGO | S_IWUSR): read-only ones reject writes with EACCES, like
 * kernfs does for an attribute without a store method.
 */
const BUILTIN_PERMS: Record<string, number> = {
  '8250.probe_rsa': 0o444,
  'workqueue.power_efficient': 0o444,
  'workqueue.disable_numa': 0o444,
  'ipv6.disable': 0o444,
  'ipv6.disable_ipv6': 0o444,
  'ipv6.autoconf': 0o444,
  'cpuidle.off': 0o444,
  'cpuidle.governor': 0o444,
  'cpufreq.off': 0o444,
  'cpufreq.default_governor': 0o444,
  'apparmor.enabled': 0o444,
  'apparmor.paranoid_load': 0o444,
  'apparmor.debug': 0o600,
  'apparmor.audit_header': 0o600,
  'apparmor.lock_policy': 0o600,
  'apparmor.logsyscall': 0o600,
  'apparmor.path_max': 0o600,
  'apparmor.hash_policy': 0o600,
  'apparmor.export_binary': 0o600,
  'apparmor.rawdata_compression_level': 0o600,
  'intel_idle.max_cstate': 0o444,
  'intel_idle.no_acpi': 0o444,
  'intel_idle.use_acpi': 0o444,
  'intel_idle.states_off': 0o444,
  'intel_idle.preferred_cstates': 0o444,
  'secretmem.enable': 0o400,
  'memory_hotplug.memmap_on_memory': 0o444,
  'spurious.noirqdebug': 0o444,
  'srcutree.convert_to_big': 0o444,
  'srcutree.exp_holdoff': 0o444,
  'srcutree.counter_wrap_check': 0o444,
  'srcutree.big_cpu_lim': 0o444,
  'srcutree.small_contention_lim': 0o444,
  'processor.nocst': 0o444,
  'cryptomgr.panic_on_fail': 0o444,
};

function paramValue(k: Kernel, mod: string, name: string, type: string): string {
  const set = k.devices.attr(`module/${mod}/parameters/${name}`);
  if (set !== undefined) return set;
  if (mod === 'printk' && name === 'time') return 'Y';
  return BUILTIN_PARAMS[`${mod}.${name}`] ?? paramDefault(mod, name, type);
}

/** param_set_bool() and friends for a written parameter. */
function parseParam(type: string, data: string): string {
  const v = data.replace(/\n$/, '');
  if (type === 'bool' || type === 'invbool') {
    if (/^(y|Y|1)$/.test(v)) return 'Y';
    if (/^(n|N|0)$/.test(v)) return 'N';
    throw new KernelError('EINVAL');
  }
  if (/^(int|uint|long|ulong|short|ushort|byte|ullong|hexint)$/.test(type)) {
    if (!/^[+-]?(0x[0-9a-fA-F]+|\d+)$/.test(v)) throw new KernelError('EINVAL');
    if (type.startsWith('u') && v.startsWith('-')) throw new KernelError('EINVAL');
    return String(Number(v));
  }
  return v;
}

function builtinDir(k: Kernel, m: BuiltinModule): DirNode {
  const t: KTable = {
    uevent: wattr(() => undefined),
  };
  if (m.params.length) {
    const p: KTable = {};
    for (const [name, type] of m.params) {
      const mode = BUILTIN_PERMS[`${m.name}.${name}`] ?? 0o644;
      p[name] = attr(() => `${paramValue(k, m.name, name, type)}\n`, {
        mode,
        write: mode & 0o200 ? (data) => k.devices.setAttr(`module/${m.name}/parameters/${name}`, parseParam(type, data)) : undefined,
      });
    }
    t.parameters = kdir(p);
  }
  if (m.version) t.version = attr(() => `${m.version}\n`);
  return kdir(t);
}

/** /sys/module */
export function moduleDir(k: Kernel): DirNode {
  const list = builtins as BuiltinModule[];
  return kdir((ctx: FsCtx) => {
    const t: DirTable = {};
    for (const m of list) t[m.name] = () => builtinDir(k, m);
    // the module subsystem owns the directories of loaded modules
    if (k.modules) Object.assign(t, moduleSysfsEntries(k)(ctx));
    return t;
  });
}
