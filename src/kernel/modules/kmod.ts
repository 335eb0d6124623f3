/**
 * The kmod tools as pure functions over the machine: modprobe, insmod, rmmod,
 * lsmod, modinfo. Each returns what kmod 30 prints ({stdout, stderr,
 * exitCode}); argv excludes the program name.
 */
import { isKernelError, STRERROR, type ErrnoName } from '../errors';
import type { Kernel } from '../kernel';
import { KERNEL_RELEASE } from '../types';
import { kernfsOrder } from './taint';
import { MODULE_DIR, type ModuleInfo, modName, registry, resolveName } from './registry';

export interface CmdResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const ok = (stdout = '', stderr = ''): CmdResult => ({ stdout, stderr, exitCode: 0 });
const fail = (stderr: string, stdout = ''): CmdResult => ({ stdout, stderr, exitCode: 1 });

interface Parsed {
  flags: Set<string>;
  opts: Map<string, string>;
  args: string[];
}

/** getopt_long-ish: short flags may be grouped; `valued` take the next word. */
function parseArgs(argv: readonly string[], long: Record<string, string>, valued: string[] = []): Parsed {
  const flags = new Set<string>();
  const opts = new Map<string, string>();
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (args.length > 0 || a === '-' || !a.startsWith('-')) {
      args.push(a);
      continue;
    }
    if (a.startsWith('--')) {
      const [k, v] = a.slice(2).split('=', 2);
      const f = long[k] ?? k;
      if (valued.includes(f)) opts.set(f, v ?? argv[++i] ?? '');
      else flags.add(f);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const f = a[j];
      if (valued.includes(f)) {
        opts.set(f, a.slice(j + 1) || argv[++i] || '');
        break;
      }
      flags.add(f);
    }
  }
  return { flags, opts, args };
}

/** libkmod's mod_strerror() for init_module errors. */
function modStrerror(code: ErrnoName): string {
  switch (code) {
    case 'ENOEXEC':
      return 'Invalid module format';
    case 'ENOENT':
      return 'Unknown symbol in module';
    case 'ESRCH':
      return 'Module has wrong symbol version';
    case 'EINVAL':
      return 'Invalid parameters';
    default:
      return STRERROR[code];
  }
}

const pathOf = (m: ModuleInfo): string => `${MODULE_DIR}/${m.relPath}`;

/** The first softdep line's pre/post names (kmod uses only the first match). */
function softdeps(m: ModuleInfo): { pre: string[]; post: string[] } {
  const pre: string[] = [];
  const post: string[] = [];
  const line = m.softdeps[0];
  if (!line) return { pre, post };
  let cur = pre;
  for (const w of line.split(/\s+/)) {
    if (w === 'pre:') cur = pre;
    else if (w === 'post:') cur = post;
    else if (w) cur.push(w);
  }
  return { pre, post };
}

type ProbeItem = { kind: 'module' | 'builtin'; name: string };

/** kmod_module_get_probe_list(): softdeps, dependencies, the module; duplicates kept like kmod. */
export function probeList(name: string): ProbeItem[] {
  const reg = registry();
  const out: ProbeItem[] = [];
  const visited = new Set<string>();
  const lookup = (n: string): ProbeItem[] => resolveName(n);
  const getList = (it: ProbeItem): void => {
    if (visited.has(it.name)) return;
    visited.add(it.name);
    const info = reg.byName.get(it.name);
    if (info) for (const d of [...info.depLine].reverse()) fillSoftdep({ kind: 'module', name: d });
    fillSoftdep(it);
  };
  const fillSoftdep = (it: ProbeItem): void => {
    const info = it.kind === 'module' ? reg.byName.get(it.name) : undefined;
    const sd = info ? softdeps(info) : { pre: [], post: [] };
    for (const p of sd.pre) for (const m of lookup(p)) getList(m);
    out.push(it);
    for (const p of sd.post) for (const m of lookup(p)) getList(m);
  };
  for (const it of resolveName(name)) getList(it);
  return out;
}

/** modprobe [-v] [-n] [-q] [-r] [--show-depends] name [param=value...] */
export function modprobe(k: Kernel, argv: readonly string[]): CmdResult {
  const { flags, args } = parseArgs(argv, {
    verbose: 'v',
    'dry-run': 'n',
    remove: 'r',
    quiet: 'q',
    'show-depends': 'D',
    force: 'f',
  });
  const verbose = flags.has('v');
  const quiet = flags.has('q');
  if (args.length === 0) return fail('modprobe: ERROR: missing parameters. See -h.\n');
  if (flags.has('r')) return modprobeRemove(k, args, verbose, quiet, flags.has('n'));
  const [name, ...params] = args;
  const show = flags.has('D');
  const dry = flags.has('n') || show;
  const targets = resolveName(name);
  if (targets.length === 0) {
    return fail(quiet ? '' : `modprobe: FATAL: Module ${name} not found in directory ${MODULE_DIR}\n`);
  }
  let stdout = '';
  const done = new Set<string>();
  for (const target of targets) {
    if (target.kind === 'builtin') {
      if (show) stdout += `builtin ${target.name}\n`;
      continue;
    }
    if (!show && k.modules.isLoaded(target.name)) continue;
    for (const it of probeList(target.name)) {
      if (it.kind === 'builtin') {
        if (show) stdout += `builtin ${it.name}\n`;
        continue;
      }
      if (!show && (k.modules.isLoaded(it.name) || done.has(it.name))) continue;
      const info = registry().byName.get(it.name) as ModuleInfo;
      const opts = it.name === target.name ? params.join(' ') : '';
      if (verbose || show) stdout += `insmod ${pathOf(info)} ${opts}\n`;
      if (dry) continue;
      try {
        k.modules.load(it.name, it.name === target.name ? params : []);
        done.add(it.name);
      } catch (e) {
        if (!isKernelError(e)) throw e;
        return fail(`modprobe: ERROR: could not insert '${it.name}': ${modStrerror(e.code)}\n`, stdout);
      }
    }
  }
  return ok(stdout);
}

