import { PGlite } from '@electric-sql/pglite';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** An initialised, empty PGlite data directory that each e2e test copies (initdb takes seconds; a copy takes milliseconds). */
const pgliteVersion = (JSON.parse(readFileSync(path.join(__dirname, '../node_modules/@electric-sql/pglite/package.json'), 'utf8')) as { version: string }).version;
export const PGLITE_TEMPLATE = path.join(os.tmpdir(), `kernelab-pglite-template-${pgliteVersion}`);

export default async function globalSetup(): Promise<void> {
  if (existsSync(path.join(PGLITE_TEMPLATE, 'PG_VERSION'))) return;
  const tmp = `${PGLITE_TEMPLATE}.${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const db = new PGlite(tmp);
  await db.query('select 1');
  await db.close();
  rmSync(PGLITE_TEMPLATE, { recursive: true, force: true });
  renameSync(tmp, PGLITE_TEMPLATE);
}
