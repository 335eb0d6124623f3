/**
 * The module tree of /lib/modules/6.1.0-56-amd64 (depmod output of the real
 * Debian 6.1 kernel), from the generated data file. Shared, immutable,
 * indexed lazily on first use: machines that never touch modules pay nothing.
 */
import data from '../data/modules/modules.json';
import { KERNEL_RELEASE } from '../types';

/** One .ko as the generator wrote it (short keys keep the data file small). */
interface RawModule {
  /** name (underscores) */
  n: string;
  /** path under /lib/modules/<release> */
  p: string;
  /** .ko file size */
  s: number;
  /** core size kmod printed on the reference machine, when known */
  c?: number;
  /** modules.dep line: indexes into mods, in depmod order */
  d?: number[];
  /** the .ko's depends= as written (may use dashes) */
  dp?: string[];
  l: string | string[];
  ds?: string;
  a?: string[];
  /** parm: [name, description, type] in modinfo order */
  pm?: [string, string, string][];
  /** aliases (device-table patterns only for a few modules) */
  al?: string[];
  /** number of aliases of the real module when al is partial */
  na?: number;
  /** softdep lines ("pre: crypto-crc32c") */
  sd?: string[];
  /** the first few exported symbols */
  sy?: string[];
  /** version / srcversion / signature where known */
  x?: Record<string, string>;
  /** .modinfo key order where known */
  ord?: string[];
  /** symbols used from dependencies, where the reference printed them */
  u?: Record<string, string[]>;
}

interface RawData {
  sigKey: string;
  mods: RawModule[];
  builtins: Record<string, [string, string][]>;
}

export const MODULE_DIR = `/lib/modules/${KERNEL_RELEASE}`;

export interface ModParam {
  name: string;
  description: string;
  type: string;
}

/** A loadable module of the tree. */
export interface ModuleInfo {
  readonly index: number;
  readonly name: string;
  /** path relative to MODULE_DIR, e.g. kernel/fs/ext4/ext4.ko */
  readonly relPath: string;
  readonly koSize: number;
  /** text+data size once loaded (what lsmod prints) */
  readonly coreSize: number;
  /** direct dependencies (names, underscores) */
  readonly depends: readonly string[];
  /** the .ko's depends= text */
  readonly dependsRaw: string;
  /** modules.dep line, names in file order */
  readonly depLine: readonly string[];
  readonly licenses: readonly string[];
  readonly description: string;
  readonly authors: readonly string[];
  readonly params: readonly ModParam[];
  readonly aliases: readonly string[];
  readonly softdeps: readonly string[];
  readonly symbols: readonly string[];
  readonly extra: Readonly<Record<string, string>>;
  readonly order?: readonly string[];
  /** symbols it uses from a dependency, where known (the "Unknown symbol" lines of the reference) */
  readonly usedSymbols?: Readonly<Record<string, readonly string[]>>;
}

export interface Registry {
  readonly modules: readonly ModuleInfo[];
  readonly byName: ReadonlyMap<string, ModuleInfo>;
  readonly byPath: ReadonlyMap<string, ModuleInfo>;
  /** alias -> module names, modules.alias order */
  readonly aliases: ReadonlyMap<string, readonly string[]>;
  /** built-in module name -> its modules.builtin.modinfo records */
  readonly builtins: ReadonlyMap<string, readonly [string, string][]>;
  readonly sigKey: string;
}

const cache: { reg?: Registry } = {};

export const modName = (s: string): string => s.replace(/-/g, '_');

/**
 * The core size of a module: what lsmod printed on the reference machine, else
 * about 46% of the .ko (debug-free text+data+rodata), page aligned, at least 4 pages.
 */
export function coreSizeOf(koSize: number, known?: number): number {
  if (known !== undefined) return known;
  const pages = Math.ceil((koSize * 0.46) / 4096);
  return Math.max(4, pages) * 4096;
}

/** The registry, built on first use. */
export function registry(): Registry {
  if (cache.reg) return cache.reg;
  const raw = data as unknown as RawData;
  const modules: ModuleInfo[] = raw.mods.map((m, index) => ({
    index,
    name: m.n,
    relPath: m.p,
    koSize: m.s,
    coreSize: coreSizeOf(m.s, m.c),
    depends: (m.dp ?? []).map(modName),
    dependsRaw: (m.dp ?? []).join(','),
    depLine: (m.d ?? []).map((j) => raw.mods[j].n),
    licenses: typeof m.l === 'string' ? [m.l] : m.l,
    description: m.ds ?? '',
    authors: m.a ?? [],
    params: (m.pm ?? []).map(([name, description, type]) => ({ name, description, type })),
    aliases: m.al ?? [],
    softdeps: m.sd ?? [],
    symbols: m.sy ?? [],
    extra: m.x ?? {},
    order: m.ord,
    usedSymbols: m.u,
  }));
  const aliases = new Map<string, string[]>();
  for (const m of modules) {
    for (const a of m.aliases) {
      const l = aliases.get(a);
      if (l) l.push(m.name);
      else aliases.set(a, [m.name]);
    }
  }
  cache.reg = {
    modules,
    byName: new Map(modules.map((m) => [m.name, m])),
    byPath: new Map(modules.map((m) => [m.relPath, m])),
    aliases,
    builtins: new Map(Object.entries(raw.builtins)),
    sigKey: raw.sigKey,
  };
  return cache.reg;
}

/** fnmatch(3) of a modules.alias pattern (*, ?, [..]) against a name. */
export function aliasMatch(pattern: string, name: string): boolean {
  if (!/[*?[]/.test(pattern)) return pattern === name;
  const re =
    '^' +
    pattern
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.') +
    '$';
  return new RegExp(re).test(name);
}

/**
 * What modprobe resolves a name to, as kmod does: a module of that name, a
 * built-in, else the modules an alias names (every match, file order).
 */
export function resolveName(name: string): { kind: 'module' | 'builtin'; name: string }[] {
  const reg = registry();
  const n = modName(name);
  if (reg.byName.has(n)) return [{ kind: 'module', name: n }];
  if (reg.builtins.has(n)) return [{ kind: 'builtin', name: n }];
  const exact = reg.aliases.get(name);
  if (exact) return exact.map((m) => ({ kind: 'module' as const, name: m }));
  const out: { kind: 'module'; name: string }[] = [];
  for (const [pat, mods] of reg.aliases) {
    if (/[*?[]/.test(pat) && aliasMatch(pat, name))
      for (const m of mods) if (!out.some((o) => o.name === m)) out.push({ kind: 'module', name: m });
  }
  // modules.builtin.modinfo aliases (e.g. char-major-4-* -> 8250)
  if (out.length === 0) {
    for (const [b, info] of reg.builtins) {
      if (info.some(([k, v]) => k === 'alias' && aliasMatch(v, name))) return [{ kind: 'builtin', name: b }];
    }
  }
  return out;
}
