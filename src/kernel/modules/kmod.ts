/**
 * The kmod tools as pure functions over the machine: modprobe, insmod, rmmod,
 * lsmod, modinfo. Each returns what kmod 30 prints ({stdout, stderr,
 * exitCode}); argv excludes the program name.
 */
import { isKernelError, STRERROR, type ErrnoName } from '../errors';
import type { Kernel } from '../kernel';
import { KERNEL_RELEASE } from '../types';
import { kernfsOrder } from './taint';
import { type ModprobeConfig, configAliases, emptyConfig, readConfig, softdepOf } from './config';
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

/** modprobe's text for an insert error (kmod's tools/modprobe.c). */
function modprobeInsertError(name: string, code: ErrnoName): string {
  if (code === 'EEXIST') return `modprobe: ERROR: could not insert '${name}': Module already in kernel\n`;
  if (code === 'ENOENT') return `modprobe: ERROR: could not insert '${name}': Unknown symbol in module, or unknown parameter (see dmesg)\n`;
  return `modprobe: ERROR: could not insert '${name}': ${STRERROR[code]}\n`;
}

const pathOf = (m: ModuleInfo): string => `${MODULE_DIR}/${m.relPath}`;

type ProbeItem = { kind: 'module' | 'builtin'; name: string };

/** The module view kmod has: the tree, the machine's lab modules, its modprobe.d configuration. */
interface Ctx {
  k?: Kernel;
  cfg: ModprobeConfig;
}

const infoOf = (c: Ctx, name: string): ModuleInfo | undefined => registry().byName.get(name) ?? c.k?.modules.info(name);

/**
 * kmod_module_new_from_lookup(): config aliases, a module of that name (tree
 * or lab), a built-in, a name with an install command, then modules.alias.
 */
function lookup(c: Ctx, name: string): ProbeItem[] {
  if (c.cfg.aliases.length) {
    const viaCfg = configAliases(c.cfg, name);
    if (viaCfg.length) return viaCfg.map((n) => ({ kind: registry().builtins.has(n) && !infoOf(c, n) ? 'builtin' : 'module', name: n }));
  }
  const n = modName(name);
  if (c.k && !registry().byName.has(n) && c.k.modules.labManifest(n)) return [{ kind: 'module', name: n }];
  const found = resolveName(name);
  if (found.length === 0 && c.cfg.install.has(n)) return [{ kind: 'module', name: n }];
  return found;
}

/** kmod_module_get_probe_list(): softdeps, dependencies, the module; duplicates kept like kmod. */
function probeListIn(c: Ctx, target: ProbeItem, ignoreCmd: boolean): ProbeItem[] {
  const out: ProbeItem[] = [];
  const visited = new Set<string>();
  const getList = (it: ProbeItem, isTarget: boolean): void => {
    if (visited.has(it.name)) return;
    visited.add(it.name);
    const info = it.kind === 'module' ? infoOf(c, it.name) : undefined;
    if (info) for (let i = info.depLine.length - 1; i >= 0; i--) fillSoftdep({ kind: 'module', name: info.depLine[i] });
    if (isTarget && ignoreCmd) out.push(it);
    else fillSoftdep(it);
  };
  const fillSoftdep = (it: ProbeItem): void => {
    const sd = it.kind === 'module' ? softdepOf(c.cfg, it.name) : undefined;
    if (sd) for (const p of sd.pre) for (const m of lookup(c, p)) getList(m, false);
    out.push(it);
    if (sd) for (const p of sd.post) for (const m of lookup(c, p)) getList(m, false);
  };
  getList(target, true);
  return out;
}

/** The probe list of a name as request_module() / modprobe -q would load it (no config, no labs). */
export function probeList(name: string, k?: Kernel): ProbeItem[] {
  const c: Ctx = { k, cfg: k ? readConfig(k) : emptyConfig() };
  return lookup(c, name).flatMap((t) => probeListIn(c, t, false));
}

