/**
 * Views of the module state: /proc/modules and /sys/module/<loaded module>.
 */
import type { Kernel } from '../kernel';
import { type DirNode, type DirTable, type FileNode, type FsCtx, pdir, pfile, plink, wofile } from '../fs/vnode';
import { MODULE_EFFECTS } from './effects';
import { type LoadedModule, moduleAddr } from './modules';
import { registry } from './registry';
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
    out += `${m.name} ${m.size} ${k.modules.refcount(m)} ${holders} ${STATE_TEXT[m.state]} 0x${addrFor(ctx, m.base)}`;
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
  const info = registry().byName.get(name);
  return pdir(
    () => {
      const mod = m();
      if (!mod) return {};
      const hidden = MODULE_EFFECTS[name]?.hiddenParams ?? [];
      const visible = Object.keys(mod.params).filter((p) => !hidden.includes(p));
      const t: DirTable = {
        coresize: attr((x) => `${x.size}\n`),
        holders: pdir(() => Object.fromEntries(kernfsOrder(m()?.holders ?? []).map((h) => [h, plink(`../../${h}`)])), { mode: 0o755 }),
        initsize: sysAttr(() => '0\n'),
        initstate: attr((x) => `${x.state}\n`),
        notes: pdir({}, { mode: 0o755 }),
        refcnt: attr((x) => `${k.modules.refcount(x)}\n`),
        sections: pdir(
          () => Object.fromEntries(moduleSections(m() ?? mod).map(([s, a]) => [s, sysAttr((ctx) => `0x${addrFor(ctx, a)}\n`, 0o400, 19)])),
          { mode: 0o755 },
        ),
        taint: attr((x) => `${k.modules.taintString(x)}\n`),
        uevent: { ...wofile(() => undefined), size: () => 4096 },
      };
      if (visible.length) {
        t.parameters = pdir(() => Object.fromEntries(visible.map((p) => [p, sysAttr(() => `${m()?.params[p] ?? ''}\n`)])), { mode: 0o755 });
      }
      if (info?.extra.srcversion) t.srcversion = sysAttr(() => `${info.extra.srcversion}\n`);
      if (info?.extra.version) t.version = sysAttr(() => `${info.extra.version}\n`);
      return t;
    },
    { mode: 0o755 },
  );
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
