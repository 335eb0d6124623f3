import { KernelError } from './errors';
import type { Kernel } from './kernel';
import type { CmdOutcome, MachineQuery, ModprobeOutcome, ModuleDetail, ModuleView } from './machine';
import { lsmod, modinfo, modinfoBuiltinFields, modinfoFields, modprobe, rmmod } from './modules/kmod';
import { moduleAddr, type LoadedModule } from './modules/modules';

/**
 * The structured views and module operations of a sim machine, over the
 * kernel model (the same registry and state lsmod, /proc/modules and
 * /sys/module render from).
 */
export function moduleView(k: Kernel, m: LoadedModule): ModuleView {
  return {
    name: m.name,
    size: m.size,
    refcount: k.modules.refcount(m),
    holders: [...m.holders],
    state: m.state,
    address: `0x${moduleAddr(m.base)}`,
    taint: k.modules.taintString(m),
    lab: !!m.lab,
  };
}

export function queryMachine(k: Kernel, q: MachineQuery): unknown {
  switch (q.type) {
    case 'modules':
      if (q.lsmod) return lsmod(k).stdout;
      return k.modules.list().map((m) => moduleView(k, m));
    case 'module':
      return moduleDetail(k, q.name);
    default:
      throw new KernelError('EINVAL', `unknown query ${(q as { type: string }).type}`);
  }
}

export function moduleDetail(k: Kernel, name: string): ModuleDetail {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw new KernelError('EINVAL', 'a module name has letters, digits, - and _');
  const n = name.replace(/-/g, '_');
  const text = modinfo(k, [n]);
  if (text.exitCode !== 0) throw new KernelError('ENOENT', text.stderr.trim() || `Module ${name} not found.`);
  const loaded = k.modules.find(n);
  const info = k.modules.info(n);
  const builtin = !loaded && !info && k.modules.isBuiltin(n);
  const fields = builtin ? modinfoBuiltinFields(n) : info ? modinfoFields(info) : [];
  return {
    name: n,
    status: loaded ? 'loaded' : builtin ? 'builtin' : 'available',
    modinfo: fields,
    modinfoText: text.stdout,
    loaded: loaded ? moduleView(k, loaded) : undefined,
    parameters: loaded ? { ...loaded.params } : {},
  };
}

export function runModprobe(k: Kernel, name: string, params?: string): ModprobeOutcome {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_:.-]{1,64}$/.test(name)) throw new KernelError('EINVAL', 'name must be a module name or alias');
  const before = new Set(k.modules.list().map((m) => m.name));
  const argv = [name, ...(params ? splitParams(params) : [])];
  const r = modprobe(k, argv);
  const loaded = k.modules
    .list()
    .filter((m) => !before.has(m.name))
    .sort((a, b) => (a.serial ?? 0) - (b.serial ?? 0))
    .map((m) => m.name);
  return { ...r, loaded };
}

export function runRmmod(k: Kernel, name: string, force = false): CmdOutcome {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw new KernelError('EINVAL', 'name must be a module name');
  return rmmod(k, force ? ['-f', name] : [name]);
}

/** "a=1 b='x y'" -> ["a=1", "b=x y"] (modprobe's command-line options) */
function splitParams(s: string): string[] {
  if (s.length > 4096) throw new KernelError('EINVAL', 'params: at most 4096 characters');
  const out: string[] = [];
  const re = /([^\s"']+|"[^"]*"|'[^']*')+/g;
  for (const m of s.matchAll(re)) out.push(m[0].replace(/["']/g, ''));
  return out;
}
