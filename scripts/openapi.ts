// `npm run openapi`: writes openapi/openapi.json from the route schemas (a test fails when the committed file drifts).
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { createKeyring } from '../src/crypto/keyring.js'
import { openDatabase } from '../src/db/database.js'

export const OPENAPI_FILE = fileURLToPath(new URL('../openapi/openapi.json', import.meta.url))

/** The OpenAPI document as committed: defaults only, so nothing machine- or deployment-specific leaks in. */
export async function renderOpenApi(): Promise<string> {
  // Generating the document runs no query: a pool that never connects is enough, and needs no database.
  const { db } = await openDatabase({ url: 'postgres://openapi@127.0.0.1:1/none' })
  const app = await buildApp({
    config: loadConfig({}), db, keyring: createKeyring(Buffer.alloc(32)), adminTokenHash: '', logger: false
  })
  try {
    await app.ready()
    return `${JSON.stringify(app.swagger(), null, 2)}\n`
  } finally {
    await app.close()
    await db.destroy()
  }
}

/* c8 ignore start: the command-line entry; tests compare renderOpenApi() with the committed file instead */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(OPENAPI_FILE, await renderOpenApi())
  process.stdout.write(`wrote ${OPENAPI_FILE}\n`)
}
/* c8 ignore stop */
