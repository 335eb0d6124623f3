/**
 * What a module's init and exit functions do that the model shows: printk
 * lines (values computed, e.g. the raid6/xor benchmarks), crypto transforms
 * they hold (a refcount on the provider module), parameter defaults.
 */
import type { Kernel } from '../kernel';

export interface InitCtx {
  k: Kernel;
  name: string;
  /** is a module loaded (live or coming)? */
  loaded(name: string): boolean;
}

export interface ModuleEffects {
  /** printk lines of module_init, [level, text] */
  init?(c: InitCtx): [number, string][];
  /** printk lines of module_exit */
  exit?(c: InitCtx): [number, string][];
  /** crypto_alloc_shash() at init: holds a reference on the first loaded provider */
  tfm?: readonly string[];
  /** the crypto API's request_module() when no provider is loaded yet */
  tfmRequest?: string;
  /** parameter defaults (others: bool N, numbers 0, strings empty) */
  params?: Readonly<Record<string, string>>;
  /** parameters registered with perm 0 (not in /sys/module/<m>/parameters) */
  hiddenParams?: readonly string[];
  /** device nodes devtmpfs creates for the devices the module registers: [name, kind, major, minor] (mode 0600) */
  devNodes?(params: Readonly<Record<string, string>>): [string, 'c' | 'b', number, number][];
}

const INFO = 6;
const WARNING = 4;

export const MODULE_EFFECTS: Readonly<Record<string, ModuleEffects>> = {
  loop: {
    init: () => [[INFO, 'loop: module loaded']],
    params: { max_loop: '8', max_part: '0', hw_queue_depth: '128' },
    devNodes: (p) => [
      ['loop-control', 'c', 10, 237],
      ...Array.from({ length: Math.min(256, Number(p.max_loop) || 8) }, (_, i): [string, 'b', number, number] => [`loop${i}`, 'b', 7, i]),
    ],
  },
  dummy: { params: { numdummies: '1' }, hiddenParams: ['numdummies'] },
  raid6_pq: {
    init: ({ k }) => {
      const algos = ['avx2x4', 'avx2x2', 'avx2x1'];
      const gen = algos.map(() => k.rng.int(1500, 2500));
      let best = 0;
      gen.forEach((v, i) => {
        if (v > gen[best]) best = i;
      });
      const out: [number, string][] = algos.map((a, i) => [INFO, `raid6: ${a.padEnd(8)} gen() ${String(gen[i]).padStart(5)} MB/s`]);
      out.push([INFO, `raid6: using algorithm ${algos[best]} gen() ${gen[best]} MB/s`]);
      out.push([INFO, `raid6: .... xor() ${k.rng.int(600, 900)} MB/s, rmw enabled`]);
      out.push([INFO, 'raid6: using avx2x2 recovery algorithm']);
      return out;
    },
  },
  xor: { init: () => [[INFO, `xor: automatically using best checksumming function   ${'avx'.padEnd(10)}`]] },
  btrfs: {
    devNodes: () => [['btrfs-control', 'c', 10, 234]],
    init: ({ loaded }) => [
      [INFO, `Btrfs loaded, crc32c=${loaded('crc32c_intel') ? 'crc32c-intel' : 'crc32c-generic'}, zoned=yes, fsverity=yes`],
    ],
  },
  nvme: {
    devNodes: () => [
      ['nvme0', 'c', 246, 0],
      ['ng0n1', 'c', 245, 0],
      ['nvme0n1', 'b', 259, 0],
      ['nvme0n1p1', 'b', 259, 1],
      ['nvme0n1p2', 'b', 259, 2],
    ],
    init: ({ k }) => [
      [INFO, 'nvme nvme0: pci function 0000:00:03.0'],
      [INFO, 'ACPI: \\_SB_.LNKC: Enabled at IRQ 11'],
      [INFO, `nvme nvme0: ${k.config.cpus}/0/0 default/read/poll queues`],
      [WARNING, 'nvme nvme0: Ignoring bogus Namespace Identifiers'],
      [INFO, ' nvme0n1: p1 p2'],
    ],
  },
  libcrc32c: { tfm: ['crc32c_intel', 'crc32c_generic'] },
  crc_t10dif: { tfm: ['crct10dif_pclmul', 'crct10dif_generic'] },
  crc64_rocksoft: { tfm: ['crc64_rocksoft_generic'], tfmRequest: 'crypto-crc64-rocksoft' },
};

/** The initial value of a parameter as /sys/module/<m>/parameters/<p> shows it. */
export function paramDefault(mod: string, param: string, type: string): string {
  const v = MODULE_EFFECTS[mod]?.params?.[param];
  if (v !== undefined) return v;
  if (type === 'bool' || type === 'invbool') return 'N';
  if (type === 'charp' || type === 'string' || type.startsWith('array')) return type === 'charp' ? '(null)' : '';
  return '0';
}
