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
import { KernelError } from '../errors';
import type { Kernel } from '../kernel';
import { MODULE_EFFECTS, paramDefault } from './effects';
import { probeList } from './kmod';
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
}

export interface ModulesState {
  /** newest first, like the kernel's modules list */
  loaded: LoadedModuleState[];
  /** module_load_offset (pages, KASLR); 0 = not chosen yet */
  loadOffsetPages: number;
  /** kernel-wide taint bits set by the module loader */
  taintMask: number;
}

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

  constructor(private readonly k: Kernel) {}

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

  /** Kernel taint bits set by module operations (forced load/unload, staging, ...). */
  get taintMask(): number {
    return this.s.taintMask;
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

  /**
   * init_module(): loads one module of the tree whose dependencies are loaded.
   * Throws EEXIST (already loaded), ENOENT (unknown symbols: missing
   * dependencies, reported in dmesg like the kernel does).
   */
  load(name: string, args: readonly string[] = [], opts: { force?: boolean } = {}): LoadedModule {
    const info = registry().byName.get(name);
    if (!info) throw new KernelError('ENOENT', `module ${name} not in the tree`);
    if (this.isLoaded(name)) throw new KernelError('EEXIST');
    const missing = info.depends.filter((d) => !this.isLoaded(d));
    if (missing.length) {
      for (const d of missing) {
        const syms = registry().byName.get(d)?.symbols ?? [`${d}_init`];
        for (const sym of syms) this.k.printk.log(4, `${name}: Unknown symbol ${sym} (err -2)`);
      }
      throw new KernelError('ENOENT', 'Unknown symbol in module');
    }
    const params: Record<string, string> = {};
    for (const p of info.params) params[p.name] = paramDefault(name, p.name, p.type);
    for (const a of args) {
      const eq = a.indexOf('=');
      const key = (eq < 0 ? a : a.slice(0, eq)).replace(/-/g, '_');
      const val = eq < 0 ? 'Y' : a.slice(eq + 1);
      const p = info.params.find((x) => x.name === key);
      if (!p) {
        this.k.printk.log(4, `${name}: unknown parameter '${key}' ignored`);
        continue;
      }
      params[key] = p.type === 'bool' ? (/^(1|y|Y|true)$/.test(val) ? 'Y' : 'N') : val;
    }
    let taints = 0;
    if (opts.force) taints |= 1 << TAINT.FORCED_MODULE;
    if (info.relPath.startsWith('kernel/drivers/staging/')) {
      taints |= 1 << TAINT.CRAP;
      this.k.printk.log(4, `${name}: module is from the staging directory, the quality is unknown, you have been warned.`);
    }
    const vm = this.vmalloc();
    const vmId = typeof vm?.vmallocAdd === 'function' ? vm.vmallocAdd(MODULE_ALLOC_CALLER, info.coreSize) : undefined;
    this.s.taintMask |= taints;
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
    };
    if (typeof vmId === 'number') m.vmId = vmId;
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
    m.state = 'live';
    this.version++;
    for (const h of this.loadHooks) h(m, this.k);
    return m;
  }

  /**
   * delete_module(): ENOENT when not loaded, EAGAIN (EWOULDBLOCK) when other
   * modules use it or (without force) its refcount is not zero.
   */
  unload(name: string, opts: { force?: boolean } = {}): void {
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
    const fx = MODULE_EFFECTS[name];
    const ctx = { k: this.k, name, loaded: (n: string) => this.isLoaded(n) };
    for (const [lvl, text] of fx?.exit?.(ctx) ?? []) this.k.printk.log(lvl, text);
    if (m.tfm) this.put(m.tfm);
    for (const d of m.uses) {
      const dm = this.mut(d);
      if (dm) dm.holders = dm.holders.filter((h) => h !== name);
    }
    this.s.loaded = this.s.loaded.filter((x) => x !== m);
    this.version++;
    if (m.vmId !== undefined) this.vmalloc()?.vmallocRemove?.(m.vmId);
    for (const h of this.unloadHooks) h(m, this.k);
  }

  /** Module taint letters ("OE"), as /sys/module/<m>/taint shows them. */
  taintString(m: LoadedModule): string {
    return taintLetters(m.taints);
  }

  info(name: string): ModuleInfo | undefined {
    return registry().byName.get(name);
  }

  getState(): ModulesState {
    return JSON.parse(JSON.stringify(this.s)) as ModulesState;
  }

  setState(s: ModulesState | undefined): void {
    this.version++;
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
