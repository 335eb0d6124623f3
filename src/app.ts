import { type INestApplication, ValidationPipe, type ValidationError } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { json, text, type NextFunction, type Request, type Response } from 'express';
import { Logger } from 'nestjs-pino';
import { AppModule, type AppOptions } from './app.module';
import { ApiError, reason } from './common/errors';
import { MetricsService } from './health/metrics.service';

/** Flattens class-validator errors into "field.path: constraint" messages. */
function validationMessages(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const p = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((c) => (prefix ? `${prefix}.${c}` : c.includes(e.property) ? c : `${p}: ${c}`));
    return [...own, ...validationMessages(e.children ?? [], p)];
  });
}

export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Kernelab')
    .setDescription(
      'Kernel-as-a-service: each session owns an isolated, emulated Linux 6.1 machine. Tenant routes take `Authorization: Bearer <API key>`; ' +
        'admin routes take the admin token. Errors always have the shape {statusCode, error, message, code}. ' +
        'WebSockets: socket.io namespace /v1, handshake auth.token = API key, messages subscribe/unsubscribe {sessionId, stream, fromSeq?}.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'tenant API key' }, 'tenant')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'admin token' }, 'admin')
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Builds the configured Nest application (used by main.ts, the e2e tests and the benchmarks). */
export async function createApp(opts: AppOptions): Promise<INestApplication> {
  const cfg = opts.config;
  const app = await NestFactory.create(AppModule.forRoot(opts), { bodyParser: false, bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  const limit = cfg.KERNELAB_BODY_LIMIT;
  app.use(json({ limit, strict: true }));
  app.use(text({ limit, type: ['text/plain', 'application/octet-stream'] }));
  // body-parser failures become the one error shape
  app.use((err: Error & { type?: string; status?: number }, _req: Request, res: Response, next: NextFunction) => {
    if (!err) return next();
    const status = err.status ?? 400;
    const code =
      err.type === 'entity.too.large' ? 'PAYLOAD_TOO_LARGE' : err.type === 'entity.parse.failed' ? 'INVALID_JSON' : err.type === 'encoding.unsupported' ? 'UNSUPPORTED_ENCODING' : 'BAD_REQUEST';
    const message =
      err.type === 'entity.too.large' ? `request body exceeds ${limit} bytes` : err.type === 'entity.parse.failed' ? `malformed JSON body: ${err.message}` : err.message;
    res.status(status).json({ statusCode: status, error: reason(status), message, code });
  });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => new ApiError(400, 'VALIDATION_FAILED', validationMessages(errors).join('; ')),
    }),
  );
  if (cfg.KERNELAB_SWAGGER) {
    const doc = buildOpenApi(app);
    SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'docs-json' });
  }
  const metrics = app.get(MetricsService);
  app.use((req: Request, res: Response, next: NextFunction) => {
    const end = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  });
  // migrations run when the data source initialises (migrationsRun), before
  // any start-up hook reads a table
  await app.init();
  return app;
}
