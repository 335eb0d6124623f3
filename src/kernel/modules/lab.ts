/**
 * Lab modules: out-of-tree modules a tenant declares with a manifest instead
 * of C code. The manifest names what the module has (parameters, exported
 * symbols, procfs/sysfs files, init/exit printk lines) and what it does wrong
 * (behaviours, the fault machinery's LabBehaviour union).
 *
 * validateLabManifest() checks a JSON body (HTTP 400 texts name the field);
 * k.modules.registerLab(manifest) makes it loadable by name with
 * insmod/modprobe, like a .ko installed in /lib/modules/<release>/extra.
 *
 * Loading one taints the kernel O (out-of-tree) and E (unsigned), printing
 * what 6.1 prints; a non-GPL-compatible license taints P.
 *
 * Behaviours: `leak` is the loader's own (modules.ts): every second of
 * virtual time while the module is live it kmallocs pagesPerSecond 4 KiB
 * objects (kmalloc-4k, so Slab/SUnreclaim and slabinfo grow) and never frees
 * them: rmmod stops the leak but the pages stay allocated until reboot, as a
 * real leak's would (k.modules.leakedPages() counts them). Every other kind
 * runs through k.faults.runBehaviour() at its trigger: module init ('load',
 * fn <name>_init), exit ('unload', <name>_exit), a read or write of one of
 * its files (<name>_read / <name>_write, the reading task's pid) or a timer
 * ({everyMs}, <name>_timer_fn, pid 0). A task killed in init leaves the
 * module "Loading" with a reference held, like the kernel does.
 */
import type { BehaviourTrigger, LabBehaviour } from '../faults/contract';
import { KERNEL_RELEASE } from '../types';
import { type ModParam, type ModuleInfo, registry } from './registry';

export type LabParamType = 'int' | 'uint' | 'long' | 'ulong' | 'short' | 'ushort' | 'byte' | 'hexint' | 'bool' | 'invbool' | 'charp';

export const LAB_PARAM_TYPES: readonly LabParamType[] = [
  'int',
  'uint',
  'long',
  'ulong',
  'short',
  'ushort',
  'byte',
  'hexint',
  'bool',
  'invbool',
  'charp',
];

export interface LabParam {
  name: string;
  type: LabParamType;
  /** initial value as /sys/module/<m>/parameters/<p> shows it ("Y"/"N" for bools, "(null)" for an unset charp) */
  default: string;
  /** sysfs permission bits (0 = not in sysfs); 0644 makes it writable by root at runtime */
  perm: number;
  description: string;
}

/** printk levels (KERN_EMERG .. KERN_DEBUG). */
export const PRINTK_LEVELS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;

export interface LabMessage {
  /** 0..7 */
  level: number;
  /** one line, printed as is (real modules prefix "<name>: " through pr_fmt; write it if you want it) */
  text: string;
}

/** A file the module creates at init (proc_create / sysfs_create_file) and removes at exit. */
export interface LabFile {
  fs: 'procfs' | 'sysfs';
  /** absolute path: /proc/<...> or /sys/kernel/<...> or /sys/module/<name>/<...> */
  path: string;
  mode: number;
  /** what a read returns: fixed text, a parameter's value, or a counter */
  content?: string;
  param?: string;
  counter?: string;
  /** when the counter goes up (default: on every read) */
  increment?: 'read' | 'write' | 'none';
}

export interface LabManifest {
  name: string;
  version: string;
  license: string;
  description: string;
  author: string[];
  parameters: LabParam[];
  depends: string[];
  exportedSymbols: string[];
  initMessages: LabMessage[];
  exitMessages: LabMessage[];
  files: LabFile[];
  behaviours: LabBehaviour[];
}

export type LabValidation = { ok: true; manifest: LabManifest } | { ok: false; errors: string[] };

/** license_is_gpl_compatible() of 6.1 */
export const GPL_COMPATIBLE = ['GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL'];

const LIMITS = { params: 64, files: 64, behaviours: 32, symbols: 256, messages: 64, text: 1000 };
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const BEHAVIOUR_KINDS = [
  'leak',
  'null-deref',
  'bug',
  'warn',
  'use-after-free',
  'out-of-bounds',
  'lock-inversion',
  'sleep-in-atomic',
  'hung-task',
  'panic',
];
const MANIFEST_KEYS = [
  'name',
  'version',
  'license',
  'description',
  'author',
  'parameters',
  'depends',
  'exportedSymbols',
  'initMessages',
  'exitMessages',
  'files',
  'behaviours',
];

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => JSON.stringify(v);

