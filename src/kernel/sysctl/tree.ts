/**
 * The shared, immutable /proc/sys tree of the reference kernel (built once per
 * process from the generated data), and how per-interface directories are
 * derived from the "default" ones.
 */
import data from '../data/sysctl.json';
import { type Knob, KNOBS, defaultTokens, isNumericVector, knobKey } from './knobs';

/**
 * Defaults that differ from the reference capture because its kernel command
 * line did: the capture booted with panic=-1 (reboot at once on panic);
 * Kernelab machines boot without it (CONFIG_PANIC_TIMEOUT=0), so a panic
 * leaves the machine crashed until it is rebooted.
 */
const BOOT_OVERRIDES: Record<string, string> = { 'kernel/panic': '0' };

export interface StaticEntry {
  path: string;
  mode: number;
  /** default as the reference read it (vectors space separated); null: unreadable */
  def: string | null;
  /** its parser */
  knob: Knob;
}

interface RawData {
  entries: [string, number, string | null][];
  emptyDirs: string[];
}

/** Per-interface directory parents, and the knobs a device directory lacks. */
export const DEV_PARENTS = ['net/ipv4/conf', 'net/ipv4/neigh', 'net/ipv6/conf', 'net/ipv6/neigh'] as const;
const NEIGH_DEFAULT_ONLY = new Set(['gc_interval', 'gc_thresh1', 'gc_thresh2', 'gc_thresh3']);

export interface Tree {
  entries: ReadonlyMap<string, StaticEntry>;
  /** directory -> sorted children, [name, isDir] */
  dirs: ReadonlyMap<string, readonly [string, boolean][]>;
  /** the knobs of a device directory under each DEV_PARENT */
  devKnobs: ReadonlyMap<string, readonly string[]>;
}

/** namecmp() of the sysctl rbtree: bytes, shorter first on a common prefix. */
export const nameCmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function build(): Tree {
  const raw = data as unknown as RawData;
  const entries = new Map<string, StaticEntry>();
  const dirs = new Map<string, Map<string, boolean>>();
  const addDir = (d: string): Map<string, boolean> => {
    let m = dirs.get(d);
    if (!m) {
      m = new Map();
      dirs.set(d, m);
      if (d) {
        const i = d.lastIndexOf('/');
        addDir(i < 0 ? '' : d.slice(0, i)).set(i < 0 ? d : d.slice(i + 1), true);
      }
    }
    return m;
  };
  for (const [path, mode, raw0] of raw.entries) {
    const def = BOOT_OVERRIDES[path] ?? raw0;
    entries.set(path, { path, mode, def, knob: knobOf(path, def) });
    const i = path.lastIndexOf('/');
    addDir(path.slice(0, i)).set(path.slice(i + 1), false);
  }
  for (const d of raw.emptyDirs) addDir(d);
  const devKnobs = new Map<string, string[]>();
  for (const p of DEV_PARENTS) {
    const names = [...(dirs.get(`${p}/default`)?.keys() ?? [])].filter((n) => !(p.endsWith('neigh') && NEIGH_DEFAULT_ONLY.has(n)));
    devKnobs.set(p, names.sort(nameCmp));
  }
  const sorted = new Map<string, [string, boolean][]>();
  for (const [d, m] of dirs)
    sorted.set(
      d,
      [...m.entries()].sort((a, b) => nameCmp(a[0], b[0])),
    );
  return { entries, dirs: sorted, devKnobs };
}

export const TREE: Tree = build();

/** The parser of a knob: its table entry, else proc_dointvec for numbers, proc_dostring otherwise. */

export function knobOf(path: string, def: string | null): Knob {
  const k = KNOBS[knobKey(path)];
  if (k) return k;
  if (def !== null && isNumericVector(def)) return { t: 'int' };
  return { t: 'str', maxlen: 256 };
}

/** Vector length of a knob (maxlen / sizeof(int)), from its default. */
export function vecLen(def: string | null): number {
  return def === null ? 1 : Math.max(1, defaultTokens(def).length);
}

/** Splits a path of a device directory: ["net/ipv4/conf", "eth0", "forwarding"]. */
export function devPath(path: string): [string, string, string] | undefined {
  const p = path.split('/');
  if (p.length !== 5 || p[0] !== 'net' || (p[2] !== 'conf' && p[2] !== 'neigh')) return undefined;
  return [`${p[0]}/${p[1]}/${p[2]}`, p[3], p[4]];
}