/** Install/remove commands the model can run: true/false, and modprobe --ignore-install chains. */
function runCommand(k: Kernel, cmd: string, kind: 'install' | 'remove', name: string, opts: string, pid: number): CmdResult {
  const words = cmd
    .replace(/\$CMDLINE_OPTS/g, opts)
    .trim()
    .split(/\s*;\s*|\s*&&\s*/);
  let out = ok();
  for (const part of words) {
    const w = part.split(/\s+/).filter(Boolean);
    if (!w.length) continue;
    const prog = w[0].split('/').pop();
    if (prog === 'false') out = { stdout: out.stdout, stderr: out.stderr, exitCode: 1 };
    else if (prog === 'modprobe') {
      const r = modprobe(k, w.slice(1), { pid });
      out = { stdout: out.stdout + r.stdout, stderr: out.stderr + r.stderr, exitCode: r.exitCode };
    } else if (prog !== 'true' && prog !== ':') continue;
    if (out.exitCode !== 0) break;
  }
  if (out.exitCode !== 0)
    out.stderr += `modprobe: ERROR: Error running ${kind} command '${cmd}' for module ${name}: retcode ${out.exitCode}\n`;
  return out;
}

/**
 * modprobe [-v] [-n] [-q] [-r] [-a] [-b] [-i] [--first-time] [--show-depends] name [param=value...]
 * with /etc/modprobe.d/*.conf read from the machine. `pid` is the calling
 * task, passed to lab-module behaviours.
 */
export function modprobe(k: Kernel, argv: readonly string[], opts: { pid?: number } = {}): CmdResult {
  const { flags, args } = parseArgs(argv, {
    verbose: 'v',
    'dry-run': 'n',
    remove: 'r',
    quiet: 'q',
    all: 'a',
    'use-blacklist': 'b',
    'ignore-install': 'i',
    'ignore-remove': 'i',
    'first-time': 'T',
    'show-depends': 'D',
    force: 'f',
  });
  const quiet = flags.has('q');
  if (args.length === 0) return fail('modprobe: ERROR: missing parameters. See -h.\n');
  const c: Ctx = { k, cfg: readConfig(k) };
  const pid = opts.pid ?? 0;
  if (flags.has('r')) return modprobeRemove(k, c, args, flags, pid);
  const names = flags.has('a') ? args : [args[0]];
  const params = flags.has('a') ? [] : args.slice(1);
  let stdout = '';
  let stderr = '';
  for (const name of names) {
    const r = modprobeOne(k, c, name, params, flags, pid);
    stdout += r.stdout;
    stderr += r.stderr;
    if (r.exitCode !== 0) return { stdout, stderr: quiet && r.notFound ? '' : stderr, exitCode: r.exitCode };
  }
  return { stdout, stderr, exitCode: 0 };
}

