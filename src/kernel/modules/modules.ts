/**
 * The kernel's module loader state (kernel/module/main.c): the loaded modules
 * with their refcounts, holders, taints, init state, core size, load address
 * and parameters. Operations mirror the syscalls: load() = init_module,
 * unload() = delete_module. The kmod tools (kmod.ts) sit on top.
 *
 * Hook points for other subsystems (not serialised: register them at
 * construction time, they run on every load/unload including replays):
 *   k.modules.onLoad(fn)   fn(mod) after a module went live (e.g. loop creating /dev/loop*)
 *   k.modules.onUnload(fn) fn(mod) after a module was removed
 *   k.modules.get(name) / k.modules.put(name): try_module_get/module_put, for users
 *     such as a mounted filesystem or an open device (rmmod then says "is in use").
 * Memory accounting: if the mm provides `vmallocAdd(caller, bytes) => id` /
 * `vmallocRemove(id)` they account each module's core allocation (guarded,
 * optional; an ENOMEM from the mm fails the load like module_alloc would).
 */
import { KernelError, isKernelError } from '../errors';
import type { FaultSite, FaultTrigger, LabBehaviour } from '../faults/contract';
import type { Kernel } from '../kernel';
import type { Timer } from '../util/timers';
import { MODULE_EFFECTS, paramDefault } from './effects';
import { probeList } from './kmod';
import { GPL_COMPATIBLE, LAB_INIT_SIZE, type LabFile, type LabManifest, labModuleInfo, parseParamValue, validateLabManifest } from './lab';
import { type ModuleInfo, registry } from './registry';
import { TAINT, taintLetters } from './taint';

export type InitState = 'live' | 'coming' | 'going';

export interface LoadedModuleState {
  name: string;
  /** core size in bytes (what lsmod prints) */
  size: number;
  /** load address as an offset from MODULES_VADDR (0xffffffffc0000000) */
  base: number;
  /** references that are not holders (mounts, open files, crypto transforms) */
  refs: number;
  /** modules using this one, most recent first (source_list order) */
  holders: string[];
  /** modules this one uses (target_list) */
  uses: string[];
  /** module taint bits */
  taints: number;
  state: InitState;
  /** parameter values as /sys/module/<m>/parameters shows them */
  params: Record<string, string>;
  /** crypto transform provider this module holds a reference on */
  tfm?: string;
  /** id of the mm's vmalloc area for the module core, when the mm accounts it */
  vmId?: number;
  /** init sections still allocated (module_init has not returned) */
  initSize?: number;
  /** load serial (timers of lab modules refer to it) */
  serial?: number;
  /** a tenant's lab module (registerLab) */
  lab?: boolean;
}

/** Runtime data of lab modules, kept in the snapshot. */
export interface LabRuntimeState {
  /** counters of the loaded lab modules' files: module -> counter -> value (reset at load) */
  counters: Record<string, Record<string, number>>;
  /** text written to writable content files: module -> path -> text */
  text: Record<string, Record<string, string>>;
  /** pages a module's leak behaviour allocated: never freed, not even by rmmod (a real leak) */
  leaked: Record<string, number>;
}

export interface ModulesState {
  /** newest first, like the kernel's modules list */
  loaded: LoadedModuleState[];
  /** module_load_offset (pages, KASLR); 0 = not chosen yet */
  loadOffsetPages: number;
  /** kernel-wide taint bits set by the module loader */
  taintMask: number;
  /** registered lab modules (tenant manifests), registration order */
  labs?: LabManifest[];
  lab?: LabRuntimeState;
  /** last load serial handed out */
  serial?: number;
  /** pr_notice_once() of the unsigned-module message already printed */
  sigNoticed?: boolean;
  /** __debug_locks_off() already happened (a taint that makes lockdep unreliable) */
  debugLocksOff?: boolean;
  /** the last module unloaded ("[last unloaded: x]" of oops reports), with its taint letters */
  lastUnloaded?: string;
  /** module references mounted filesystems hold (mountFs/umountFs) */
  mounts?: { path: string; mods: string[] }[];
}

/** A file a loaded lab module provides. */
export interface LabFileRef {
  module: string;
  file: LabFile;
}

/** filesystems of the kernel image itself: no module to pin */
const PSEUDO_FS = new Set([
  'rootfs',
  'proc',
  'sysfs',
  'tmpfs',
  'devtmpfs',
  'cgroup2',
  'debugfs',
  'tracefs',
  'devpts',
  'mqueue',
  'securityfs',
  'pstore',
  'bpf',
  'hugetlbfs',
]);

