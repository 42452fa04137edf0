// Process entry: config → master key → database → migrate → admin token → app → listen; graceful shutdown.
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ensureAdminToken } from './api-keys/admin-token.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { createKeyring } from './crypto/keyring.js'
import { resolveMasterKey } from './crypto/master-key.js'
import { openDatabase, pgliteDirectory } from './db/database.js'
import { migrateToLatest } from './db/migrate.js'

function readConfig(): Config {
  try {
    return loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Lanyard cannot start: ${error.message}\n`)
      process.exit(1)
    }
    throw error
  }
}

async function start(): Promise<void> {
  const startedAt = performance.now()
  const config = readConfig()
  const masterKey = resolveMasterKey(config)
  const database = config.DATABASE_URL !== undefined
    ? await openDatabase({ url: config.DATABASE_URL })
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
    if (err !== undefined) app.log.error({ err }, 'shutting down after an error')
    else app.log.info(`${signal ?? 'close'} received: shutting down`)
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
  process.stderr.write(`Lanyard failed to start: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
