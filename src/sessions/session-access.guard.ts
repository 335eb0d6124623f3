import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { notFound } from '../common/errors';
import type { AuthedRequest } from '../auth/decorators';
import { SessionsService } from './sessions.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Global guard for every route under /v1/sessions/:id: a session of another
 * tenant answers exactly like one that does not exist (404), before any body
 * validation can tell them apart. New session routes are covered automatically.
 */
@Injectable()
export class SessionAccessGuard implements CanActivate {
  constructor(private readonly sessions: SessionsService) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const req = ctx.switchToHttp().getRequest<Request & AuthedRequest>();
    const route = (req.route as { path?: string } | undefined)?.path ?? '';
    if (!route.startsWith('/v1/sessions/:id')) return true;
    const id = req.params.id;
    if (!req.tenant || typeof id !== 'string' || !UUID.test(id)) throw notFound();
    if (!(await this.sessions.owns(req.tenant.id, id))) throw notFound();
    return true;
  }
}
