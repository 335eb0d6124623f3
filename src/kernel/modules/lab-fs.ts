/**
 * The procfs and sysfs files of loaded lab modules, overlaid on the /proc and
 * /sys trees: proc_create()/sysfs_create_file() at module init, removed at
 * exit. Reads and writes go to the module (counters, parameters, behaviours).
 */
import type { Kernel } from '../kernel';
import type { DirNode, FileNode, FsCtx, VNode } from '../fs/vnode';
import type { LabFileRef } from './modules';

function fileNode(k: Kernel, ref: LabFileRef): FileNode {
  const { module, file } = ref;
  const node: FileNode = {
    type: 'file',
    mode: file.mode,
    read: (ctx) => k.modules.labRead(module, file, ctx.pid),
    // procfs files report size 0; sysfs attributes a page
    size: () => (file.fs === 'sysfs' ? 4096 : 0),
  };
  if (file.mode & 0o222) node.write = (ctx, data) => k.modules.labWrite(module, file, data, ctx.pid);
  return node;
}

/** `base` (may be absent: a directory only the lab modules create) with the lab files under `path` merged in. */
function overlay(k: Kernel, base: DirNode | undefined, path: string, fsKind: 'procfs' | 'sysfs'): DirNode {
  const emptyDir: DirNode = { type: 'dir', mode: fsKind === 'procfs' ? 0o555 : 0o755, list: () => [], lookup: () => undefined };
  const b = base ?? emptyDir;
  return {
    ...b,
    list: (ctx: FsCtx) => {
      const names = b.list(ctx);
      const extra = k.modules.labFiles().dirs.get(path);
      if (!extra) return names;
      for (const n of extra) if (!names.includes(n)) names.push(n);
      return names;
    },
    lookup: (ctx: FsCtx, name: string): VNode | undefined => {
      const { files, dirs } = k.modules.labFiles();
      if (files.size === 0) return b.lookup(ctx, name);
      const p = `${path}/${name}`;
      const real = b.lookup(ctx, name);
      if (real && real.type !== 'dir') return real;
      const f = files.get(p);
      if (f && !real) return fileNode(k, f);
      if (dirs.has(p)) return overlay(k, real as DirNode | undefined, p, fsKind);
      return real;
    },
  };
}

/** /proc with the lab modules' procfs files. */
export function withLabProcFiles(k: Kernel, root: DirNode): DirNode {
  return overlay(k, root, '/proc', 'procfs');
}

/** /sys with the lab modules' sysfs files. */
export function withLabSysFiles(k: Kernel, root: DirNode): DirNode {
  return overlay(k, root, '/sys', 'sysfs');
}
