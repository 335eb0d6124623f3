import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiError } from '../common/errors';
import { AuthService } from './auth.service';
import { type AuthedRequest, IS_ADMIN, IS_PUBLIC } from './decorators';
import { bearer } from './keys';

/** Global guard: tenant key by default, admin token on @AdminOnly routes, nothing on @Public ones. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const req = ctx.switchToHttp().getRequest<Request & AuthedRequest>();
    const token = bearer(req.headers.authorization);
    if (!token) throw new ApiError(401, 'UNAUTHORIZED', 'missing bearer token (Authorization: Bearer <key>)');
    if (this.reflector.getAllAndOverride<boolean>(IS_ADMIN, targets)) {
      if (await this.auth.isAdmin(token)) {
        req.admin = true;
        return true;
      }
      if (await this.auth.tenantForKey(token)) throw new ApiError(403, 'FORBIDDEN', 'this route needs the admin token');
      throw new ApiError(401, 'UNAUTHORIZED', 'invalid admin token');
    }
    const tenant = await this.auth.tenantForKey(token);
    if (!tenant) throw new ApiError(401, 'UNAUTHORIZED', 'invalid or revoked API key');
    req.tenant = tenant;
    return true;
  }
}
