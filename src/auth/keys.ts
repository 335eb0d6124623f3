import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** A new tenant API key: "klk_" + 32 random bytes, base64url. */
export const newApiKey = (): string => `klk_${randomBytes(32).toString('base64url')}`;
export const newAdminToken = (): string => `kla_${randomBytes(32).toString('base64url')}`;

export function safeEqual(a: string, b: string): boolean {
  const ha = Buffer.from(hashSecret(a));
  const hb = Buffer.from(hashSecret(b));
  return timingSafeEqual(ha, hb);
}

export function bearer(header: string | string[] | undefined): string | undefined {
  const h = Array.isArray(header) ? header[0] : header;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : undefined;
}
