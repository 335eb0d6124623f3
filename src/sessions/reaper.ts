import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ENV_CONFIG, type EnvConfig } from '../config/configuration';
import { SessionsService } from './sessions.service';

/** Reaps expired and idle sessions every KERNELAB_REAPER_INTERVAL_MS. */
@Injectable()
export class Reaper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Reaper');
  private running = false;

  constructor(
    @Inject(ENV_CONFIG) private readonly cfg: EnvConfig,
    private readonly sessions: SessionsService,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    const t = setInterval(() => void this.tick(), this.cfg.KERNELAB_REAPER_INTERVAL_MS);
    t.unref();
    this.scheduler.addInterval('reaper', t);
  }

  onApplicationShutdown(): void {
    if (this.scheduler.doesExist('interval', 'reaper')) this.scheduler.deleteInterval('reaper');
  }

  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const r = await this.sessions.reap();
      if (r.expired || r.idle) this.log.log(`reaped ${r.expired} expired and ${r.idle} idle session(s)`);
    } catch (e) {
      this.log.error(`reaper failed: ${String(e)}`);
    } finally {
      this.running = false;
    }
  }
}