function modprobeRemove(k: Kernel, names: readonly string[], verbose: boolean, quiet: boolean, dry: boolean): CmdResult {
  let stdout = '';
  const reg = registry();
  const remove = (name: string): void => {
    if (verbose) stdout += `rmmod ${name}\n`;
    if (!dry) k.modules.unload(name);
  };
  for (const arg of names) {
    const targets = resolveName(arg);
    if (targets.length === 0) return fail(quiet ? '' : `modprobe: FATAL: Module ${arg} not found.\n`, stdout);
    for (const t of targets) {
      if (t.kind === 'builtin') return fail(quiet ? '' : `modprobe: FATAL: Module ${t.name} is builtin.\n`, stdout);
      const m = k.modules.find(t.name);
      if (!m) return fail(quiet ? '' : `modprobe: FATAL: Module ${t.name} is not in kernel.\n`, stdout);
      if (k.modules.refcount(m) > 0) return fail(quiet ? '' : `modprobe: FATAL: Module ${t.name} is in use.\n`, stdout);
      remove(t.name);
      // then its dependencies that nothing uses any more, modules.dep order
      for (const d of reg.byName.get(t.name)?.depLine ?? []) {
        const dm = k.modules.find(d);
        if (dm && k.modules.refcount(dm) === 0) remove(d);
      }
    }
  }
  return ok(stdout);
}

/** Finds the module an insmod path names (only the tree under /lib/modules/<release> exists). */
function moduleByPath(path: string): ModuleInfo | undefined {
  const prefix = `${MODULE_DIR}/`;
  const norm = path.replace(/\/+/g, '/');
  return norm.startsWith(prefix) ? registry().byPath.get(norm.slice(prefix.length)) : undefined;
}

/** insmod [-f] path [param=value...] */
export function insmod(k: Kernel, argv: readonly string[]): CmdResult {
  const { flags, args } = parseArgs(argv, { force: 'f' });
  if (args.length === 0) return fail('insmod: ERROR: missing filename.\n');
  const [path, ...params] = args;
  const info = moduleByPath(path);
  if (!info) return fail(`insmod: ERROR: could not load module ${path}: No such file or directory\n`);
  try {
    k.modules.load(info.name, params, { force: flags.has('f') });
  } catch (e) {
    if (!isKernelError(e)) throw e;
    return fail(`insmod: ERROR: could not insert module ${path}: ${modStrerror(e.code)}\n`);
  }
  return ok();
}

/** rmmod [-f] [-v] [-s] name... */
export function rmmod(k: Kernel, argv: readonly string[]): CmdResult {
  const { flags, args } = parseArgs(argv, { force: 'f', verbose: 'v', syslog: 's' });
  if (args.length === 0) return fail('rmmod: ERROR: missing module name.\n');
  const force = flags.has('f');
  let stderr = '';
  let failed = 0;
  for (const arg of args) {
    const name = modName((arg.split('/').pop() ?? arg).replace(/\.ko(\.xz|\.zst|\.gz)?$/, ''));
    if (!force) {
      if (k.modules.isBuiltin(name)) {
        stderr += `rmmod: ERROR: Module ${name} is builtin.\n`;
        failed++;
        continue;
      }
      const m = k.modules.find(name);
      if (!m || m.state !== 'live') {
        stderr += `rmmod: ERROR: Module ${name} is not currently loaded\n`;
        failed++;
        continue;
      }
      if (m.holders.length) {
        stderr += `rmmod: ERROR: Module ${name} is in use by: ${kernfsOrder(m.holders).join(' ')}\n`;
        failed++;
        continue;
      }
      if (k.modules.refcount(m) > 0) {
        stderr += `rmmod: ERROR: Module ${name} is in use\n`;
        failed++;
        continue;
      }
    }
    try {
      k.modules.unload(name, { force });
    } catch (e) {
      if (!isKernelError(e)) throw e;
      stderr += `rmmod: ERROR: could not remove module ${arg}: ${STRERROR[e.code]}\n`;
      failed++;
    }
  }
  return { stdout: '', stderr, exitCode: failed ? 1 : 0 };
}

