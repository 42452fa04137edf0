// Builds a real Lanyard app for a test file, on in-memory PGlite or on PostgreSQL (TEST_DATABASE_URL) in a schema of its own.
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import type { FastifyInstance } from 'fastify'
import { Kysely } from 'kysely'
import { PGliteDialect } from 'kysely-pglite-dialect'
import pg from 'pg'
import type { Test } from 'tap'
import { buildApp, type AppDeps } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'
import { createKeyring, type Keyring } from '../../src/crypto/keyring.js'
import { openDatabase, type DatabaseKind } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import type { Database } from '../../src/db/schema.js'
import { hashToken } from '../../src/api-keys/tokens.js'
import type { DocumentFetcher } from '../../src/verify/documents.js'

export const ADMIN_TOKEN = `test-admin-${randomBytes(16).toString('hex')}`
export const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

export interface TestDatabase {
  kind: DatabaseKind
  db: Kysely<Database>
  /** A postgres:// URL reaching this database (PostgreSQL only), for child processes. */
  url?: string
}

/** A PostgreSQL URL whose sessions use `schema` first on their search path. */
export function urlWithSchema(base: string, schema: string): string {
  const url = new URL(base)
  url.searchParams.set('options', `-c search_path=${schema}`)
  return url.toString()
}

/** A fresh schema on TEST_DATABASE_URL, dropped when the test ends. */
export async function freshPostgresSchema(t: Test): Promise<string> {
  const base = process.env.TEST_DATABASE_URL!
  const schema = `lanyard_test_${randomBytes(6).toString('hex')}`
  const client = new pg.Client({ connectionString: base })
  await client.connect()
  await client.query(`create schema ${schema}`)
  await client.end()
  t.teardown(async () => {
    const cleanup = new pg.Client({ connectionString: base })
    await cleanup.connect()
    await cleanup.query(`drop schema if exists ${schema} cascade`)
    await cleanup.end()
  })
  return urlWithSchema(base, schema)
}

/**
 * A migrated PGlite data directory, made once per migration set and kept in the temp folder: starting from it takes about
 * a second, against four to six for an empty cluster, and every test file starts one.
 */
async function migratedPgliteSnapshot(): Promise<Blob> {
  const migrationsDir = new URL('../../migrations/', import.meta.url)
  const hash = createHash('sha256').update(readFileSync(new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url)))
  for (const file of readdirSync(migrationsDir).sort()) hash.update(file).update(readFileSync(new URL(file, migrationsDir)))
  const file = path.join(tmpdir(), `lanyard-test-pglite-${hash.digest('hex').slice(0, 16)}.tar`)
  if (existsSync(file)) return new Blob([readFileSync(file)])
  const pglite = new PGlite()
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) })
  await migrateToLatest(db)
  const snapshot = await pglite.dumpDataDir('none')
  await db.destroy()
  // Test files run in parallel: write aside, then rename, so no file ever reads half a snapshot.
  const partial = `${file}.${process.pid}`
  writeFileSync(partial, Buffer.from(await snapshot.arrayBuffer()))
  renameSync(partial, file)
  return snapshot
}

export async function openTestDatabase(t: Test, kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const { db } = await openDatabase({ pgliteSnapshot: await migratedPgliteSnapshot() })
    t.teardown(() => db.destroy())
    await migrateToLatest(db)
    return { kind, db }
  }
  const url = await freshPostgresSchema(t)
  const { db } = await openDatabase({ url })
  t.teardown(() => db.destroy())
  await migrateToLatest(db)
  return { kind, db, url }
}

export interface TestApp {
  app: FastifyInstance
  db: Kysely<Database>
  kind: DatabaseKind
  config: Config
  keyring: Keyring
}

export const TEST_MASTER_KEY = randomBytes(32)

export async function buildTestApp(
  t: Test,
  database: TestDatabase,
  options: { env?: Record<string, string>; masterKey?: Buffer; fetchDocument?: DocumentFetcher; jobs?: AppDeps['jobs']; pathways?: AppDeps['pathways']; submissions?: AppDeps['submissions']; sweep?: AppDeps['sweep'] } = {}
): Promise<TestApp> {
  const config = loadConfig({ PUBLIC_URL: 'https://badges.example.edu', LOG_LEVEL: 'silent', DATA_DIR: '/nonexistent', ...options.env })
  const keyring = createKeyring(options.masterKey ?? TEST_MASTER_KEY)
  const app = await buildApp({ config, db: database.db, keyring, adminTokenHash: hashToken(ADMIN_TOKEN), logger: false, ...(options.fetchDocument && { fetchDocument: options.fetchDocument }), ...(options.jobs && { jobs: options.jobs }), ...(options.pathways && { pathways: options.pathways }), ...(options.submissions && { submissions: options.submissions }), ...(options.sweep && { sweep: options.sweep }) })
  t.teardown(() => app.close())
  await app.ready()
  return { app, db: database.db, kind: database.kind, config, keyring }
}

const DATABASE_KINDS: DatabaseKind[] = ['pglite', 'postgres']

/**
 * Runs `body` once on PGlite and once on PostgreSQL; the PostgreSQL run is skipped, saying so, when TEST_DATABASE_URL is unset.
 */
export async function onEachDatabase(t: Test, body: (t: Test, database: TestDatabase) => Promise<void>): Promise<void> {
  for (const kind of DATABASE_KINDS) {
    const skip = kind === 'postgres' && !process.env.TEST_DATABASE_URL
      ? 'PostgreSQL run skipped: TEST_DATABASE_URL is not set'
      : false
    await t.test(`on ${kind === 'pglite' ? 'PGlite' : 'PostgreSQL'}`, { skip }, async (t) => body(t, await openTestDatabase(t, kind)))
  }
}

/** Creates an issuer through the admin API and returns its reply body. */
export async function createIssuer(app: FastifyInstance, body: Record<string, unknown> = {}) {
  const res = await app.inject({ method: 'POST', url: '/v1/issuers', headers: admin, payload: { name: 'Test College', url: 'https://college.example.edu', ...body } })
  if (res.statusCode !== 201) throw new Error(`creating an issuer answered ${res.statusCode}: ${res.body}`)
  return res.json()
}

export async function createApiKey(app: FastifyInstance, issuerId: string): Promise<{ id: string; key: string }> {
  const res = await app.inject({ method: 'POST', url: '/v1/api-keys', headers: admin, payload: { issuerId } })
  if (res.statusCode !== 201) throw new Error(`creating an API key answered ${res.statusCode}: ${res.body}`)
  return res.json()
}

/** Asserts a problem+json reply with this status and code; returns its body. */
export function assertProblem(t: Test, res: { statusCode: number; body: string; headers: Record<string, unknown>; json(): any }, status: number, code: string) {
  t.equal(res.statusCode, status, `${code}: ${res.body}`)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  const body = res.json()
  t.match(body, { type: `urn:lanyard:problem:${code}`, status, detail: String })
  return body
}
