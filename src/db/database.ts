// Opens the database: PostgreSQL through pg when DATABASE_URL is set, else the embedded PGlite kept in DATA_DIR.
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { Kysely, PostgresDialect } from 'kysely'
import { PGliteDialect } from 'kysely-pglite-dialect'
import type { Database } from './schema.js'

export type DatabaseKind = 'postgres' | 'pglite'

export interface DatabaseHandle {
  db: Kysely<Database>
  kind: DatabaseKind
}

export interface DatabaseOptions {
  /** postgres:// URL; absent → PGlite. */
  url?: string
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
    return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), kind: 'postgres' }
  }
  const { PGlite } = await import('@electric-sql/pglite')
  if (options.pgliteDir !== undefined) mkdirSync(options.pgliteDir, { recursive: true })
  const pglite = options.pgliteDir !== undefined ? new PGlite(options.pgliteDir) : new PGlite({ loadDataDir: options.pgliteSnapshot })
  await pglite.waitReady
  return { db: new Kysely<Database>({ dialect: new PGliteDialect(pglite) }), kind: 'pglite' }
}

/** Where the embedded database lives inside DATA_DIR. */
export function pgliteDirectory(dataDir: string): string {
  return path.resolve(dataDir, 'pglite')
}
