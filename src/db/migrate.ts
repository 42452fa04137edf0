// Brings a database to the latest schema with Kysely's Migrator and the explicit migration list.
import { Migrator, type Kysely, type MigrationResult } from 'kysely'
import { migrations } from '../../migrations/index.js'

export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResult[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } })
  const { error, results = [] } = await migrator.migrateToLatest()
  if (error === undefined) return results
  // No result says Error when the migrator failed before running a migration (taking its lock, say).
  /* c8 ignore start */
  const failed = results.find((r) => r.status === 'Error')?.migrationName ?? '(before any migration)'
  /* c8 ignore stop */
  throw new Error(`database migration ${failed} failed: ${(error as Error).message}`)
}
