import { plainToInstance } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, Min, validateSync } from 'class-validator';

/**
 * Every environment variable the server reads, validated at start-up.
 * The README's configuration table lists the same names and defaults.
 */
export class EnvConfig {
  @IsInt() @Min(0) @Max(65535) PORT = 3000;
  @IsString() HOST = '0.0.0.0';
  @IsString() KERNELAB_DATA_DIR = './data';
  @IsOptional() @IsString() DATABASE_URL?: string;
  @IsOptional() @IsString() KERNELAB_ADMIN_TOKEN?: string;
  /** largest accepted request body, in bytes */
  @IsInt() @Min(1024) KERNELAB_BODY_LIMIT = 1_048_576;
  @IsInt() @Min(1) KERNELAB_DEFAULT_TTL_SECONDS = 3600;
  @IsInt() @Min(60) KERNELAB_MAX_TTL_SECONDS = 7 * 24 * 3600;
  @IsInt() @Min(0) KERNELAB_IDLE_TIMEOUT_SECONDS = 4 * 3600;
  @IsInt() @Min(10) KERNELAB_REAPER_INTERVAL_MS = 5000;
  @IsInt() @Min(1) KERNELAB_DEFAULT_MAX_SESSIONS = 50;
  @IsInt() @Min(1) KERNELAB_DEFAULT_RATE_LIMIT = 1200;
  /** journal entries between two checkpoints of a session */
  @IsInt() @Min(1) KERNELAB_CHECKPOINT_EVERY = 100;
  /**
   * a session is checkpointed at most this often (ms), unless its journal holds
   * ten times KERNELAB_CHECKPOINT_EVERY entries: bounds what checkpoints of a
   * busy traced machine cost, at the price of a longer replay after a crash
   */
  @IsInt() @Min(0) KERNELAB_CHECKPOINT_MIN_INTERVAL_MS = 10_000;
  /** seconds before expiry at which the session stream warns */
  @IsInt() @Min(1) KERNELAB_EXPIRY_WARNING_SECONDS = 60;
  /** a terminal nobody is attached to is hung up after this many seconds */
  @IsInt() @Min(1) KERNELAB_TERMINAL_DETACH_SECONDS = 300;
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) LOG_LEVEL = 'info';
  @IsBoolean() KERNELAB_SWAGGER = true;
}

const INT_KEYS = new Set([
  'PORT',
  'KERNELAB_BODY_LIMIT',
  'KERNELAB_DEFAULT_TTL_SECONDS',
  'KERNELAB_MAX_TTL_SECONDS',
  'KERNELAB_IDLE_TIMEOUT_SECONDS',
  'KERNELAB_REAPER_INTERVAL_MS',
  'KERNELAB_DEFAULT_MAX_SESSIONS',
  'KERNELAB_DEFAULT_RATE_LIMIT',
  'KERNELAB_CHECKPOINT_EVERY',
  'KERNELAB_CHECKPOINT_MIN_INTERVAL_MS',
  'KERNELAB_EXPIRY_WARNING_SECONDS',
  'KERNELAB_TERMINAL_DETACH_SECONDS',
]);

/** Parses and validates an environment (process.env by default); throws naming the bad variables. */
export function loadConfig(env: Record<string, string | undefined>): EnvConfig {
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || v === '') continue;
    if (INT_KEYS.has(k)) raw[k] = /^-?\d+$/.test(v) ? Number(v) : v;
    else if (k === 'KERNELAB_SWAGGER') raw[k] = v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v;
    else raw[k] = v;
  }
  const cfg = plainToInstance(EnvConfig, raw, { exposeDefaultValues: true });
  const errors = validateSync(cfg, { skipMissingProperties: false });
  if (errors.length) {
    const msg = errors.map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).join(', ')}`).join('; ');
    throw new Error(`Invalid configuration: ${msg}`);
  }
  return cfg;
}

export const ENV_CONFIG = Symbol('ENV_CONFIG');
