// Brings a database to the latest schema with Kysely's Migrator and the explicit migration list.
import { Migrator, sql, type Kysely, type MigrationResult } from 'kysely'
import { migrations } from '../../migrations/index.js'

export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResult[]> {
  // Kysely looks for its bookkeeping tables in any schema unless told which: name ours, so another schema's tables never count.
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db)
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, migrationTableSchema: rows[0]!.schema })
  const { error, results = [] } = await migrator.migrateToLatest()
  if (error === undefined) return results
  // No result says Error when the migrator failed before running a migration (taking its lock, say).
  /* c8 ignore start */
  const failed = results.find((r) => r.status === 'Error')?.migrationName ?? '(before any migration)'
  /* c8 ignore stop */
  throw new Error(`database migration ${failed} failed: ${(error as Error).message}`)
}
