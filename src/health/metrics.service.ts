import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { SessionsService } from '../sessions/sessions.service';

/** Prometheus metrics: sessions by state, machines, request latency, event-loop lag (default metrics). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;

  constructor(sessions: SessionsService) {
    collectDefaultMetrics({ register: this.registry, prefix: 'kernelab_', eventLoopMonitoringPrecision: 10 });
    this.httpDuration = new Histogram({
      name: 'kernelab_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    new Gauge({
      name: 'kernelab_sessions',
      help: 'Sessions by state',
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        const counts = await sessions.countsByState();
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'kernelab_machines',
      help: 'Machines live in this process',
      registers: [this.registry],
      collect() {
        this.set(sessions.liveMachines);
      },
    });
  }
}