const LEAK_TIMER = 'modules.leak';
const LAB_TIMER = 'modules.lab';
/** kmalloc cache a leak's pages come from (one 4 KiB object per page) */
const LEAK_CACHE = 'kmalloc-4k';

export type LoadedModule = Readonly<LoadedModuleState>;
export type ModuleHook = (mod: LoadedModule, k: Kernel) => void;

export const MODULES_VADDR_HEX = 'ffffffffc0000000';
const PAGE = 4096;

/** "ffffffffc02e8000" of a module offset. */
export function moduleAddr(offset: number): string {
  return 'ffffffff' + (0xc0000000 + offset).toString(16);
}

interface VmallocApi {
  vmallocAdd?: (caller: string, bytes: number) => number;
  vmallocRemove?: (id: number) => void;
}

/** the caller vmallocinfo shows for module memory on the reference kernel */
const MODULE_ALLOC_CALLER = 'load_module+0xbb7/0x21a0';

export class Modules {
  private s: ModulesState = { loaded: [], loadOffsetPages: 0, taintMask: 0 };
  private readonly loadHooks = new Set<ModuleHook>();
  private readonly unloadHooks = new Set<ModuleHook>();
  /** bumped on every change; renders are memoised on it */
  private version = 0;
  private memoVersion = -1;
  private readonly memoText = new Map<string, string>();
  private readonly prefixes = new Map<string, string>();
  /** ModuleInfo of the registered labs, rebuilt when they change */
  private labInfos?: Map<string, ModuleInfo>;
  private labFileMemo?: { version: number; files: Map<string, LabFileRef>; dirs: Map<string, Set<string>> };

  constructor(private readonly k: Kernel) {
    k.onTimer(LEAK_TIMER, (_k, t) => this.onLeakTimer(t));
    k.onTimer(LAB_TIMER, (_k, t) => this.onLabTimer(t));
  }

  /** Loaded modules, newest first (/proc/modules order). */
  list(): readonly LoadedModule[] {
    return this.s.loaded;
  }

  find(name: string): LoadedModule | undefined {
    return this.s.loaded.find((m) => m.name === name);
  }

  isLoaded(name: string): boolean {
    return this.find(name) !== undefined;
  }

  isBuiltin(name: string): boolean {
    return registry().builtins.has(name);
  }

  refcount(m: LoadedModule): number {
    return m.holders.length + m.refs;
  }

  /** A render of the module state, memoised until the next change (lsmod, /proc/modules). */
  memo(key: string, render: () => string): string {
    if (this.memoVersion !== this.version) {
      this.memoText.clear();
      this.memoVersion = this.version;
    }
    let text = this.memoText.get(key);
    if (text === undefined) {
      text = render();
      this.memoText.set(key, text);
    }
    return text;
  }

  /** "%-19s %8lu  " of lsmod, cached per module (its name and size never change). */
  linePrefix(m: LoadedModule): string {
    let p = this.prefixes.get(m.name);
    if (p === undefined) {
      p = `${m.name.padEnd(19)} ${String(m.size).padStart(8)}  `;
      this.prefixes.set(m.name, p);
    }
    return p;
  }

  /** Kernel taint bits set by module operations (forced load/unload, staging, out-of-tree, ...). */
  get taintMask(): number {
    return this.s.taintMask;
  }

  /** "[last unloaded: x(OE)]" of oops reports: the last module removed, with its taint letters. */
  get lastUnloaded(): string | undefined {
    return this.s.lastUnloaded;
  }

  onLoad(fn: ModuleHook): () => void {
    this.loadHooks.add(fn);
    return () => this.loadHooks.delete(fn);
  }

  onUnload(fn: ModuleHook): () => void {
    this.unloadHooks.add(fn);
    return () => this.unloadHooks.delete(fn);
  }

  /** try_module_get(): false when the module is not live. */
  get(name: string): boolean {
    const m = this.mut(name);
    if (!m || m.state !== 'live') return false;
    this.version++;
    m.refs++;
    return true;
  }

  /** module_put() */
  put(name: string): void {
    const m = this.mut(name);
    if (m && m.refs > 0) {
      this.version++;
      m.refs--;
    }
  }

  /** A module of the tree or a registered lab module. */
  info(name: string): ModuleInfo | undefined {
    return registry().byName.get(name) ?? this.labInfo(name);
  }

