import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import { MIGRATIONS } from '../../migrations';
import { ENTITIES } from './entities';

export interface DbSettings {
  /** postgres://… selects a real PostgreSQL; absent selects embedded PGlite */
  databaseUrl?: string;
  dataDir: string;
}

/**
 * The one place the database is described: used by the app (TypeOrmModule)
 * and by the TypeORM CLI (migration:generate / migration:run).
 * Same postgres dialect and the same migrations for PGlite and PostgreSQL.
 */
export function dataSourceOptions(s: DbSettings): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    // PGlite has neither uuid-ossp nor pgcrypto; the migrations use gen_random_uuid() (built in since PostgreSQL 13)
    installExtensions: false,
    logging: false,
  };
  if (s.databaseUrl) {
    return { ...common, url: s.databaseUrl, extra: { max: 10 } };
  }
  const dataDir = path.resolve(s.dataDir, 'pglite');
  mkdirSync(dataDir, { recursive: true });
  return {
    ...common,
    driver: new PGliteDriver({ dataDir }).driver,
  } as DataSourceOptions;
}

export function settingsFromEnv(env: Record<string, string | undefined> = process.env): DbSettings {
  return { databaseUrl: env.DATABASE_URL || undefined, dataDir: env.KERNELAB_DATA_DIR || './data' };
}

/** For the TypeORM CLI (`npm run migration:run`, `npm run migration:generate`). */
export default new DataSource(dataSourceOptions(settingsFromEnv()));
