// Brings a database to the latest schema with Kysely's Migrator and the explicit migration list.
import { Migrator, sql, type Kysely, type MigrationResult } from 'kysely'
import { migrations } from '../../migrations/index.js'

/** PostgreSQL's invalid_schema_name. */
const INVALID_SCHEMA_NAME = '3F000'
const ATTEMPTS = 3

/**
 * Kysely's check for its bookkeeping tables reads the tables of every schema, and asks about each schema by name: one
 * dropped between the two (another tenant's, another test file's) fails the check before any migration ran. That is
 * worth another try; nothing was done.
 */
export function failedOnADroppedSchema(error: unknown, results: MigrationResult[]): boolean {
  return results.length === 0 && (error as { code?: unknown } | null)?.code === INVALID_SCHEMA_NAME
}

export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResult[]> {
  // Kysely looks for its bookkeeping tables in any schema unless told which: name ours, so another schema's tables never count.
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db)
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, migrationTableSchema: rows[0]!.schema })
  return migrateWith(migrator, ATTEMPTS)
}

async function migrateWith(migrator: Migrator, attempts: number): Promise<MigrationResult[]> {
  const { error, results = [] } = await migrator.migrateToLatest()
  if (error === undefined) return results
  /* c8 ignore next: the race takes a schema dropped inside one query's few milliseconds (failedOnADroppedSchema is tested) */
  if (attempts > 1 && failedOnADroppedSchema(error, results)) return migrateWith(migrator, attempts - 1)
  // No result says Error when the migrator failed before running a migration (taking its lock, say).
  /* c8 ignore start */
  const failed = results.find((r) => r.status === 'Error')?.migrationName ?? '(before any migration)'
  /* c8 ignore stop */
  throw new Error(`database migration ${failed} failed: ${(error as Error).message}`)
}