  /**
   * init_module(): loads one module (of the tree or a registered lab) whose
   * dependencies are loaded. Throws EEXIST (already loaded), ENOENT (unknown
   * symbols: missing dependencies, reported in dmesg like the kernel does),
   * EINVAL (a parameter value its type rejects). A lab module's init behaviour
   * may kill the caller (TaskDeath from k.faults): the module then stays
   * "Loading" with a reference held, as the kernel leaves it.
   */
  load(name: string, args: readonly string[] = [], opts: { force?: boolean; pid?: number } = {}): LoadedModule {
    const info = this.info(name);
    if (!info) throw new KernelError('ENOENT', `module ${name} not in the tree`);
    if (this.isLoaded(name)) throw new KernelError('EEXIST');
    const lab = this.labManifest(name);
    let taints = 0;
    if (opts.force) taints |= 1 << TAINT.FORCED_MODULE;
    if (lab) taints |= this.labLoadTaints(lab);
    if (info.relPath.startsWith('kernel/drivers/staging/')) {
      taints |= 1 << TAINT.CRAP;
      this.k.printk.log(4, `${name}: module is from the staging directory, the quality is unknown, you have been warned.`);
    }
    this.s.taintMask |= taints;
    const missing = info.depends.filter((d) => !this.isLoaded(d));
    if (missing.length) {
      for (const d of missing) {
        for (const sym of this.usedSymbols(info, d)) this.k.printk.log(4, `${name}: Unknown symbol ${sym} (err -2)`);
      }
      throw new KernelError('ENOENT', 'Unknown symbol in module');
    }
    const params = this.parseArgs(info, lab, args);
    if (lab) this.labFileClash(lab);
    const vm = this.vmalloc();
    const vmId = typeof vm?.vmallocAdd === 'function' ? vm.vmallocAdd(MODULE_ALLOC_CALLER, info.coreSize) : undefined;
    this.s.serial = (this.s.serial ?? 0) + 1;
    const m: LoadedModuleState = {
      name,
      size: info.coreSize,
      base: this.alloc(info.coreSize),
      refs: 0,
      holders: [],
      uses: [...info.depends],
      taints,
      state: 'coming',
      params,
      serial: this.s.serial,
    };
    if (typeof vmId === 'number') m.vmId = vmId;
    if (lab) {
      m.lab = true;
      m.initSize = LAB_INIT_SIZE;
    }
    this.version++;
    this.s.loaded.unshift(m);
    for (const d of m.uses) this.mut(d)?.holders.unshift(name);
    const fx = MODULE_EFFECTS[name];
    const ctx = { k: this.k, name, loaded: (n: string) => this.isLoaded(n) };
    for (const [lvl, text] of fx?.init?.(ctx) ?? []) this.k.printk.log(lvl, text);
    if (fx?.tfm) {
      if (fx.tfmRequest && !fx.tfm.some((p) => this.isLoaded(p))) this.requestModule(fx.tfmRequest);
      const provider = fx.tfm.find((p) => this.find(p)?.state === 'live');
      if (provider && this.get(provider)) m.tfm = provider;
    }
    if (lab) this.labInit(m, lab, opts.pid ?? 0);
    m.state = 'live';
    delete m.initSize;
    this.version++;
    this.devNodes(m, true);
    for (const h of this.loadHooks) h(m, this.k);
    return m;
  }

  /**
   * delete_module(): ENOENT when not loaded, EAGAIN (EWOULDBLOCK) when other
   * modules use it or (without force) its refcount is not zero, EBUSY while
   * it is still initialising or already going.
   */
  unload(name: string, opts: { force?: boolean; pid?: number } = {}): void {
    const m = this.mut(name);
    if (!m) throw new KernelError('ENOENT');
    if (m.state !== 'live') throw new KernelError('EBUSY');
    if (m.holders.length) throw new KernelError('EAGAIN');
    if (m.refs > 0) {
      if (!opts.force) throw new KernelError('EAGAIN');
      this.s.taintMask |= 1 << TAINT.FORCED_RMMOD;
    }
    m.state = 'going';
    this.version++;
    const lab = m.lab ? this.labManifest(name) : undefined;
    if (lab) this.labExit(m, lab, opts.pid ?? 0);
    const fx = MODULE_EFFECTS[name];
    const ctx = { k: this.k, name, loaded: (n: string) => this.isLoaded(n) };
    for (const [lvl, text] of fx?.exit?.(ctx) ?? []) this.k.printk.log(lvl, text);
    if (m.tfm) this.put(m.tfm);
    for (const d of m.uses) {
      const dm = this.mut(d);
      if (dm) dm.holders = dm.holders.filter((h) => h !== name);
    }
    this.s.loaded = this.s.loaded.filter((x) => x !== m);
    const letters = taintLetters(m.taints);
    this.s.lastUnloaded = letters ? `${name}(${letters})` : name;
    this.version++;
    if (m.vmId !== undefined) this.vmalloc()?.vmallocRemove?.(m.vmId);
    this.devNodes(m, false);
    for (const h of this.unloadHooks) h(m, this.k);
  }