/** Parses a permission: "0644" / "644" (octal text) or a number of mode bits (0o644 = 420). */
function parsePerm(v: unknown): number | undefined {
  if (typeof v === 'string' && /^0?[0-7]{1,3}$/.test(v)) return parseInt(v, 8);
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0o777) return v;
  return undefined;
}

/** VERIFY_OCTAL_PERMISSIONS(): what module_param() accepts at build time. */
function permProblem(p: number): string | undefined {
  const r = (shift: number): number => (p >> shift) & 4;
  const w = (shift: number): number => (p >> shift) & 2;
  if (p & 0o002) return 'must not be writable by others';
  if (r(6) < r(3) || r(3) < r(0)) return 'readable by group/others but not by the owner (user >= group >= other)';
  if (w(6) < w(3)) return 'writable by the group but not by the owner';
  return undefined;
}

const INT_RANGE: Record<string, [bigint, bigint]> = {
  int: [-(2n ** 31n), 2n ** 31n - 1n],
  uint: [0n, 2n ** 32n - 1n],
  long: [-(2n ** 63n), 2n ** 63n - 1n],
  ulong: [0n, 2n ** 64n - 1n],
  short: [-(2n ** 15n), 2n ** 15n - 1n],
  ushort: [0n, 2n ** 16n - 1n],
  byte: [0n, 255n],
  hexint: [0n, 2n ** 32n - 1n],
};

/**
 * param_set_<type>(): the value a write (or modprobe's name=value) stores, as
 * sysfs then shows it; undefined when the kernel rejects it (EINVAL).
 */
export function parseParamValue(type: string, raw: string): string | undefined {
  const v = raw.endsWith('\n') ? raw.slice(0, -1) : raw;
  if (type === 'bool' || type === 'invbool') {
    // kstrtobool(): y/Y/1/on and n/N/0/off; the empty value means "set"
    if (v === '' || /^([yY1]|[oO][nN])/.test(v)) return type === 'bool' ? 'Y' : 'N';
    if (/^([nN0]|[oO][fF][fF])/.test(v)) return type === 'bool' ? 'N' : 'Y';
    return undefined;
  }
  if (type === 'charp' || type === 'string') return v.length > 1023 ? undefined : v;
  const range = INT_RANGE[type];
  if (!range) return v;
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(v.trim());
  if (!m) return undefined;
  const digits = m[2];
  let n = /^0[xX]/.test(digits)
    ? BigInt(digits)
    : digits.length > 1 && digits.startsWith('0')
      ? BigInt('0o' + digits.slice(1))
      : BigInt(digits);
  if (m[1] === '-') n = -n;
  if (n < range[0] || n > range[1]) return undefined;
  return type === 'hexint' ? '0x' + n.toString(16).padStart(8, '0') : n.toString();
}

function normDefault(type: LabParamType, v: unknown): string | undefined {
  if (v === undefined || v === null) {
    if (type === 'bool') return 'N';
    if (type === 'invbool') return 'Y';
    if (type === 'charp') return '(null)';
    return type === 'hexint' ? '0x00000000' : '0';
  }
  if (type === 'bool' || type === 'invbool') {
    if (typeof v === 'boolean') return (type === 'bool') === v ? 'Y' : 'N';
    return typeof v === 'string' || typeof v === 'number' ? parseParamValue(type, String(v)) : undefined;
  }
  if (type === 'charp') return typeof v === 'string' && v.length <= 1023 && !v.includes('\n') ? v : undefined;
  if (typeof v === 'number' && !Number.isInteger(v)) return undefined;
  return typeof v === 'number' || typeof v === 'string' ? parseParamValue(type, String(v)) : undefined;
}

function level(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 7) return v;
  if (typeof v === 'string') {
    const s = v.toLowerCase().replace(/^kern_/, '');
    const i = PRINTK_LEVELS.indexOf(s as (typeof PRINTK_LEVELS)[number]);
    if (i >= 0) return i;
    if (s === 'warn') return 4;
    if (s === 'error') return 3;
  }
  return undefined;
}

