import { randomUUID } from 'crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { Tenant } from '../database/entities';
import { ENV_CONFIG, type EnvConfig } from '../config/configuration';
import { LabModulesService } from '../lab-modules/lab-modules.service';
import { SessionsService } from '../sessions/sessions.service';

/**
 * Interactive terminals of sessions: each is a login shell in the machine,
 * opened, fed and closed through journaled machine ops (so what is typed
 * survives a restart). A terminal outlives its socket (clients re-attach by
 * id and resume output by seq) until nobody has been attached for
 * KERNELAB_TERMINAL_DETACH_SECONDS.
 */
@Injectable()
export class TerminalsService implements OnModuleDestroy {
  private readonly log = new Logger('Terminals');
  private readonly attached = new Map<string, { n: number; cancel?: () => void; tenant: Tenant }>();

  constructor(
    private readonly sessions: SessionsService,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(ENV_CONFIG) private readonly cfg: EnvConfig,
    private readonly labs: LabModulesService,
  ) {}

  async open(tenant: Tenant, sessionId: string, cols: number, rows: number): Promise<string> {
    const id = randomUUID();
    await this.labs.syncInto(tenant, sessionId);
    await this.sessions.apply(tenant, sessionId, { type: 'tty-open', id, cols, rows });
    return id;
  }

  async input(tenant: Tenant, sessionId: string, id: string, data: string): Promise<void> {
    // a line may load a lab module: the machine must know the tenant's current set
    if (/[\r\n]/.test(data)) await this.labs.syncInto(tenant, sessionId);
    await this.sessions.apply(tenant, sessionId, { type: 'tty-input', id, data });
  }

  resize(tenant: Tenant, sessionId: string, id: string, cols: number, rows: number): Promise<unknown> {
    return this.sessions.apply(tenant, sessionId, { type: 'tty-resize', id, cols, rows });
  }

  async close(tenant: Tenant, sessionId: string, id: string): Promise<void> {
    const key = `${sessionId}/${id}`;
    this.attached.get(key)?.cancel?.();
    this.attached.delete(key);
    await this.sessions.apply(tenant, sessionId, { type: 'tty-close', id });
  }

  /** A socket attached to a terminal; the returned function detaches it. */
  attach(tenant: Tenant, sessionId: string, id: string): () => void {
    const key = `${sessionId}/${id}`;
    const a = this.attached.get(key) ?? { n: 0, tenant };
    a.cancel?.();
    a.cancel = undefined;
    a.n++;
    this.attached.set(key, a);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      a.n--;
      if (a.n > 0) return;
      a.cancel = this.clock.schedule(this.cfg.KERNELAB_TERMINAL_DETACH_SECONDS * 1000, () => {
        if (this.attached.get(key) !== a || a.n > 0) return;
        this.attached.delete(key);
        this.sessions.apply(a.tenant, sessionId, { type: 'tty-close', id }).catch((e: unknown) => this.log.debug(`hang-up of ${key}: ${String(e)}`));
      });
    };
  }

  onModuleDestroy(): void {
    for (const a of this.attached.values()) a.cancel?.();
    this.attached.clear();
  }
}