  /** Module taint letters ("OE"), as /sys/module/<m>/taint shows them. */
  taintString(m: LoadedModule): string {
    return taintLetters(m.taints);
  }

  /** /sys/module/<m>/parameters/<p> write: param_set_<type>() of the value (EINVAL when rejected). */
  setParam(name: string, param: string, value: string): void {
    const m = this.mut(name);
    const p = this.info(name)?.params.find((x) => x.name === param);
    if (!m || !p) throw new KernelError('ENOENT');
    const v = parseParamValue(p.type, value);
    if (v === undefined) throw new KernelError('EINVAL');
    m.params[param] = v;
    this.version++;
  }

  /** sysfs permission of a parameter (lab modules declare it; the tree's show read-only). */
  paramPerm(name: string, param: string): number {
    const lab = this.labManifest(name);
    if (lab) return lab.parameters.find((p) => p.name === param)?.perm ?? 0;
    return MODULE_EFFECTS[name]?.hiddenParams?.includes(param) ? 0 : 0o444;
  }

  getState(): ModulesState {
    return JSON.parse(JSON.stringify(this.s)) as ModulesState;
  }

  setState(s: ModulesState | undefined): void {
    this.version++;
    this.labInfos = undefined;
    this.s = s ? (JSON.parse(JSON.stringify(s)) as ModulesState) : { loaded: [], loadOffsetPages: 0, taintMask: 0 };
  }

  /** request_module(): what `modprobe -q <alias>` would load, silently; failures are the caller's fallback. */
  requestModule(alias: string): void {
    for (const it of probeList(alias)) {
      if (it.kind !== 'module' || this.isLoaded(it.name)) continue;
      try {
        this.load(it.name);
      } catch {
        return;
      }
    }
  }

  // ---------------------------------------------------------------- mounts

  /**
   * A filesystem was mounted: get_fs_type() (request_module("fs-<type>")
   * when needed) pins the filesystem's module, vfat pins its codepage and
   * iocharset NLS modules, ext4 and jbd2 hold a crc32c transform, and a
   * partition of an NVMe disk pins the nvme driver. Released by umountFs().
   */
  mountFs(path: string, fstype: string, source = ''): void {
    if (PSEUDO_FS.has(fstype)) return;
    const reg = registry();
    const owners = reg.aliases.get(`fs-${fstype}`);
    const held: string[] = [];
    const take = (mod: string): void => {
      if (this.get(mod)) held.push(mod);
    };
    if (owners?.length) {
      const owner = owners[0];
      if (!this.isLoaded(owner)) this.requestModule(`fs-${fstype}`);
      take(owner);
      if (owner === 'vfat' || owner === 'msdos' || owner === 'fat') {
        for (const nls of ['nls_cp437', 'nls_ascii']) {
          if (!this.isLoaded(nls)) this.requestModule(nls);
          take(nls);
        }
      }
      if (owner === 'ext4') {
        const dev = source.split('/').pop() ?? source;
        this.k.printk.log(6, `EXT4-fs (${dev}): mounted filesystem with ordered data mode. Quota mode: none.`);
        const crc = (): string | undefined => ['crc32c_intel', 'crc32c_generic'].find((c) => this.find(c)?.state === 'live');
        if (!crc()) this.requestModule('crypto-crc32c');
        const c = crc();
        if (c) {
          take(c);
          take(c);
        }
      }
    }
    if (/^\/dev\/nvme\d+n\d+/.test(source)) for (const d of ['nvme', 'nvme_core']) take(d);
    if (!held.length) return;
    this.s.mounts = [...(this.s.mounts ?? []).filter((x) => x.path !== path), { path, mods: held }];
  }

