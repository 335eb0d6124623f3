import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Tenant } from '../database/entities';

export const IS_PUBLIC = 'kernelab:public';
export const IS_ADMIN = 'kernelab:admin';

/** No credentials needed (health, metrics, docs). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
/** Needs the admin token. */
export const AdminOnly = (): MethodDecorator & ClassDecorator => SetMetadata(IS_ADMIN, true);

export interface AuthedRequest {
  tenant?: Tenant;
  admin?: boolean;
}

/** The tenant whose key authenticated the request. */
export const CurrentTenant = createParamDecorator((_: unknown, ctx: ExecutionContext): Tenant => {
  const req = ctx.switchToHttp().getRequest<AuthedRequest>();
  return req.tenant as Tenant;
});
