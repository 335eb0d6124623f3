import { ExecController } from './exec/exec.controller';
import { TerminalsService } from './exec/terminals.service';
import { LabModulesController } from './lab-modules/lab-modules.controller';
import { ModulesController } from './modules/modules.controller';
import { FaultsController } from './faults/faults.controller';
import { BpftraceController } from './bpftrace/bpftrace.controller';
import { TracingController } from './tracing/tracing.controller';
import { LabModulesService } from './lab-modules/lab-modules.service';
import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import { AuthGuard } from './auth/auth.guard';
import { AuthService } from './auth/auth.service';
import { TenantThrottlerGuard, tenantLimit } from './auth/throttler.guard';
import { Clock, SystemClock } from './common/clock';
import { AllExceptionsFilter } from './common/http-exception.filter';
import { ENV_CONFIG, type EnvConfig } from './config/configuration';
import { dataSourceOptions } from './database/data-source';
import { ENTITIES } from './database/entities';
import { DmesgController } from './fs/dmesg.controller';
import { ExportController } from './fs/export.controller';
import { FsController } from './fs/fs.controller';
import { StreamGateway } from './gateway/stream.gateway';
import { HealthController } from './health/health.controller';
import { MetricsService } from './health/metrics.service';
import { DriverRegistry, SimDriver } from './machines/drivers';
import { Reaper } from './sessions/reaper';
import { SessionAccessGuard } from './sessions/session-access.guard';
import { SessionEventBus } from './sessions/session-events';
import { SessionsController } from './sessions/sessions.controller';
import { SessionsService } from './sessions/sessions.service';
import { CheckpointStore } from './sessions/checkpoint-store';
import { TenantsController } from './tenants/tenants.controller';

export interface AppOptions {
  config: EnvConfig;
  /** tests inject a FakeClock */
  clock?: Clock;
}

@Module({})
export class AppModule {
  static forRoot(opts: AppOptions): DynamicModule {
    const cfg = opts.config;
    const providers: Provider[] = [
      { provide: ENV_CONFIG, useValue: cfg },
      { provide: Clock, useValue: opts.clock ?? new SystemClock() },
      AuthService,
      SimDriver,
      DriverRegistry,
      SessionEventBus,
      SessionsService,
      CheckpointStore,
      Reaper,
      MetricsService,
      StreamGateway,
      TerminalsService,
      LabModulesService,
      { provide: APP_FILTER, useClass: AllExceptionsFilter },
      // order matters: authenticate, then rate-limit by tenant, then session ownership
      { provide: APP_GUARD, useClass: AuthGuard },
      { provide: APP_GUARD, useClass: TenantThrottlerGuard },
      { provide: APP_GUARD, useClass: SessionAccessGuard },
    ];
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: cfg.LOG_LEVEL,
            genReqId: (req, res) => {
              const given = req.headers['x-request-id'];
              const id = typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
              res.setHeader('x-request-id', id);
              return id;
            },
            autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
            redact: ['req.headers.authorization'],
          },
        }),
        TypeOrmModule.forRoot({ ...dataSourceOptions({ databaseUrl: cfg.DATABASE_URL, dataDir: cfg.KERNELAB_DATA_DIR }), entities: ENTITIES, migrationsRun: true, migrationsTransactionMode: 'each', retryAttempts: 3, retryDelay: 1000 }),
        TypeOrmModule.forFeature(ENTITIES),
        ThrottlerModule.forRoot({ throttlers: [{ name: 'default', ttl: 60_000, limit: tenantLimit }] }),
        TerminusModule.forRoot({ errorLogStyle: 'json' }),
        ScheduleModule.forRoot(),
      ],
      controllers: [HealthController, TenantsController, SessionsController, FsController, ExportController, DmesgController, ExecController, LabModulesController, ModulesController, FaultsController, BpftraceController, TracingController],
      providers,
    };
  }
}
