/**
 * Views of the module state: /proc/modules and /sys/module/<loaded module>.
 */
import type { Kernel } from '../kernel';
import { type DirNode, type DirTable, type FileNode, type FsCtx, pdir, pfile, plink, wofile } from '../fs/vnode';
import { type LoadedModule, moduleAddr } from './modules';
import { kernfsOrder } from './taint';

const STATE_TEXT = { live: 'Live', coming: 'Loading', going: 'Unloading' } as const;
const ZERO_ADDR = '0000000000000000';

/** kallsyms_show_value(): only privileged readers see addresses. */
const addrFor = (ctx: FsCtx, offset: number): string => (ctx.uid === 0 ? moduleAddr(offset) : ZERO_ADDR);

/** /proc/modules (m_show in kernel/module/procfs.c). */
export function renderProcModules(k: Kernel, ctx: FsCtx): string {
  return k.modules.memo(ctx.uid === 0 ? 'proc:root' : 'proc:user', () => renderProcModulesNow(k, ctx));
}

function renderProcModulesNow(k: Kernel, ctx: FsCtx): string {
  let out = '';
  for (const m of k.modules.list()) {
    const holders = m.holders.length ? m.holders.map((h) => `${h},`).join('') : '-';
    // m_show(): core + init layout sizes (the init sections until module_init returns)
    out += `${m.name} ${m.size + (m.initSize ?? 0)} ${k.modules.refcount(m)} ${holders} ${STATE_TEXT[m.state]} 0x${addrFor(ctx, m.base)}`;
    if (m.taints || m.state !== 'live') {
      out += ` (${k.modules.taintString(m)}${m.state === 'going' ? '-' : ''}${m.state === 'coming' ? '+' : ''})`;
    }
    out += '\n';
  }
  return out;
}

/** procfs table entries of the module subsystem (spread into buildProcfs). */
export function modulesProcEntries(k: Kernel): DirTable {
  return { modules: pfile((ctx) => renderProcModules(k, ctx)) };
}

