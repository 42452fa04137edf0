// Start-up pieces: migrations, the admin token, the master key.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Migrator, NO_MIGRATIONS, sql } from 'kysely'
import t from 'tap'
import { ensureAdminToken } from '../src/api-keys/admin-token.js'
import { hashToken } from '../src/api-keys/tokens.js'
import { loadConfig } from '../src/config.js'
import { resolveMasterKey } from '../src/crypto/master-key.js'
import { openDatabase } from '../src/db/database.js'
import { failedOnADroppedSchema, migrateToLatest } from '../src/db/migrate.js'
import { migrations } from '../migrations/index.js'
import { onEachDatabase } from './helpers/app.js'

await onEachDatabase(t, async (t, database) => {
  const { db } = database

  await t.test('migrations are idempotent, and go down and up again', async (t) => {
    t.same(await migrateToLatest(db), [], 'a migrated database has nothing left to apply')
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db)
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, migrationTableSchema: rows[0]!.schema })
    const down = await migrator.migrateTo(NO_MIGRATIONS)
    t.equal(down.error, undefined)
    t.match(down.results, [
      { migrationName: '0011_idempotency_expiry', direction: 'Down', status: 'Success' },
      { migrationName: '0010_submissions', direction: 'Down', status: 'Success' },
      { migrationName: '0009_endorsements', direction: 'Down', status: 'Success' },
      { migrationName: '0008_pathways', direction: 'Down', status: 'Success' },
      { migrationName: '0007_webhook_attempts', direction: 'Down', status: 'Success' },
      { migrationName: '0006_events_webhooks', direction: 'Down', status: 'Success' },
      { migrationName: '0005_jobs', direction: 'Down', status: 'Success' },
      { migrationName: '0004_wallets', direction: 'Down', status: 'Success' },
      { migrationName: '0003_status_lists', direction: 'Down', status: 'Success' },
      { migrationName: '0002_issuing', direction: 'Down', status: 'Success' },
      { migrationName: '0001_initial', direction: 'Down', status: 'Success' }
    ])
    const tables = await sql<{ n: number }>`select count(*)::int as n from information_schema.tables where table_name = 'issuers' and table_schema = current_schema()`.execute(db)
    t.equal(tables.rows[0]!.n, 0, 'down removed the tables')
    t.match(await migrateToLatest(db), [{ migrationName: '0001_initial', status: 'Success' }, { migrationName: '0002_issuing', status: 'Success' }, { migrationName: '0003_status_lists', status: 'Success' }, { migrationName: '0004_wallets', status: 'Success' }])
  })

  await t.test('the admin token is generated once, even when two instances start together', async (t) => {
    const config = loadConfig({})
    const [first, second] = await Promise.all([ensureAdminToken(db, config), ensureAdminToken(db, config)])
    const generated = [first, second].filter((token) => token.generated !== undefined)
    t.equal(generated.length, 1, 'exactly one instance prints a token')
    t.equal(first.hash, second.hash, 'both use the same stored hash')
    t.equal(hashToken(generated[0]!.generated!), first.hash)
    const later = await ensureAdminToken(db, config)
    t.same(later, { hash: first.hash }, 'a restart reuses it and prints nothing')
    const fromEnv = await ensureAdminToken(db, loadConfig({ LANYARD_ADMIN_TOKEN: 'an-operator-chosen-token-0123456789' }))
    t.same(fromEnv, { hash: hashToken('an-operator-chosen-token-0123456789') }, 'LANYARD_ADMIN_TOKEN wins over the stored one')
  })
})

t.test('a failing migration stops start-up naming the migration', async (t) => {
  const { db } = await openDatabase({})
  t.teardown(() => db.destroy())
  await sql`create table issuers (id int)`.execute(db)
  await t.rejects(migrateToLatest(db), { message: /database migration 0001_initial failed: .*issuers/ })
})

t.test('the master key', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lanyard-key-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))

  await t.test('comes from LANYARD_MASTER_KEY when set, and nothing is written', async (t) => {
    const key = Buffer.alloc(32, 7)
    const source = resolveMasterKey(loadConfig({ LANYARD_MASTER_KEY: key.toString('base64'), DATA_DIR: path.join(dir, 'unused') }))
    t.same(source, { key })
  })

  await t.test('is generated into DATA_DIR once and read back after', async (t) => {
    const config = loadConfig({ DATA_DIR: path.join(dir, 'data') })
    const first = resolveMasterKey(config)
    t.equal(first.generatedAt, path.join(dir, 'data', 'master.key'))
    t.equal(first.key.length, 32)
    t.same(resolveMasterKey(config), { key: first.key }, 'the second start reads the same key and does not warn')
  })

  await t.test('a damaged key file stops start-up instead of being replaced', async (t) => {
    const damaged = path.join(dir, 'damaged')
    rmSync(damaged, { recursive: true, force: true })
    resolveMasterKey(loadConfig({ DATA_DIR: damaged }))
    writeFileSync(path.join(damaged, 'master.key'), 'bm90IDMyIGJ5dGVz\n')
    t.throws(() => resolveMasterKey(loadConfig({ DATA_DIR: damaged })), /does not hold base64 of 32 bytes/)
    t.equal(readFileSync(path.join(damaged, 'master.key'), 'utf8'), 'bm90IDMyIGJ5dGVz\n', 'the file is left as it was')
  })

  await t.test('an unreadable DATA_DIR is an error, not a new key', async (t) => {
    const notADirectory = path.join(dir, 'file')
    writeFileSync(notADirectory, 'x')
    t.throws(() => resolveMasterKey(loadConfig({ DATA_DIR: notADirectory })), { code: 'ENOTDIR' })
  })
})

t.test('a migration check that failed on a schema dropped meanwhile is tried again; nothing else is', async (t) => {
  const dropped = Object.assign(new Error('schema "lanyard_test_0a1b" does not exist'), { code: '3F000' })
  t.equal(failedOnADroppedSchema(dropped, []), true, 'before any migration ran')
  t.equal(failedOnADroppedSchema(dropped, [{ migrationName: '0001_initial', direction: 'Up', status: 'Error' }]), false, 'not once one ran')
  t.equal(failedOnADroppedSchema(Object.assign(new Error('relation "issuers" already exists'), { code: '42P07' }), []), false)
  t.equal(failedOnADroppedSchema(null, []), false)
})
