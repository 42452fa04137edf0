// Process entry: config → master key → database → migrate → admin token → app → listen; graceful shutdown.
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ensureAdminToken } from './api-keys/admin-token.js'
import { loadConfig } from './config.js'
import { createKeyring } from './crypto/keyring.js'
import { resolveMasterKey } from './crypto/master-key.js'
import { openDatabase, pgliteDirectory } from './db/database.js'
import { migrateToLatest } from './db/migrate.js'

async function start(): Promise<void> {
  const startedAt = performance.now()
  const config = loadConfig()
  const masterKey = resolveMasterKey(config)
  const database = config.DATABASE_URL !== undefined
    ? await openDatabase({ url: config.DATABASE_URL, preparedStatements: config.LANYARD_DB_PREPARED_STATEMENTS })
    : await openDatabase({ pgliteDir: pgliteDirectory(config.DATA_DIR) })
  await migrateToLatest(database.db)
  const adminToken = await ensureAdminToken(database.db, config)
  const app = await buildApp({ config, db: database.db, keyring: createKeyring(masterKey.key), adminTokenHash: adminToken.hash })
  app.addHook('onClose', async () => { await database.db.destroy() })

  if (masterKey.generatedAt !== undefined) {
    app.log.warn(`LANYARD_MASTER_KEY is not set: generated a master key into ${masterKey.generatedAt}. ` +
      'Back it up: issuer keys cannot be used without it. Set LANYARD_MASTER_KEY in production.')
  }

  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    /* c8 ignore next: the crash path (uncaught exception) cannot be provoked from outside the process */
    if (err !== undefined) app.log.error({ err }, 'shutting down after an error')
    app.log.info(`${signal} received: shutting down`)
    await app.close()
  })

  const address = await app.listen({ port: config.PORT, host: config.HOST })
  const where = database.kind === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${pgliteDirectory(config.DATA_DIR)}`
  const lines = [
    `Lanyard listening on ${address} (public URL ${config.PUBLIC_URL})`,
    `API docs: ${address}/docs · OpenAPI: ${address}/openapi.json`,
    `Database: ${where}`,
    `Ready in ${Math.round(performance.now() - startedAt)} ms`
  ]
  if (adminToken.generated !== undefined) {
    lines.push('', 'Admin token (shown once; only its hash is kept — save it now):', `  ${adminToken.generated}`, '')
  }
  process.stdout.write(`${lines.join('\n')}\n`)
}

start().catch((error: unknown) => {
  process.stderr.write(`Lanyard failed to start: ${(error as Error).message}\n`)
  process.exit(1)
})