/** A few ELF section addresses, laid out like the reference modules (text, rodata, data+bss). */
export function moduleSections(m: LoadedModule): [string, number][] {
  const P = 4096;
  const text = Math.max(P, Math.floor((m.size * 0.5) / P) * P);
  const ro = m.base + text;
  const data = m.base + Math.max(text + P, Math.floor((m.size * 0.75) / P) * P);
  const out: [string, number][] = [
    ['.text', m.base],
    ['.note.gnu.build-id', ro],
    ['.note.Linux', ro + 0x24],
    ['.rodata', ro + 0x3e0],
    ['.data', data],
    ['.gnu.linkonce.this_module', data + 0x2c0],
    ['.bss', data + 0x640],
  ];
  if (Object.keys(m.params).length) out.push(['__param', ro + 0x6d8]);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/** A sysfs attribute: stat() reports a page (sections: the "0x%px\n" length). */
function sysAttr(render: (ctx: FsCtx) => string, mode = 0o444, size = 4096): FileNode {
  return { ...pfile(render, { mode }), size: () => size };
}

function moduleDir(k: Kernel, name: string): DirNode {
  const m = (): LoadedModule | undefined => k.modules.find(name);
  const attr = (f: (mod: LoadedModule) => string): ReturnType<typeof pfile> =>
    sysAttr(() => {
      const mod = m();
      return mod ? f(mod) : '';
    });
  return pdir(
    () => {
      const mod = m();
      if (!mod) return {};
      const visible = Object.keys(mod.params).filter((p) => k.modules.paramPerm(name, p) !== 0);
      const t: DirTable = {
        coresize: attr((x) => `${x.size}\n`),
        holders: pdir(() => Object.fromEntries(kernfsOrder(m()?.holders ?? []).map((h) => [h, plink(`../../${h}`)])), { mode: 0o755 }),
        initsize: attr((x) => `${x.initSize ?? 0}\n`),
        initstate: attr((x) => `${x.state}\n`),
        notes: pdir(
          {
            '.note.gnu.build-id': sysAttr(() => buildIdNote(name), 0o444, 36),
            '.note.Linux': sysAttr(() => linuxNote(), 0o444, 60),
          },
          { mode: 0o755 },
        ),
        refcnt: attr((x) => `${k.modules.refcount(x)}\n`),
        sections: pdir(
          () => Object.fromEntries(moduleSections(m() ?? mod).map(([s, a]) => [s, sysAttr((ctx) => `0x${addrFor(ctx, a)}\n`, 0o400, 19)])),
          { mode: 0o755 },
        ),
        taint: attr((x) => `${k.modules.taintString(x)}\n`),
        uevent: { ...wofile(() => undefined), size: () => 4096 },
      };
      if (visible.length) {
        t.parameters = pdir(() => Object.fromEntries(visible.map((p) => [p, paramAttr(k, name, p)])), { mode: 0o755 });
      }
      const info = k.modules.info(name);
      if (info?.extra.srcversion) t.srcversion = sysAttr(() => `${info.extra.srcversion}\n`);
      if (info?.extra.version) t.version = sysAttr(() => `${info.extra.version}\n`);
      return t;
    },
    { mode: 0o755 },
  );
}

/** /sys/module/<m>/parameters/<p>: mode from module_param()'s perm; writable ones parse like param_set_<type>(). */
function paramAttr(k: Kernel, name: string, p: string): FileNode {
  const perm = k.modules.paramPerm(name, p);
  const node = sysAttr(() => `${k.modules.find(name)?.params[p] ?? ''}\n`, perm);
  if (perm & 0o222) node.write = (_ctx, data) => k.modules.setParam(name, p, data);
  return node;
}

/** An ELF note as the kernel exposes it: namesz, descsz, type, name, desc (4-byte aligned). */
function elfNote(name: string, type: number, desc: number[]): string {
  const le32 = (v: number): string => String.fromCharCode(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  const pad = (s: string): string => s + '\0'.repeat((4 - (s.length % 4)) % 4);
  return le32(name.length + 1) + le32(desc.length) + le32(type) + pad(name + '\0') + pad(String.fromCharCode(...desc));
}

/** .note.gnu.build-id: a 20-byte id derived from the module name (36 bytes). */
function buildIdNote(name: string): string {
  const id: number[] = [];
  let h = 0x811c9dc5;
  for (let i = 0; i < 20; i++) {
    for (let j = 0; j < name.length; j++) h = Math.imul(h ^ name.charCodeAt(j), 0x01000193) >>> 0;
    h = Math.imul(h ^ i, 0x01000193) >>> 0;
    id.push(h & 0xff);
  }
  return elfNote('GNU', 3, id);
}

/** .note.Linux: the build salt and the version note (60 bytes). */
function linuxNote(): string {
  return elfNote('Linux', 0x100, [0x9c, 0x69, 0x05, 0x00]) + elfNote('Linux', 0x101, [0, 0, 0, 0]) + '\0'.repeat(12);
}

/**
 * /sys/module entries of the loaded modules (name -> directory). Built-in
 * modules' directories belong to the sysfs table; merge this into it.
 */
export function moduleSysfsEntries(k: Kernel): (ctx: FsCtx) => DirTable {
  return () => Object.fromEntries(kernfsOrder(k.modules.list().map((m) => m.name)).map((n) => [n, () => moduleDir(k, n)]));
}

/** A /sys/module directory of the loaded modules only (until sysfs has a module table to extend). */
export function moduleSysfsDir(k: Kernel): DirNode {
  return pdir(moduleSysfsEntries(k), { mode: 0o755 });
}

/**
 * The loaded modules' lines of /proc/kallsyms ("%px %c %s\t[%s]"), after the
 * kernel's own, modules in list order: the symbol CRCs and notes, the
 * exported functions with their ksymtab entries, __this_module and
 * cleanup_module, at addresses inside the module's sections.
 */
export function renderModuleKallsyms(k: Kernel, show: boolean): string {
  return k.modules.memo(show ? 'kallsyms:addr' : 'kallsyms:zero', () => {
    let out = '';
    for (const m of k.modules.list()) out += moduleKallsyms(k, m, show);
    return out;
  });
}

function moduleKallsyms(k: Kernel, m: LoadedModule, show: boolean): string {
  const info = k.modules.info(m.name);
  const syms = info?.symbols ?? [];
  const sec = new Map(moduleSections(m));
  const ro = sec.get('.note.gnu.build-id') ?? m.base;
  const text = m.base;
  const data = sec.get('.gnu.linkonce.this_module') ?? m.base;
  const a = (off: number): string => (show ? moduleAddr(off) : ZERO_ADDR);
  const tag = `\t[${m.name}]\n`;
  let out = '';
  syms.forEach((s, i) => (out += `${a(ro + 0x15c + i * 4)} r __crc_${s}${tag}`));
  out += `${a(ro + 0x24)} r _note_10${tag}${a(ro + 0x3c)} r _note_9${tag}`;
  let fn = text;
  const funcs = [`${m.name}_init_state`, ...syms];
  funcs.forEach((s, i) => {
    out += `${a(fn)} ${i === 0 ? 't' : 'T'} ${s}${tag}`;
    fn += 0x40 + ((s.length * 0x30) & 0x3f0);
  });
  syms.forEach((s, i) => {
    out += `${a(ro + 0x5b2 + i * 0x20)} r __kstrtab_${s}${tag}`;
    out += `${a(ro + 0x5c2 + i * 0x20)} r __kstrtabns_${s}${tag}`;
    out += `${a(ro + 0x60 + i * 0xc)} r __ksymtab_${s}${tag}`;
  });
  out += `${a(data - 0x40)} d __UNIQUE_ID___addressable_cleanup_module${195 + (m.name.length % 7) * 17}${tag}`;
  out += `${a(data)} d __this_module${tag}`;
  out += `${a(fn)} t cleanup_module${tag}`;
  return out;
}
