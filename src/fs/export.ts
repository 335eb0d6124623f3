import { pack as tarPack, type Pack } from 'tar-stream';
import type { Machine } from '../kernel/machine';

/** Files that block or consume when read (streams): never archived. */
const SKIP = new Set(['/proc/kmsg', '/sys/kernel/tracing/trace_pipe', '/sys/kernel/debug/tracing/trace_pipe', '/sys/kernel/debug/tracing', '/proc/sysrq-trigger']);
const MAX_ENTRIES = 50_000;
const MAX_DEPTH = 16;
const MAX_BYTES = 64 * 1024 * 1024;

export interface ExportStats {
  entries: number;
  skipped: number;
  truncated: boolean;
}

/**
 * Archives machine trees as rendered now (a tar like `tar c /proc /sys` would
 * make, minus what cannot be read): directories, files, symlinks. Unreadable
 * and streaming files are skipped; entries, depth and bytes are bounded.
 */
export async function exportTar(m: Machine, roots: string[]): Promise<{ pack: Pack; done: Promise<ExportStats> }> {
  const pack = tarPack();
  const stats: ExportStats = { entries: 0, skipped: 0, truncated: false };
  let bytes = 0;
  const mtime = new Date(0);
  const add = (header: Parameters<Pack['entry']>[0], body?: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (body === undefined) pack.entry(header, cb);
      else pack.entry(header, body, cb);
    });
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH || stats.truncated) return;
    let entries;
    try {
      entries = await m.list(dir);
    } catch {
      stats.skipped++;
      return;
    }
    for (const e of entries) {
      if (stats.entries >= MAX_ENTRIES || bytes >= MAX_BYTES) {
        stats.truncated = true;
        return;
      }
      const p = dir === '/' ? `/${e.name}` : `${dir}/${e.name}`;
      if (SKIP.has(p)) continue;
      const name = p.slice(1);
      if (e.type === 'dir') {
        await add({ name: `${name}/`, type: 'directory', mode: e.mode, mtime });
        stats.entries++;
        await walk(p, depth + 1);
      } else if (e.type === 'link') {
        try {
          await add({ name, type: 'symlink', linkname: await m.readlink(p), mode: 0o777, mtime });
          stats.entries++;
        } catch {
          stats.skipped++;
        }
      } else {
        let text: string;
        try {
          text = await m.read(p);
        } catch {
          stats.skipped++;
          continue;
        }
        const body = Buffer.from(text, 'utf8');
        bytes += body.length;
        await add({ name, type: 'file', mode: e.mode, size: body.length, mtime }, body.toString('utf8'));
        stats.entries++;
      }
    }
  };
  const done = (async () => {
    for (const r of roots) {
      const name = r.slice(1);
      await add({ name: `${name}/`, type: 'directory', mode: 0o555, mtime });
      await walk(r, 1);
    }
    pack.finalize();
    return stats;
  })();
  done.catch((e: unknown) => pack.destroy(e as Error));
  return { pack, done };
}
