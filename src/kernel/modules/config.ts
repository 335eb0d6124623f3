/**
 * modprobe.d(5): the kmod configuration read from the machine's filesystem
 * (/etc/modprobe.d, /run/modprobe.d, /usr/local/lib/modprobe.d,
 * /lib/modprobe.d; *.conf files sorted by name, the first directory winning
 * for a name) plus the tree's modules.softdep, which kmod sorts in among them.
 * Commands: alias, options, blacklist, install, remove, softdep.
 */
import type { Kernel } from '../kernel';
import type { DirNode, FsCtx, VNode } from '../fs/vnode';
import { aliasMatch, modName, registry } from './registry';

export const CONFIG_DIRS = ['/etc/modprobe.d', '/run/modprobe.d', '/usr/local/lib/modprobe.d', '/lib/modprobe.d'];

export interface SoftdepRule {
  module: string;
  pre: string[];
  post: string[];
}

export interface ModprobeConfig {
  /** [pattern, module] in file order */
  aliases: [string, string][];
  /** module -> option words, in file order */
  options: Map<string, string[]>;
  blacklist: Set<string>;
  install: Map<string, string>;
  remove: Map<string, string>;
  /** all softdep rules, file order (modules.softdep's among them); kmod uses the first match */
  softdeps: SoftdepRule[];
}

/** modules.softdep of the tree as rules (first line per module first, as in the file). */
function treeSoftdeps(): SoftdepRule[] {
  const out: SoftdepRule[] = [];
  for (const m of registry().modules) for (const line of m.softdeps) out.push(parseSoftdep(m.name, line.split(/\s+/)));
  return out;
}

const cache: { tree?: SoftdepRule[]; empty?: ModprobeConfig } = {};

function parseSoftdep(module: string, words: readonly string[]): SoftdepRule {
  const r: SoftdepRule = { module, pre: [], post: [] };
  let cur: string[] | undefined;
  for (const w of words) {
    if (w === 'pre:') cur = r.pre;
    else if (w === 'post:') cur = r.post;
    else if (w && cur) cur.push(w);
  }
  return r;
}

/** The configuration of a machine with no modprobe.d files (shared, immutable). */
export function emptyConfig(): ModprobeConfig {
  if (!cache.empty) {
    cache.tree ??= treeSoftdeps();
    cache.empty = { aliases: [], options: new Map(), blacklist: new Set(), install: new Map(), remove: new Map(), softdeps: cache.tree };
  }
  return cache.empty;
}

/** Logical lines of a config file: comments dropped, backslash continuations joined. */
function logicalLines(text: string): string[][] {
  const out: string[][] = [];
  let acc = '';
  for (const raw of text.split('\n')) {
    if (raw.endsWith('\\')) {
      acc += raw.slice(0, -1) + ' ';
      continue;
    }
    const line = (acc + raw).trim();
    acc = '';
    if (!line || line.startsWith('#')) continue;
    out.push(line.split(/\s+/));
  }
  return out;
}

/** Parses config files (already in kmod's order) into a configuration. */
export function parseConfig(files: readonly { name: string; text: string }[]): ModprobeConfig {
  const tree = (cache.tree ??= treeSoftdeps());
  const cfg: ModprobeConfig = {
    aliases: [],
    options: new Map(),
    blacklist: new Set(),
    install: new Map(),
    remove: new Map(),
    softdeps: [],
  };
  const all = [...files.map((f) => ({ ...f, tree: false })), { name: 'modules.softdep', text: '', tree: true }].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const f of all) {
    if (f.tree) {
      cfg.softdeps.push(...tree);
      continue;
    }
    for (const w of logicalLines(f.text)) {
      const [cmd, a, ...rest] = w;
      if (!a) continue;
      switch (cmd) {
        case 'alias':
          if (rest[0]) cfg.aliases.push([modName(a), modName(rest[0])]);
          break;
        case 'options': {
          const m = modName(a);
          cfg.options.set(m, [...(cfg.options.get(m) ?? []), ...rest]);
          break;
        }
        case 'blacklist':
          cfg.blacklist.add(modName(a));
          break;
        case 'install':
          if (rest.length) cfg.install.set(modName(a), rest.join(' '));
          break;
        case 'remove':
          if (rest.length) cfg.remove.set(modName(a), rest.join(' '));
          break;
        case 'softdep':
          cfg.softdeps.push(parseSoftdep(modName(a), rest));
          break;
        default:
          break;
      }
    }
  }
  return cfg;
}

/**
 * A directory's node, or undefined when it does not exist: the top-level
 * directory through the VFS (mounts), the rest by lookups, so that the
 * usual case (the directory is absent) costs no exception.
 */
function findDir(k: Kernel, ctx: FsCtx, dir: string): DirNode | undefined {
  const parts = dir.split('/').filter(Boolean);
  let node: VNode;
  try {
    node = k.vfs.resolve(ctx, `/${parts[0]}`).node;
  } catch {
    return undefined;
  }
  for (let i = 1; i < parts.length; i++) {
    if (node.type !== 'dir') return undefined;
    const next = node.lookup(ctx, parts[i]);
    if (!next) return undefined;
    if (next.type === 'link') {
      try {
        node = k.vfs.resolve(ctx, `/${parts.slice(0, i + 1).join('/')}`).node;
      } catch {
        return undefined;
      }
    } else node = next;
  }
  return node.type === 'dir' ? node : undefined;
}

/** Reads the configuration from the machine's filesystem (as root). */
export function readConfig(k: Kernel): ModprobeConfig {
  const ctx = k.rootCtx();
  const seen = new Map<string, string>();
  for (const dir of CONFIG_DIRS) {
    const node = findDir(k, ctx, dir);
    if (!node) continue;
    const names = node.list(ctx);
    for (const n of names) {
      if (!n.endsWith('.conf') || seen.has(n)) continue;
      try {
        seen.set(n, k.vfs.readFile(ctx, `${dir}/${n}`));
      } catch {
        // unreadable or a directory: kmod skips it
      }
    }
  }
  if (seen.size === 0) return emptyConfig();
  return parseConfig([...seen].map(([name, text]) => ({ name, text })));
}

/** Modules a config alias names for `name` (fnmatch patterns), file order, without duplicates. */
export function configAliases(cfg: ModprobeConfig, name: string): string[] {
  const out: string[] = [];
  const n = modName(name);
  for (const [pat, mod] of cfg.aliases) if (aliasMatch(pat, n) && !out.includes(mod)) out.push(mod);
  return out;
}

/** The first softdep rule whose module pattern matches (kmod stops at the first). */
export function softdepOf(cfg: ModprobeConfig, module: string): SoftdepRule | undefined {
  for (const r of cfg.softdeps) if (r.module === module || aliasMatch(r.module, module)) return r;
  return undefined;
}