function modprobeOne(
  k: Kernel,
  c: Ctx,
  name: string,
  params: readonly string[],
  flags: ReadonlySet<string>,
  pid: number,
): CmdResult & { notFound?: boolean } {
  const verbose = flags.has('v');
  const show = flags.has('D');
  const dry = flags.has('n') || show;
  const ignoreLoaded = show;
  const ignoreCmd = flags.has('i');
  const targets = lookup(c, name);
  if (targets.length === 0) {
    return { ...fail(`modprobe: FATAL: Module ${name} not found in directory ${MODULE_DIR}\n`), notFound: true };
  }
  const viaAlias = (t: ProbeItem): boolean => t.name !== modName(name);
  let stdout = '';
  let stderr = '';
  for (const target of targets) {
    if (target.kind === 'builtin') {
      if (show) stdout += `builtin ${target.name}\n`;
      continue;
    }
    if (!ignoreLoaded && k.modules.isLoaded(target.name)) {
      if (flags.has('T')) return fail(stderr + modprobeInsertError(target.name, 'EEXIST'), stdout);
      continue;
    }
    // blacklist: modules reached through an alias (any name with -b)
    if ((viaAlias(target) || flags.has('b')) && c.cfg.blacklist.has(target.name)) continue;
    const list = probeListIn(c, target, ignoreCmd);
    const required = new Set([target.name, ...(infoOf(c, target.name)?.depLine ?? [])]);
    for (const it of list) {
      if (it.kind === 'builtin') {
        if (show) stdout += `builtin ${it.name}\n`;
        continue;
      }
      if (!ignoreLoaded && k.modules.isLoaded(it.name)) continue;
      const info = infoOf(c, it.name);
      const cfgOpts = c.cfg.options.get(it.name) ?? [];
      const words = it.name === target.name ? [...cfgOpts, ...params] : cfgOpts;
      const optText = words.join(' ');
      const cmd = c.cfg.install.get(it.name);
      const useCmd = cmd !== undefined && !(ignoreCmd && it.name === target.name);
      if (useCmd) {
        if (verbose || show) stdout += `install ${cmd} ${optText}\n`;
        if (dry) continue;
        const r = runCommand(k, cmd, 'install', it.name, optText, pid);
        stdout += r.stdout;
        stderr += r.stderr;
        if (r.exitCode !== 0 && required.has(it.name)) return fail(stderr + modprobeInsertError(it.name, 'EINVAL'), stdout);
        continue;
      }
      if (!info) {
        if (required.has(it.name))
          return fail(stderr + `modprobe: FATAL: Module ${it.name} not found in directory ${MODULE_DIR}\n`, stdout);
        continue;
      }
      if (verbose || show) stdout += `insmod ${pathOf(info)} ${optText}\n`;
      if (dry) continue;
      try {
        k.modules.load(it.name, words, { force: flags.has('f'), pid });
      } catch (e) {
        if (!isKernelError(e)) throw e;
        // errors of softdeps are ignored; already loaded is fine
        if (e.code === 'EEXIST' || !required.has(it.name)) continue;
        return fail(stderr + modprobeInsertError(it.name, e.code), stdout);
      }
    }
  }
  return { stdout, stderr, exitCode: 0 };
}

/** modprobe -r: post softdeps, the module, its unused dependencies, pre softdeps (kmod 30 order). */
function modprobeRemove(k: Kernel, c: Ctx, names: readonly string[], flags: ReadonlySet<string>, pid: number): CmdResult {
  const verbose = flags.has('v');
  const quiet = flags.has('q');
  const dry = flags.has('n');
  const firstTime = flags.has('T');
  const force = flags.has('f');
  let stdout = '';
  let stderr = '';
  const log = (msg: string): void => {
    if (!quiet) stderr += `modprobe: FATAL: ${msg}\n`;
  };
  /** rmmod_do_remove_module(): 0 or an error */
  const removeModule = (name: string): boolean => {
    if (verbose) stdout += `rmmod ${name}\n`;
    if (dry) return true;
    try {
      k.modules.unload(name, { force, pid });
      return true;
    } catch (e) {
      if (!isKernelError(e)) throw e;
      if (e.code === 'ENOENT') {
        if (firstTime) log(`Module ${name} is not in kernel.`);
        return !firstTime;
      }
      if (!quiet) stderr += `modprobe: ERROR: could not remove '${name}': ${STRERROR[e.code]}\n`;
      return false;
    }
  };
  const doModule = (name: string, withDeps: boolean, nolog: boolean): boolean => {
    const sd = flags.has('i') ? undefined : softdepOf(c.cfg, name);
    const cmd = flags.has('i') ? undefined : c.cfg.remove.get(name);
    if (cmd === undefined) {
      const m = k.modules.find(name);
      if (!m) {
        if (registry().builtins.has(name)) {
          if (!nolog) log(`Module ${name} is builtin.`);
          return false;
        }
        if (firstTime && !nolog) log(`Module ${name} is not in kernel.`);
        return !(firstTime && !nolog);
      }
    }
    for (const p of [...(sd?.post ?? [])].reverse()) for (const t of lookup(c, p)) doModule(t.name, false, true);
    if (cmd === undefined && !force) {
      const m = k.modules.find(name);
      if (m && k.modules.refcount(m) > 0) {
        if (!nolog) log(`Module ${name} is in use.`);
        return false;
      }
    }
    if (cmd !== undefined) {
      if (verbose) stdout += `remove ${cmd}\n`;
      if (!dry) {
        const r = runCommand(k, cmd, 'remove', name, '', pid);
        stdout += r.stdout;
        stderr += r.stderr;
        if (r.exitCode !== 0) return false;
      }
    } else if (!removeModule(name)) return false;
    if (withDeps && cmd === undefined) {
      const line = infoOf(c, name)?.depLine ?? [];
      for (let i = line.length - 1; i >= 0; i--) {
        const dm = k.modules.find(line[i]);
        if (dm && k.modules.refcount(dm) === 0) removeModule(line[i]);
      }
    }
    for (const p of [...(sd?.pre ?? [])].reverse()) for (const t of [...lookup(c, p)].reverse()) doModule(t.name, false, true);
    return true;
  };
  for (const arg of names) {
    const targets = lookup(c, arg);
    if (targets.length === 0) {
      log(`Module ${arg} not found.`);
      return { stdout, stderr, exitCode: 1 };
    }
    for (const t of targets) if (!doModule(t.name, true, false)) return { stdout, stderr, exitCode: 1 };
  }
  return { stdout, stderr, exitCode: 0 };
}