/** lsmod: /proc/modules order, refcnt and holders (sysfs readdir order). */
export function lsmod(k: Kernel): CmdResult {
  return ok(k.modules.memo('lsmod', () => renderLsmod(k)));
}

function renderLsmod(k: Kernel): string {
  const lines = ['Module                  Size  Used by'];
  for (const m of k.modules.list()) {
    let line = k.modules.linePrefix(m) + k.modules.refcount(m);
    if (m.holders.length) line += ' ' + kernfsOrder(m.holders).join(',');
    lines.push(line);
  }
  return lines.join('\n') + '\n';
}

const VERMAGIC = `${KERNEL_RELEASE} SMP preempt mod_unload modversions `;
const DEFAULT_ORDER = ['version', 'softdep', 'license', 'description', 'author', 'alias', 'srcversion', 'depends'];

/** A deterministic stand-in for a module signature we do not have: 512 bytes. */
function fakeSignature(name: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  const bytes: string[] = [];
  for (let i = 0; i < 512; i++) {
    h ^= h << 13;
    h ^= h >>> 17;
    h ^= h << 5;
    h >>>= 0;
    bytes.push((h & 0xff).toString(16).toUpperCase().padStart(2, '0'));
  }
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 20) lines.push(bytes.slice(i, i + 20).join(':') + (i + 20 < bytes.length ? ':' : ''));
  return lines.join('\n');
}

function paramLine(name: string, desc: string, type: string): string {
  if (!desc) return `${name}:${type}`;
  return type ? `${name}:${desc} (${type})` : `${name}:${desc}`;
}

/** [field, value] pairs modinfo prints for a module of the tree. */
export function modinfoFields(m: ModuleInfo): [string, string][] {
  const out: [string, string][] = [['filename', pathOf(m)]];
  const x = m.extra;
  const values: Record<string, string[]> = {
    version: x.version ? [x.version] : [],
    softdep: [...m.softdeps],
    license: [...m.licenses],
    description: m.description ? [m.description] : [],
    author: [...m.authors],
    alias: [...m.aliases],
    srcversion: x.srcversion ? [x.srcversion] : [],
    depends: [m.dependsRaw],
  };
  for (const key of m.order ?? DEFAULT_ORDER) for (const v of values[key] ?? []) out.push([key, v]);
  out.push(['retpoline', 'Y'], ['intree', 'Y'], ['name', m.name], ['vermagic', VERMAGIC]);
  out.push(
    ['sig_id', 'PKCS#7'],
    ['signer', 'Build time autogenerated kernel key'],
    ['sig_key', registry().sigKey],
    ['sig_hashalgo', 'sha256'],
  );
  out.push(['signature', x.signature ?? fakeSignature(m.name)]);
  for (const p of m.params) out.push(['parm', paramLine(p.name, p.description, p.type)]);
  return out;
}

/** [field, value] pairs modinfo prints for a built-in module (modules.builtin.modinfo). */
export function modinfoBuiltinFields(name: string): [string, string][] {
  const recs = registry().builtins.get(name) ?? [];
  const out: [string, string][] = [
    ['name', name],
    ['filename', '(builtin)'],
  ];
  const parms: { name: string; desc: string; type: string }[] = [];
  for (const [key, v] of recs) {
    if (key === 'parm' || key === 'parmtype') {
      const i = v.indexOf(':');
      const pn = v.slice(0, i);
      let p = parms.find((x) => x.name === pn);
      if (!p) parms.push((p = { name: pn, desc: '', type: '' }));
      if (key === 'parm') p.desc = v.slice(i + 1);
      else p.type = v.slice(i + 1);
    } else out.push([key, v]);
  }
  for (const p of parms.reverse()) out.push(['parm', paramLine(p.name, p.desc, p.type)]);
  return out;
}

/** modinfo [-F field] [-0] name|path... */
export function modinfo(_k: Kernel, argv: readonly string[]): CmdResult {
  const { flags, opts, args } = parseArgs(argv, { field: 'F', null: '0' }, ['F']);
  if (args.length === 0) return fail('modinfo: ERROR: missing module or filename.\n');
  const field = opts.get('F');
  const sep = flags.has('0') ? '\0' : '\n';
  let stdout = '';
  let stderr = '';
  let failed = 0;
  for (const arg of args) {
    const byPath = arg.includes('/') ? moduleByPath(arg) : undefined;
    const targets = byPath ? [{ kind: 'module' as const, name: byPath.name }] : arg.includes('/') ? [] : resolveName(arg);
    if (targets.length === 0) {
      stderr += `modinfo: ERROR: Module ${arg} not found.\n`;
      failed++;
      continue;
    }
    for (const t of targets) {
      const fields = t.kind === 'builtin' ? modinfoBuiltinFields(t.name) : modinfoFields(registry().byName.get(t.name) as ModuleInfo);
      for (const [key, v] of fields) {
        if (field !== undefined) {
          if (key === field) stdout += v + sep;
          continue;
        }
        const shown = key === 'signature' ? v.replace(/\n/g, '\n\t\t') : v;
        stdout += `${(key + ':').padEnd(16)}${shown}${sep}`;
      }
    }
  }
  return { stdout, stderr, exitCode: failed ? 1 : 0 };
}