  /** The filesystem at `path` was unmounted: the references mountFs() took are dropped. */
  umountFs(path: string): void {
    const i = (this.s.mounts ?? []).findIndex((x) => x.path === path);
    if (i < 0 || !this.s.mounts) return;
    const [rec] = this.s.mounts.splice(i, 1);
    for (const mod of rec.mods) this.put(mod);
  }

  // ---------------------------------------------------------------- lab modules

  /**
   * Makes a lab module loadable by name (insmod/modprobe), like installing its
   * .ko under /lib/modules/<release>/extra and running depmod. Takes a
   * manifest or raw JSON (validated: EINVAL lists the problems). Replaces an
   * earlier registration of the same name unless that one is loaded (EBUSY).
   * Its dependencies must be modules of the tree or registered labs (ENOENT).
   */
  registerLab(manifest: unknown): LabManifest {
    const v = validateLabManifest(manifest);
    if (!v.ok) throw new KernelError('EINVAL', v.errors.join('; '));
    const lab = v.manifest;
    if (this.isLoaded(lab.name)) throw new KernelError('EBUSY', `module ${lab.name} is loaded`);
    const labs = (this.s.labs ?? []).filter((l) => l.name !== lab.name);
    const known = (n: string): LabManifest | undefined => (n === lab.name ? lab : labs.find((l) => l.name === n));
    for (const d of lab.depends) {
      if (!registry().byName.has(d) && !known(d))
        throw new KernelError('ENOENT', `depends: no module ${d} in the tree or among the registered lab modules`);
    }
    // no dependency cycles through other labs
    const visit = (n: string, seen: string[]): void => {
      const l = known(n);
      if (!l) return;
      if (seen.includes(n)) throw new KernelError('ELOOP', `depends: cycle ${[...seen, n].join(' -> ')}`);
      for (const d of l.depends) visit(d, [...seen, n]);
    };
    visit(lab.name, []);
    const i = (this.s.labs ?? []).findIndex((l) => l.name === lab.name);
    const next = [...(this.s.labs ?? [])];
    if (i >= 0) next[i] = lab;
    else next.push(lab);
    this.s.labs = next;
    this.labInfos = undefined;
    this.version++;
    return lab;
  }

  /** Forgets a lab module (EBUSY while loaded or while another lab depends on it). */
  unregisterLab(name: string): void {
    const labs = this.s.labs ?? [];
    if (!labs.some((l) => l.name === name)) throw new KernelError('ENOENT', `no lab module ${name}`);
    if (this.isLoaded(name)) throw new KernelError('EBUSY', `module ${name} is loaded`);
    const user = labs.find((l) => l.depends.includes(name));
    if (user) throw new KernelError('EBUSY', `lab module ${user.name} depends on ${name}`);
    this.s.labs = labs.filter((l) => l.name !== name);
    this.labInfos = undefined;
    this.version++;
  }

  /** Registered lab modules, registration order. */
  labs(): readonly LabManifest[] {
    return this.s.labs ?? [];
  }

  labManifest(name: string): LabManifest | undefined {
    return this.s.labs?.find((l) => l.name === name);
  }

  /** Pages a module's leak behaviour has allocated so far (they stay allocated after rmmod). */
  leakedPages(name?: string): number {
    const l = this.s.lab?.leaked ?? {};
    if (name !== undefined) return l[name] ?? 0;
    return Object.values(l).reduce((a, b) => a + b, 0);
  }

  /** A counter of a loaded lab module's files. */
  labCounter(name: string, counter: string): number {
    return this.s.lab?.counters[name]?.[counter] ?? 0;
  }

  /** The files loaded lab modules provide (path -> file) and the directories they live in (path -> child names). */
  labFiles(): { files: ReadonlyMap<string, LabFileRef>; dirs: ReadonlyMap<string, ReadonlySet<string>> } {
    if (this.labFileMemo?.version === this.version) return this.labFileMemo;
    const files = new Map<string, LabFileRef>();
    const dirs = new Map<string, Set<string>>();
    for (const m of this.s.loaded) {
      if (!m.lab || m.state === 'going') continue;
      const lab = this.labManifest(m.name);
      for (const f of lab?.files ?? []) {
        files.set(f.path, { module: m.name, file: f });
        const parts = f.path.split('/');
        for (let i = 2; i < parts.length; i++) {
          const dir = parts.slice(0, i).join('/');
          let set = dirs.get(dir);
          if (!set) dirs.set(dir, (set = new Set()));
          set.add(parts[i]);
        }
      }
    }
    this.labFileMemo = { version: this.version, files, dirs };
    return this.labFileMemo;
  }

