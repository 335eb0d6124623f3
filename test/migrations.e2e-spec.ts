import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source';
import { MIGRATIONS } from '../migrations';
import { makeTestDb, type TestDb } from './helpers';

describe('migrations (e2e)', () => {
  let db: TestDb;
  let ds: DataSource;
  beforeAll(async () => {
    db = await makeTestDb();
    ds = new DataSource(dataSourceOptions({ databaseUrl: db.env.DATABASE_URL, dataDir: db.dataDir }));
    await ds.initialize();
  });
  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  const tables = async (): Promise<string[]> =>
    ((await ds.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`)) as { table_name: string }[])
      .map((r) => r.table_name)
      .filter((t) => t !== 'migrations');

  it('apply, revert every one, and apply again', async () => {
    await ds.runMigrations({ transaction: 'each' });
    expect(await ds.showMigrations()).toBe(false);
    expect(await tables()).toEqual(['admin_tokens', 'api_keys', 'checkpoint_blobs', 'lab_modules', 'session_events', 'session_journal', 'sessions', 'snapshots', 'tenants']);
    // one step back: the checkpoint blobs migration alone is undone
    await ds.undoLastMigration({ transaction: 'each' });
    expect(await tables()).toEqual(['admin_tokens', 'api_keys', 'lab_modules', 'session_events', 'session_journal', 'sessions', 'snapshots', 'tenants']);
    // and the lab modules one
    await ds.undoLastMigration({ transaction: 'each' });
    expect(await tables()).toEqual(['admin_tokens', 'api_keys', 'session_events', 'session_journal', 'sessions', 'snapshots', 'tenants']);
    await ds.runMigrations({ transaction: 'each' });
    for (let i = 0; i < MIGRATIONS.length; i++) await ds.undoLastMigration({ transaction: 'each' });
    expect(await tables()).toEqual([]);
    expect(await ds.showMigrations()).toBe(true);
    await ds.runMigrations({ transaction: 'each' });
    expect(await tables()).toHaveLength(9);
  });
});