/** Where a lab file may live; undefined when acceptable. */
function pathProblem(p: string, modName: string): string | undefined {
  if (!p.startsWith('/')) return 'must be an absolute path';
  if (p.length > 255) return 'is longer than 255 characters';
  const parts = p.split('/').slice(1);
  if (parts.some((x) => x === '' || x === '.' || x === '..'))
    return 'must be a normalised path (no empty, "." or ".." components, no trailing slash)';
  if (parts.some((x) => !/^[A-Za-z0-9_.:+-]+$/.test(x))) return 'may only contain letters, digits and "_.:+-" in its components';
  if (parts[0] === 'proc') {
    if (parts.length < 2 || parts.length > 4) return 'must be /proc/<name> or up to two directories below /proc';
    if (/^\d+$/.test(parts[1]) || ['self', 'thread-self', 'sys'].includes(parts[1])) return `cannot be created under /proc/${parts[1]}`;
    return undefined;
  }
  if (parts[0] === 'sys') {
    if (parts[1] === 'kernel' && parts.length >= 3 && parts.length <= 5) return undefined;
    if (parts[1] === 'module' && parts[2] === modName && parts.length >= 4 && parts.length <= 5) {
      if (
        [
          'parameters',
          'holders',
          'sections',
          'notes',
          'refcnt',
          'initstate',
          'coresize',
          'initsize',
          'taint',
          'uevent',
          'srcversion',
          'version',
        ].includes(parts[3])
      )
        return `clashes with the module's own /sys/module/${modName}/${parts[3]}`;
      return undefined;
    }
    return `must be below /sys/kernel/ or /sys/module/${modName}/`;
  }
  return 'must be below /proc or /sys';
}

function validTrigger(v: unknown, files: LabFile[]): { t?: BehaviourTrigger; err?: string } {
  if (v === 'load' || v === 'unload') return { t: v };
  if (isObj(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && (keys[0] === 'read' || keys[0] === 'write')) {
      const p = v[keys[0]];
      const f = files.find((x) => x.path === p);
      if (typeof p !== 'string' || !f) return { err: `${keys[0]} must name the path of one of the module's files` };
      if (keys[0] === 'write' && !(f.mode & 0o222))
        return { err: `write names ${p}, which is not writable (mode ${f.mode.toString(8).padStart(4, '0')})` };
      return { t: keys[0] === 'read' ? { read: p } : { write: p } };
    }
    if (keys.length === 1 && keys[0] === 'everyMs') {
      const n = v.everyMs;
      if (typeof n === 'number' && Number.isInteger(n) && n >= 10 && n <= 86_400_000) return { t: { everyMs: n } };
      return { err: 'everyMs must be an integer from 10 to 86400000' };
    }
  }
  return { err: 'must be "load", "unload", {"read": path}, {"write": path} or {"everyMs": n}' };
}

/**
 * Checks a manifest (parsed JSON): every problem, each naming its field
 * (`parameters[1].perm: ...`). Returns the manifest with defaults filled in.
 */