  /** A read of a lab module's file: its read behaviours run, its counter goes up, then it renders. */
  labRead(module: string, file: LabFile, pid: number): string {
    const m = this.mut(module);
    const lab = this.labManifest(module);
    if (!m || !lab) throw new KernelError('ENOENT');
    this.labTrigger(lab, (on) => typeof on === 'object' && 'read' in on && on.read === file.path, `${module}_read`, pid);
    if (file.counter !== undefined) {
      const c = this.counters(module);
      if (file.increment === 'read') {
        c[file.counter] = (c[file.counter] ?? 0) + 1;
        this.version++;
      }
      return `${c[file.counter] ?? 0}\n`;
    }
    if (file.param !== undefined) return `${m.params[file.param] ?? ''}\n`;
    return this.s.lab?.text[module]?.[file.path] ?? file.content ?? '';
  }

  /** A write to a lab module's file: parameter (param_set), counter (a number) or text; then its write behaviours. */
  labWrite(module: string, file: LabFile, data: string, pid: number): void {
    const m = this.mut(module);
    const lab = this.labManifest(module);
    if (!m || !lab) throw new KernelError('ENOENT');
    if (file.param !== undefined) this.setParam(module, file.param, data);
    else if (file.counter !== undefined) {
      const c = this.counters(module);
      if (file.increment === 'write') c[file.counter] = (c[file.counter] ?? 0) + 1;
      else {
        const v = parseParamValue('long', data.trim());
        if (v === undefined) throw new KernelError('EINVAL');
        c[file.counter] = Number(v);
      }
    } else {
      const rt = this.labRt();
      (rt.text[module] ??= {})[file.path] = data;
    }
    this.version++;
    this.labTrigger(lab, (on) => typeof on === 'object' && 'write' in on && on.write === file.path, `${module}_write`, pid);
  }

  // ---------------------------------------------------------------- internals

  private labInfo(name: string): ModuleInfo | undefined {
    if (!this.s.labs?.length) return undefined;
    if (!this.labInfos) {
      const infos = new Map<string, ModuleInfo>();
      for (const l of this.s.labs) infos.set(l.name, labModuleInfo(l));
      // modules.dep lines: every dependency, users before what they use
      for (const [n, info] of infos) {
        const order: string[] = [];
        const seen = new Set<string>();
        const post = (x: string): void => {
          const deps = x === n ? info.depends : (registry().byName.get(x)?.depends ?? infos.get(x)?.depends ?? []);
          for (const d of deps) {
            if (seen.has(d)) continue;
            seen.add(d);
            post(d);
            order.push(d);
          }
        };
        post(n);
        infos.set(n, { ...info, depLine: order.reverse() });
      }
      this.labInfos = infos;
    }
    return this.labInfos.get(name);
  }

  /** check_modinfo() and the signature check for a lab module: O, E (and P) taints with their messages. */
  private labLoadTaints(lab: LabManifest): number {
    const name = lab.name;
    const tainted = this.kernelTaint();
    let t = 0;
    if (!(tainted & (1 << TAINT.OOT_MODULE))) this.k.printk.log(4, `${name}: loading out-of-tree module taints kernel.`);
    t |= 1 << TAINT.OOT_MODULE;
    if (!GPL_COMPATIBLE.includes(lab.license)) {
      if (!(tainted & (1 << TAINT.PROPRIETARY_MODULE))) this.k.printk.log(4, `${name}: module license '${lab.license}' taints kernel.`);
      t |= 1 << TAINT.PROPRIETARY_MODULE;
      if (!this.s.debugLocksOff) {
        this.s.debugLocksOff = true;
        this.k.printk.log(4, 'Disabling lock debugging due to kernel taint');
      }
    }
    if (!this.s.sigNoticed) {
      this.s.sigNoticed = true;
      this.k.printk.log(5, `${name}: module verification failed: signature and/or required key missing - tainting kernel`);
    }
    t |= 1 << TAINT.UNSIGNED_MODULE;
    return t;
  }

