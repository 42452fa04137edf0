// `npm run migrate`: bring the configured database (DATABASE_URL, or the embedded one in DATA_DIR) to the latest schema.
import { loadConfig } from '../config.js'
import { openDatabase, pgliteDirectory } from './database.js'
import { migrateToLatest } from './migrate.js'

const config = loadConfig()
const { db } = config.DATABASE_URL !== undefined
  ? await openDatabase({ url: config.DATABASE_URL, preparedStatements: config.LANYARD_DB_PREPARED_STATEMENTS })
  : await openDatabase({ pgliteDir: pgliteDirectory(config.DATA_DIR) })
try {
  const results = await migrateToLatest(db)
  process.stdout.write(results.length === 0 ? 'database is up to date\n' : results.map((r) => `applied ${r.migrationName}\n`).join(''))
} finally {
  await db.destroy()
}
