// Opens the database: PostgreSQL through pg when DATABASE_URL is set, else the embedded PGlite kept in DATA_DIR.
import { createHash } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { Kysely, PostgresDialect } from 'kysely'
import { PGliteDialect } from 'kysely-pglite-dialect'
import type { Database } from './schema.js'

export type DatabaseKind = 'postgres' | 'pglite'

/** The embedded database's buffer pool (see openDatabase). */
export const PGLITE_SHARED_BUFFERS = '32MB'

export interface DatabaseHandle {
  db: Kysely<Database>
  kind: DatabaseKind
}

export interface DatabaseOptions {
  /** postgres:// URL; absent → PGlite. */
  url?: string
  /** PostgreSQL: run the marked statements as named prepared statements (see prepareMarkedStatements). Default true. */
  preparedStatements?: boolean
  /** PGlite data directory; absent → in memory (tests). */
  pgliteDir?: string
  /** In memory only: start from this data directory snapshot (PGlite dumpDataDir) instead of an empty cluster; several times faster. */
  pgliteSnapshot?: Blob
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.url !== undefined) {
    const { default: pg } = await import('pg')
    const pool = new pg.Pool({
      connectionString: options.url,
      max: 10,
      connectionTimeoutMillis: 5_000
    })
    // An idle client losing its server must not crash the process; the next query reports it.
    pool.on('error', () => {})
    if (options.preparedStatements !== false) pool.on('connect', (client) => prepareMarkedStatements(client))
    return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), kind: 'postgres' }
  }
  const { PGlite } = await import('@electric-sql/pglite')
  if (options.pgliteDir !== undefined) mkdirSync(options.pgliteDir, { recursive: true })
  // PostgreSQL's default 128 MB of shared buffers is resident in PGlite from the start (~140 MB of an idle server's RSS);
  // its files sit in the OS page cache (or in memory) anyway, so a small buffer pool costs no reads.
  const startParams = [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`]
  const pglite = options.pgliteDir !== undefined
    ? new PGlite(options.pgliteDir, { startParams })
    : new PGlite({ loadDataDir: options.pgliteSnapshot, startParams })
  await pglite.waitReady
  return { db: new Kysely<Database>({ dialect: new PGliteDialect(pglite) }), kind: 'pglite' }
}

/** `/* prepared: name *\/` in a statement (Kysely's modifyFront puts it after `select`): see prepareMarkedStatements. */
const MARKER = /\* prepared: ([a-z-]+) \*\//
const statementNames = new Map<string, string>()

/**
 * PostgreSQL parses and plans an unnamed statement on every execution; a named one once per connection. The issuing
 * path's statements are marked (their text never varies: arrays travel as one jsonb parameter) and run named, which
 * saves PostgreSQL most of its CPU per issue. The name carries a hash of the text, so two texts never share one.
 * Off (LANYARD_DB_PREPARED_STATEMENTS=false) behind a pooler that moves sessions between connections.
 */
function prepareMarkedStatements(client: import('pg').PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  client.query = ((text: unknown, ...rest: unknown[]) => {
    if (typeof text !== 'string' || !text.includes('/* prepared: ')) return query(text, ...rest)
    let name = statementNames.get(text)
    if (name === undefined) {
      // Marked statements are a handful of constant texts: this map stays that small.
      name = `${MARKER.exec(text)![1]!}-${createHash('sha256').update(text).digest('hex').slice(0, 12)}`
      statementNames.set(text, name)
    }
    return query({ name, text, values: rest[0] }, ...rest.slice(1))
  }) as typeof client.query
}

/** Where the embedded database lives inside DATA_DIR. */
export function pgliteDirectory(dataDir: string): string {
  return path.resolve(dataDir, 'pglite')
}