export function validateLabManifest(json: unknown): LabValidation {
  const errors: string[] = [];
  if (!isObj(json)) return { ok: false, errors: ['manifest: must be a JSON object'] };
  for (const key of Object.keys(json))
    if (!MANIFEST_KEYS.includes(key)) errors.push(`${key}: unknown field (known: ${MANIFEST_KEYS.join(', ')})`);
  const reg = registry();

  // name
  const name = json.name;
  if (typeof name !== 'string' || !name) errors.push('name: required, a string');
  else if (!IDENT.test(name))
    errors.push(`name: ${str(name)} must be a C identifier (letters, digits, underscores; not starting with a digit)`);
  else if (name.length > 55) errors.push('name: longer than 55 characters (MODULE_NAME_LEN)');
  else if (reg.byName.has(name)) errors.push(`name: ${str(name)} is a module of the kernel's tree`);
  else if (reg.builtins.has(name)) errors.push(`name: ${str(name)} is a module built into the kernel`);
  const modName = typeof name === 'string' ? name : '';

  const optStr = (key: string, max = 255): string => {
    const v = json[key];
    if (v === undefined) return '';
    if (typeof v !== 'string' || v.includes('\n') || v.length > max) {
      errors.push(`${key}: must be a single-line string of at most ${max} characters`);
      return '';
    }
    return v;
  };
  const version = optStr('version', 64);
  const description = optStr('description');
  const license = json.license === undefined ? '' : optStr('license', 64);
  if (json.license === undefined) errors.push('license: required (e.g. "GPL"; a non-GPL-compatible license taints the kernel P)');
  else if (license === '' && typeof json.license === 'string') errors.push('license: must not be empty');

  let author: string[] = [];
  if (json.author !== undefined) {
    const a = typeof json.author === 'string' ? [json.author] : json.author;
    if (!Array.isArray(a) || a.some((x) => typeof x !== 'string' || x.includes('\n') || x.length > 255))
      errors.push('author: must be a string or an array of single-line strings');
    else author = a as string[];
  }

  const arr = (key: string, max: number): unknown[] => {
    const v = json[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      errors.push(`${key}: must be an array`);
      return [];
    }
    if (v.length > max) errors.push(`${key}: at most ${max} entries`);
    return v;
  };

  // parameters
  const parameters: LabParam[] = [];
  arr('parameters', LIMITS.params).forEach((p, i) => {
    const at = `parameters[${i}]`;
    if (!isObj(p)) return errors.push(`${at}: must be an object {name, type, default, perm, description}`);
    for (const k of Object.keys(p))
      if (!['name', 'type', 'default', 'perm', 'description'].includes(k)) errors.push(`${at}.${k}: unknown field`);
    const pn = p.name;
    if (typeof pn !== 'string' || !IDENT.test(pn)) errors.push(`${at}.name: must be a C identifier`);
    else if (parameters.some((x) => x.name === pn)) errors.push(`${at}.name: duplicate parameter ${str(pn)}`);
    const type = p.type as LabParamType;
    if (!LAB_PARAM_TYPES.includes(type)) errors.push(`${at}.type: must be one of ${LAB_PARAM_TYPES.join(', ')}`);
    const def = LAB_PARAM_TYPES.includes(type) ? normDefault(type, p.default) : undefined;
    if (LAB_PARAM_TYPES.includes(type) && def === undefined) errors.push(`${at}.default: ${str(p.default)} is not a valid ${type}`);
    const perm = p.perm === undefined ? 0o444 : parsePerm(p.perm);
    if (perm === undefined) errors.push(`${at}.perm: must be octal text like "0644" or a number of mode bits from 0 to 511`);
    else {
      const prob = permProblem(perm);
      if (prob) errors.push(`${at}.perm: 0${perm.toString(8).padStart(3, '0')} ${prob}`);
    }
    const d = p.description;
    if (d !== undefined && (typeof d !== 'string' || d.includes('\n') || d.length > 255))
      errors.push(`${at}.description: must be a single-line string`);
    if (typeof pn === 'string' && def !== undefined && perm !== undefined)
      parameters.push({ name: pn, type, default: def, perm, description: typeof d === 'string' ? d : '' });
  });

  // depends
  const depends: string[] = [];
  arr('depends', 64).forEach((d, i) => {
    const at = `depends[${i}]`;
    if (typeof d !== 'string' || !/^[A-Za-z0-9_-]+$/.test(d)) return errors.push(`${at}: must be a module name`);
    const n = d.replace(/-/g, '_');
    if (n === modName) return errors.push(`${at}: a module cannot depend on itself`);
    if (reg.builtins.has(n) && !reg.byName.has(n))
      return errors.push(`${at}: ${str(d)} is built into the kernel; only loadable modules can be dependencies`);
    if (depends.includes(n)) return errors.push(`${at}: duplicate dependency ${str(d)}`);
    depends.push(n);
  });

  // exported symbols
  const exportedSymbols: string[] = [];
  arr('exportedSymbols', LIMITS.symbols).forEach((s, i) => {
    if (typeof s !== 'string' || !IDENT.test(s) || s.length > 127)
      return errors.push(`exportedSymbols[${i}]: must be a C identifier of at most 127 characters`);
    if (exportedSymbols.includes(s)) return errors.push(`exportedSymbols[${i}]: duplicate symbol ${str(s)}`);
    exportedSymbols.push(s);
  });

  const messages = (key: 'initMessages' | 'exitMessages'): LabMessage[] => {
    const out: LabMessage[] = [];
    arr(key, LIMITS.messages).forEach((m, i) => {
      const at = `${key}[${i}]`;
      const mm = typeof m === 'string' ? { level: 6, text: m } : m;
      if (!isObj(mm)) return errors.push(`${at}: must be {level, text} or a string`);
      const lv = mm.level === undefined ? 6 : level(mm.level);
      if (lv === undefined) errors.push(`${at}.level: must be 0..7 or one of ${PRINTK_LEVELS.join(', ')}`);
      if (typeof mm.text !== 'string' || mm.text.includes('\n') || mm.text.length > LIMITS.text)
        errors.push(`${at}.text: must be a single line of at most ${LIMITS.text} characters`);
      else if (lv !== undefined) out.push({ level: lv, text: mm.text });
    });
    return out;
  };
  const initMessages = messages('initMessages');
  const exitMessages = messages('exitMessages');

  // files
  const files: LabFile[] = [];
  arr('files', LIMITS.files).forEach((f, i) => {
    const at = `files[${i}]`;
    if (!isObj(f)) return errors.push(`${at}: must be an object {path, mode, content | param | counter}`);
    for (const k of Object.keys(f))
      if (!['fs', 'path', 'mode', 'content', 'param', 'counter', 'increment'].includes(k)) errors.push(`${at}.${k}: unknown field`);
    const p = f.path;
    if (typeof p !== 'string') return errors.push(`${at}.path: required, a string`);
    const prob = pathProblem(p, modName);
    if (prob) return errors.push(`${at}.path: ${str(p)} ${prob}`);
    const fsKind = p.startsWith('/proc/') ? 'procfs' : 'sysfs';
    if (f.fs !== undefined && f.fs !== fsKind) errors.push(`${at}.fs: ${str(f.fs)} does not match the path (${fsKind})`);
    if (files.some((x) => x.path === p)) return errors.push(`${at}.path: duplicate file ${p}`);
    if (files.some((x) => x.path.startsWith(p + '/') || p.startsWith(x.path + '/')))
      return errors.push(`${at}.path: ${p} is both a file and a directory of the manifest`);
    const mode = f.mode === undefined ? 0o444 : parsePerm(f.mode);
    if (mode === undefined) errors.push(`${at}.mode: must be octal text like "0444" or a number of mode bits from 0 to 511`);
    else if (fsKind === 'sysfs' && permProblem(mode)) errors.push(`${at}.mode: 0${mode.toString(8)} ${permProblem(mode)}`);
    const sources = (['content', 'param', 'counter'] as const).filter((k) => f[k] !== undefined);
    if (sources.length !== 1) errors.push(`${at}: exactly one of content, param, counter`);
    if (f.content !== undefined && (typeof f.content !== 'string' || f.content.length > 65536))
      errors.push(`${at}.content: must be a string of at most 65536 characters`);
    if (
      f.param !== undefined &&
      !(typeof f.param === 'string' && Array.isArray(json.parameters) && parameters.some((x) => x.name === f.param))
    )
      errors.push(`${at}.param: must name one of the module's parameters`);
    if (f.counter !== undefined && (typeof f.counter !== 'string' || !IDENT.test(f.counter)))
      errors.push(`${at}.counter: must be a C identifier`);
    if (f.increment !== undefined && !['read', 'write', 'none'].includes(f.increment as string))
      errors.push(`${at}.increment: must be "read", "write" or "none"`);
    if (f.increment !== undefined && f.counter === undefined) errors.push(`${at}.increment: only for counter files`);
    if (mode === undefined || sources.length !== 1) return;
    const file: LabFile = { fs: fsKind, path: p, mode };
    if (typeof f.content === 'string') file.content = f.content;
    if (typeof f.param === 'string') file.param = f.param;
    if (typeof f.counter === 'string') {
      file.counter = f.counter;
      file.increment = (f.increment as LabFile['increment']) ?? 'read';
    }
    files.push(file);
  });

  // behaviours
  const behaviours: LabBehaviour[] = [];
  arr('behaviours', LIMITS.behaviours).forEach((b, i) => {
    const at = `behaviours[${i}]`;
    if (!isObj(b)) return errors.push(`${at}: must be an object {kind, ...}`);
    const kind = b.kind;
    if (typeof kind !== 'string' || !BEHAVIOUR_KINDS.includes(kind))
      return errors.push(`${at}.kind: must be one of ${BEHAVIOUR_KINDS.join(', ')}`);
    const allowed: Record<string, string[]> = {
      leak: ['pagesPerSecond'],
      'use-after-free': ['on', 'objectSize'],
      'out-of-bounds': ['on', 'objectSize', 'offset'],
      'lock-inversion': ['on', 'locks'],
      panic: ['on', 'message'],
    };
    for (const k of Object.keys(b))
      if (k !== 'kind' && !(allowed[kind] ?? ['on']).includes(k)) errors.push(`${at}.${k}: unknown field for kind ${str(kind)}`);
    if (kind === 'leak') {
      const n = b.pagesPerSecond;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65536)
        return errors.push(`${at}.pagesPerSecond: must be an integer from 1 to 65536`);
      if (behaviours.some((x) => x.kind === 'leak')) return errors.push(`${at}: only one leak behaviour per module`);
      return behaviours.push({ kind: 'leak', pagesPerSecond: n });
    }
    const tr = validTrigger(b.on, files);
    if (!tr.t) return errors.push(`${at}.on: ${tr.err}`);
    const on = tr.t;
    const size = (k: 'objectSize' | 'offset', min: number): number | undefined => {
      const v = b[k];
      if (v === undefined) return undefined;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 1 << 20) {
        errors.push(`${at}.${k}: must be an integer from ${min} to ${1 << 20}`);
        return undefined;
      }
      return v;
    };
    switch (kind) {
      case 'use-after-free': {
        const objectSize = size('objectSize', 1);
        return behaviours.push(objectSize === undefined ? { kind, on } : { kind, on, objectSize });
      }
      case 'out-of-bounds': {
        const o: LabBehaviour = { kind, on };
        const objectSize = size('objectSize', 1);
        const offset = size('offset', 0);
        if (objectSize !== undefined) o.objectSize = objectSize;
        if (offset !== undefined) o.offset = offset;
        return behaviours.push(o);
      }
      case 'lock-inversion': {
        const l = b.locks;
        if (!Array.isArray(l) || l.length !== 2 || l.some((x) => typeof x !== 'string' || !IDENT.test(x)) || l[0] === l[1])
          return errors.push(`${at}.locks: must be two different lock names (C identifiers)`);
        return behaviours.push({ kind, on, locks: [l[0] as string, l[1] as string] });
      }
      case 'panic': {
        const m = b.message;
        if (m !== undefined && (typeof m !== 'string' || m.includes('\n') || m.length > 200))
          return errors.push(`${at}.message: must be a single line of at most 200 characters`);
        return behaviours.push(typeof m === 'string' ? { kind, on, message: m } : { kind, on });
      }
      default:
        return behaviours.push({ kind: kind as 'bug', on });
    }
  });

  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    manifest: {
      name: modName,
      version,
      license,
      description,
      author,
      parameters,
      depends,
      exportedSymbols,
      initMessages,
      exitMessages,
      files,
      behaviours,
    },
  };
}