/** Finds the module an insmod path names: the tree under /lib/modules/<release>, or a lab module's <name>.ko anywhere. */
function moduleByPath(path: string, k?: Kernel): ModuleInfo | undefined {
  const prefix = `${MODULE_DIR}/`;
  const norm = path.replace(/\/+/g, '/');
  const inTree = norm.startsWith(prefix) ? registry().byPath.get(norm.slice(prefix.length)) : undefined;
  if (inTree || !k) return inTree;
  const base = /([^/]+)\.ko$/.exec(norm)?.[1];
  return base ? (k.modules.labManifest(modName(base)) ? k.modules.info(modName(base)) : undefined) : undefined;
}

/** insmod [-f] path [param=value...] */
export function insmod(k: Kernel, argv: readonly string[], opts: { pid?: number } = {}): CmdResult {
  const { flags, args } = parseArgs(argv, { force: 'f' });
  if (args.length === 0) return fail('insmod: ERROR: missing filename.\n');
  const [path, ...params] = args;
  const info = moduleByPath(path, k);
  if (!info) return fail(`insmod: ERROR: could not load module ${path}: No such file or directory\n`);
  try {
    k.modules.load(info.name, params, { force: flags.has('f'), pid: opts.pid });
  } catch (e) {
    if (!isKernelError(e)) throw e;
    return fail(`insmod: ERROR: could not insert module ${path}: ${modStrerror(e.code)}\n`);
  }
  return ok();
}

/** rmmod [-f] [-v] [-s] name... */
export function rmmod(k: Kernel, argv: readonly string[], opts: { pid?: number } = {}): CmdResult {
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
      if (!m) {
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
      k.modules.unload(name, { force, pid: opts.pid });
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
  if (m.index < 0) {
    // an out-of-tree, unsigned module (a lab module): no intree tag, no signature
    out.push(['retpoline', 'Y'], ['name', m.name], ['vermagic', VERMAGIC]);
    for (const p of m.params) out.push(['parm', paramLine(p.name, p.description, p.type)]);
    return out;
  }
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
export function modinfo(k: Kernel, argv: readonly string[]): CmdResult {
  const { flags, opts, args } = parseArgs(argv, { field: 'F', null: '0' }, ['F']);
  if (args.length === 0) return fail('modinfo: ERROR: missing module or filename.\n');
  const field = opts.get('F');
  const sep = flags.has('0') ? '\0' : '\n';
  let stdout = '';
  let stderr = '';
  let failed = 0;
  for (const arg of args) {
    const byPath = arg.includes('/') || arg.endsWith('.ko') ? moduleByPath(arg, k) : undefined;
    const c: Ctx = { k, cfg: emptyConfig() };
    const targets = byPath ? [{ kind: 'module' as const, name: byPath.name }] : arg.includes('/') ? [] : lookup(c, arg);
    if (targets.length === 0) {
      stderr += `modinfo: ERROR: Module ${arg} not found.\n`;
      failed++;
      continue;
    }
    for (const t of targets) {
      const info = t.kind === 'module' ? infoOf(c, t.name) : undefined;
      if (t.kind === 'module' && !info) continue;
      const fields = t.kind === 'builtin' ? modinfoBuiltinFields(t.name) : modinfoFields(info as ModuleInfo);
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
