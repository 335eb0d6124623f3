import { KernelError } from '../errors';
import type { Kernel } from '../kernel';

/**
 * /proc/sys: every knob of the reference kernel with its default, writable
 * where Linux allows it. (Skeleton: the full table is generated from the
 * reference data.)
 */
export interface SysctlState {
  values: Record<string, string>;
}

const DEFAULTS: Record<string, { value: string; mode: number }> = {
  'kernel/hostname': { value: '(none)', mode: 0o644 },
  'kernel/ostype': { value: 'Linux', mode: 0o444 },
  'vm/swappiness': { value: '60', mode: 0o644 },
};

export class Sysctl {
  private s: SysctlState = { values: {} };

  constructor(private readonly k: Kernel) {
    for (const [name, d] of Object.entries(DEFAULTS)) this.s.values[name] = d.value;
    this.s.values['kernel/hostname'] = k.config.hostname;
  }

  names(): string[] {
    return Object.keys(DEFAULTS);
  }

  mode(name: string): number {
    const d = DEFAULTS[name];
    if (!d) throw new KernelError('ENOENT');
    return d.mode;
  }

  get(name: string): string {
    const v = this.s.values[name];
    if (v === undefined) throw new KernelError('ENOENT');
    return v;
  }

  set(name: string, value: string): void {
    if (!(name in DEFAULTS)) throw new KernelError('ENOENT');
    if ((DEFAULTS[name].mode & 0o200) === 0) throw new KernelError('EACCES');
    this.s.values[name] = value.replace(/\n$/, '');
  }

  getState(): SysctlState {
    return { values: { ...this.s.values } };
  }

  setState(s: SysctlState): void {
    this.s = { values: { ...s.values } };
  }
}