// ---------------------------------------------------------------- module view of a manifest

export const LAB_DIR = 'extra';

/** FNV-1a over a string, 32 bits. */
export function fnv32(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The srcversion modpost would compute (an MD4 of the sources): 23 hex digits, from the manifest. */
export function labSrcversion(m: LabManifest): string {
  const j = JSON.stringify(m);
  let out = '';
  for (let i = 0; out.length < 23; i++)
    out += fnv32(j, 0x811c9dc5 + i * 0x9e3779b1)
      .toString(16)
      .toUpperCase()
      .padStart(8, '0');
  return out.slice(0, 23);
}

/** core (text+data) size once loaded: a page-aligned estimate from what the manifest declares */
export function labCoreSize(m: LabManifest): number {
  const items = m.parameters.length + m.files.length + m.exportedSymbols.length + m.behaviours.length;
  return 16384 + Math.floor(items / 8) * 4096;
}

/** the init sections, freed once module_init returned */
export const LAB_INIT_SIZE = 12288;

/** The ModuleInfo the loader and kmod tools see for a lab module. */
export function labModuleInfo(m: LabManifest): ModuleInfo {
  const params: ModParam[] = m.parameters.map((p) => ({ name: p.name, description: p.description, type: p.type }));
  const extra: Record<string, string> = { srcversion: labSrcversion(m) };
  if (m.version) extra.version = m.version;
  const core = labCoreSize(m);
  return {
    index: -1,
    name: m.name,
    relPath: `${LAB_DIR}/${m.name}.ko`,
    koSize: core * 2 + 4096,
    coreSize: core,
    depends: [...m.depends],
    dependsRaw: m.depends.join(','),
    depLine: [],
    licenses: [m.license],
    description: m.description,
    authors: [...m.author],
    params,
    aliases: [],
    softdeps: [],
    symbols: [...m.exportedSymbols],
    extra,
    order: ['version', 'description', 'author', 'license', 'srcversion', 'depends'],
  };
}

export const VERMAGIC = `${KERNEL_RELEASE} SMP preempt mod_unload modversions `;
