// Health probes through the app: /health/live answers while the process runs, /health/ready names each check (database,
// migrations, job queue) and answers 503 with Retry-After until all pass; /health is as it was.
import { createServer, type Socket } from 'node:net'
import { Migrator, sql } from 'kysely'
import t, { type Test } from 'tap'
import { migrations } from '../migrations/index.js'
import { openDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrate.js'
import { assertProblem, buildTestApp, onEachDatabase, openTestDatabase, type TestDatabase } from './helpers/app.js'

type Reply = { statusCode: number; headers: Record<string, unknown>; json(): any }

const MIGRATIONS = Object.keys(migrations)
const READY = { status: 'ready', database: 'ok', migrations: 'ok', queue: 'running' }

function assertReady(t: Test, res: Reply) {
  t.equal(res.statusCode, 200)
  t.same(res.json(), READY)
}

function assertNotReady(t: Test, res: Reply, checks: Record<string, string>) {
  t.equal(res.statusCode, 503)
  t.match(res.headers['content-type'], /^application\/json/)
  t.equal(res.headers['retry-after'], '5')
  t.same(res.json(), { status: 'not-ready', ...checks })
}

/** Undoes the last migration, as migrate.ts would name the bookkeeping schema. */
async function migrateDownOne(db: TestDatabase['db']): Promise<void> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db)
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, migrationTableSchema: rows[0]!.schema })
  const { error } = await migrator.migrateDown()
  if (error !== undefined) throw error
}

await onEachDatabase(t, async (t, database) => {
  await t.test('live and ready answer 200 on a migrated database with the job queue running, never rate limited; /health is unchanged', async (t) => {
    const { app } = await buildTestApp(t, database, { env: { PUBLIC_RATE_LIMIT: '2' } })
    for (let i = 0; i < 4; i++) {
      const live = await app.inject({ method: 'GET', url: '/health/live' })
      t.equal(live.statusCode, 200)
      t.same(live.json(), { status: 'ok' })
      assertReady(t, await app.inject({ method: 'GET', url: '/health/ready' }))
    }
    const health = await app.inject({ method: 'GET', url: '/health' })
    t.equal(health.statusCode, 200)
    t.same(health.json(), { status: 'ok', database: 'ok' })
  })

  await t.test('ready is 503 "queue: stopped" until the job worker starts, and again once it stops', async (t) => {
    const { app } = await buildTestApp(t, database, { jobs: { autoStart: false } })
    assertNotReady(t, await app.inject({ method: 'GET', url: '/health/ready' }), { database: 'ok', migrations: 'ok', queue: 'stopped' })
    app.jobWorker.start()
    assertReady(t, await app.inject({ method: 'GET', url: '/health/ready' }))
    await app.jobWorker.stop()
    assertNotReady(t, await app.inject({ method: 'GET', url: '/health/ready' }), { database: 'ok', migrations: 'ok', queue: 'stopped' })
  })

  await t.test('ready names the migrations the database lacks, and is ready once they are applied', async (t) => {
    const own = await openTestDatabase(t, database.kind)
    await migrateDownOne(own.db)
    const { app } = await buildTestApp(t, own)
    const ready = () => app.inject({ method: 'GET', url: '/health/ready' })
    assertNotReady(t, await ready(), { database: 'ok', migrations: `pending: ${MIGRATIONS.at(-1)}`, queue: 'running' })

    // Without Kysely's bookkeeping table the database was never migrated: every migration is pending.
    await sql`alter table kysely_migration rename to kysely_migration_aside`.execute(own.db)
    assertNotReady(t, await ready(), { database: 'ok', migrations: `pending: ${MIGRATIONS.join(', ')}`, queue: 'running' })
    await sql`alter table kysely_migration_aside rename to kysely_migration`.execute(own.db)

    await migrateToLatest(own.db)
    assertReady(t, await ready())
  })

  await t.test('when the database goes away, ready and /health are 503 "database: unreachable" and live still answers', async (t) => {
    const own = await openTestDatabase(t, database.kind)
    const { app } = await buildTestApp(t, own)
    assertReady(t, await app.inject({ method: 'GET', url: '/health/ready' }))
    await own.db.destroy()
    assertNotReady(t, await app.inject({ method: 'GET', url: '/health/ready' }), { database: 'unreachable', migrations: 'ok', queue: 'running' })
    const health = assertProblem(t, await app.inject({ method: 'GET', url: '/health' }), 503, 'database-unavailable')
    t.equal(health.database, 'unreachable')
    const live = await app.inject({ method: 'GET', url: '/health/live' })
    t.equal(live.statusCode, 200)
    t.same(live.json(), { status: 'ok' })
  })
})

t.test('a database that takes over 2 s to answer is unreachable, its migrations unknown', async (t) => {
  // A server that accepts connections and never says a word: PostgreSQL's startup reply never comes.
  const sockets: Socket[] = []
  const silent = createServer((socket) => sockets.push(socket))
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const socket of sockets) socket.destroy()
    silent.close()
  })
  const { db } = await openDatabase({ url: `postgres://lanyard@127.0.0.1:${(silent.address() as { port: number }).port}/none` })
  t.teardown(() => db.destroy())
  const { app } = await buildTestApp(t, { kind: 'postgres', db }, { jobs: { autoStart: false } })
  const started = Date.now()
  assertNotReady(t, await app.inject({ method: 'GET', url: '/health/ready' }), { database: 'unreachable', migrations: 'unknown', queue: 'stopped' })
  t.ok(Date.now() - started < 4_000, 'answered at the timeout, not when the connection gives up')
  assertProblem(t, await app.inject({ method: 'GET', url: '/health' }), 503, 'database-unavailable')
})