  /**
   * proc_create()/sysfs_create_file() of a name that exists fails: the
   * kernel warns and module_init fails (-ENOMEM for procfs, -EEXIST for sysfs).
   */
  private labFileClash(lab: LabManifest): void {
    const ctx = this.k.rootCtx();
    for (const f of lab.files) {
      let exists = false;
      try {
        this.k.vfs.resolve(ctx, f.path);
        exists = true;
      } catch {
        exists = false;
      }
      if (!exists) continue;
      const slash = f.path.lastIndexOf('/');
      if (f.fs === 'sysfs') this.k.printk.log(3, `sysfs: cannot create duplicate filename '${f.path.slice(4)}'`);
      else this.k.printk.log(4, `proc_dir_entry '${f.path.slice(6, slash) || '/proc'}/${f.path.slice(slash + 1)}' already registered`);
      // proc_create() returns NULL (modules answer -ENOMEM); sysfs_create_file() -EEXIST
      throw new KernelError(f.fs === 'sysfs' ? 'EEXIST' : 'ENOMEM', `${f.path} exists`);
    }
  }

  /** The kernel's taint (sysctl kernel.tainted), falling back to the loader's own bits. */
  private kernelTaint(): number {
    try {
      return Number(this.k.sysctl.value('kernel/tainted')) | this.s.taintMask;
    } catch {
      return this.s.taintMask;
    }
  }

  /** The symbols `info` uses from `dep` ("Unknown symbol" lines when dep is missing). */
  private usedSymbols(info: ModuleInfo, dep: string): readonly string[] {
    const used = info.usedSymbols?.[dep];
    if (used?.length) return used;
    const d = this.info(dep);
    return d?.symbols.length ? d.symbols : [`${dep}_init`];
  }

  /** parse_args() of the module's parameters: defaults, then name=value words (config options first). */
  private parseArgs(info: ModuleInfo, lab: LabManifest | undefined, args: readonly string[]): Record<string, string> {
    const params: Record<string, string> = {};
    for (const p of info.params)
      params[p.name] = lab ? (lab.parameters.find((x) => x.name === p.name)?.default ?? '') : paramDefault(info.name, p.name, p.type);
    for (const a of args) {
      const eq = a.indexOf('=');
      const key = (eq < 0 ? a : a.slice(0, eq)).replace(/-/g, '_');
      const p = info.params.find((x) => x.name === key);
      if (!p) {
        this.k.printk.log(4, `${info.name}: unknown parameter '${key}' ignored`);
        continue;
      }
      const raw = eq < 0 ? undefined : a.slice(eq + 1).replace(/^"(.*)"$/, '$1');
      const isBool = p.type === 'bool' || p.type === 'invbool';
      const v = raw === undefined ? (isBool ? parseParamValue(p.type, '') : undefined) : parseParamValue(p.type, raw);
      if (v === undefined) {
        this.k.printk.log(3, `${info.name}: '${raw ?? ''}' invalid for parameter '${key}'`);
        throw new KernelError('EINVAL', 'Invalid parameters');
      }
      params[key] = v;
    }
    return params;
  }

  private labRt(): LabRuntimeState {
    return (this.s.lab ??= { counters: {}, text: {}, leaked: {} });
  }

  private counters(module: string): Record<string, number> {
    return (this.labRt().counters[module] ??= {});
  }

  /** module_init of a lab module: init lines, files, counters, 'load' behaviours, then its timers. */
  private labInit(m: LoadedModuleState, lab: LabManifest, pid: number): void {
    const rt = this.labRt();
    rt.counters[m.name] = {};
    delete rt.text[m.name];
    for (const msg of lab.initMessages) this.k.printk.log(msg.level, msg.text);
    try {
      this.labTrigger(lab, (on) => on === 'load', `${m.name}_init`, pid);
    } catch (e) {
      // the task died inside module_init: the module stays "coming" with its reference held
      m.refs = 1;
      this.version++;
      throw e;
    }
    const serial = m.serial ?? 0;
    lab.behaviours.forEach((b, i) => {
      if (b.kind === 'leak') this.k.timers.add(this.k.now + 1e9, LEAK_TIMER, serial);
      else if (typeof b.on === 'object' && 'everyMs' in b.on)
        this.k.timers.add(this.k.now + b.on.everyMs * 1e6, LAB_TIMER, serial * 64 + i);
    });
  }

  /** module_exit of a lab module: 'unload' behaviours, exit lines; its timers stop. */
  private labExit(m: LoadedModuleState, lab: LabManifest, pid: number): void {
    const serial = m.serial ?? 0;
    this.k.timers.cancel(LEAK_TIMER, serial);
    lab.behaviours.forEach((_b, i) => this.k.timers.cancel(LAB_TIMER, serial * 64 + i));
    this.labTrigger(lab, (on) => on === 'unload', `${m.name}_exit`, pid);
    for (const msg of lab.exitMessages) this.k.printk.log(msg.level, msg.text);
  }

