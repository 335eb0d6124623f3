import { type ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerException } from '@nestjs/throttler';
import type { AuthedRequest } from './decorators';

/** Per-tenant request rate: tracked by tenant id, limited by the tenant's own limit. */
@Injectable()
export class TenantThrottlerGuard extends ThrottlerGuard {
  protected async getTracker(req: Record<string, unknown>): Promise<string> {
    const tenant = (req as AuthedRequest).tenant;
    return tenant ? `tenant:${tenant.id}` : `ip:${String(req.ip)}`;
  }

  protected async shouldSkip(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    // only tenant traffic is rate limited; public and admin routes are not
    return !req.tenant;
  }

  protected async throwThrottlingException(): Promise<void> {
    throw new ThrottlerException('request rate limit exceeded for this tenant');
  }
}

/** Resolves the limit of the tenant making the request (the throttler calls it per request). */
export function tenantLimit(ctx: ExecutionContext): number {
  const req = ctx.switchToHttp().getRequest<AuthedRequest>();
  return req.tenant?.limits.requestsPerMinute ?? 1_000_000;
}