  /** Runs the behaviours whose trigger matches through k.faults (leak is ours). */
  private labTrigger(
    lab: LabManifest,
    match: (on: Exclude<LabBehaviour, { kind: 'leak' }>['on']) => boolean,
    fn: string,
    pid: number,
  ): void {
    for (const b of lab.behaviours) {
      if (b.kind === 'leak' || !match(b.on)) continue;
      this.runBehaviour(b, { module: lab.name, fn, pid });
    }
  }

  private runBehaviour(b: LabBehaviour, site: FaultSite): void {
    const faults = (this.k as unknown as { faults?: FaultTrigger }).faults;
    if (faults && typeof faults.runBehaviour === 'function') faults.runBehaviour(b, site);
  }

  private bySerial(serial: number): LoadedModuleState | undefined {
    return this.s.loaded.find((m) => m.serial === serial);
  }

  /** Once a second of virtual time: the leak allocates its pages (kmalloc-4k objects nobody frees). */
  private onLeakTimer(t: Timer): void {
    const m = this.bySerial(t.arg);
    const b = m ? this.labManifest(m.name)?.behaviours.find((x) => x.kind === 'leak') : undefined;
    if (!m || !b || b.kind !== 'leak' || m.state !== 'live') return;
    this.leak(m.name, b.pagesPerSecond);
    this.k.timers.add(t.at + 1e9, LEAK_TIMER, t.arg);
  }

  private leak(module: string, pages: number): void {
    try {
      this.k.mm.slabAdjust(LEAK_CACHE, pages);
    } catch (e) {
      if (!isKernelError(e)) throw e;
    }
    const rt = this.labRt();
    rt.leaked[module] = (rt.leaked[module] ?? 0) + pages;
  }

  /** A periodic behaviour (a timer callback of the module, softirq context: pid 0). */
  private onLabTimer(t: Timer): void {
    const m = this.bySerial(Math.floor(t.arg / 64));
    const lab = m ? this.labManifest(m.name) : undefined;
    const b = lab?.behaviours[t.arg % 64];
    if (!m || !lab || !b || b.kind === 'leak' || typeof b.on !== 'object' || !('everyMs' in b.on) || m.state !== 'live') return;
    try {
      this.runBehaviour(b, { module: m.name, fn: `${m.name}_timer_fn`, pid: 0 });
    } catch {
      // the fault machinery reported it (an oops in a timer kills no task); the timer is not re-armed
      return;
    }
    this.k.timers.add(t.at + b.on.everyMs * 1e6, LAB_TIMER, t.arg);
  }

  /** devtmpfs: the nodes of the devices a module registered appear at load and go at unload. */
  private devNodes(m: LoadedModuleState, add: boolean): void {
    const nodes = MODULE_EFFECTS[m.name]?.devNodes?.(m.params);
    const dev = nodes?.length ? this.k.memFs('devtmpfs') : undefined;
    if (!dev || !nodes) return;
    const ctx = this.k.rootCtx(0);
    const root = dev.root();
    for (const [name, kind, major, minor] of nodes) {
      const exists = root.lookup(ctx, name) !== undefined;
      if (add && !exists) dev.addDevice(name, kind, major, minor, 0o600);
      else if (!add && exists) root.unlink?.(ctx, name);
    }
  }

  private mut(name: string): LoadedModuleState | undefined {
    return this.s.loaded.find((m) => m.name === name);
  }

  private vmalloc(): VmallocApi | undefined {
    const mm = this.k.mm as unknown as VmallocApi;
    return typeof mm.vmallocAdd === 'function' || typeof mm.vmallocRemove === 'function' ? mm : undefined;
  }

  /** module_alloc(): first fit above the random load offset, one guard page per area. */
  private alloc(size: number): number {
    if (this.s.loadOffsetPages === 0) this.s.loadOffsetPages = this.k.rng.int(1, 1024);
    const need = size + PAGE;
    const areas = this.s.loaded.map((m) => [m.base, m.base + m.size + PAGE] as const).sort((a, b) => a[0] - b[0]);
    let at = this.s.loadOffsetPages * PAGE;
    for (const [lo, hi] of areas) {
      if (hi <= at) continue;
      if (lo >= at + need) break;
      at = Math.max(at, hi);
    }
    return at;
  }
}
