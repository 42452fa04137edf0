// A test app that logs into memory at info, as production does: for tests that bad input answers a 4xx and leaves no
// error (and no stack trace) in the log.
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { hashToken } from '../../src/api-keys/tokens.js'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createKeyring } from '../../src/crypto/keyring.js'
import { ADMIN_TOKEN, TEST_MASTER_KEY, type TestDatabase } from './app.js'
import type { DocumentFetcher } from '../../src/verify/documents.js'

export interface LogLine {
  level: number
  msg?: string
  err?: { message?: string; stack?: string }
}

export interface LoggedApp {
  app: FastifyInstance
  /** Every line logged since the app was built, parsed. */
  lines: LogLine[]
}

/** On `database`, with the admin token and master key buildTestApp uses, so apps on one database share issuers and keys. */
export async function buildLoggedApp(
  t: Test, database: TestDatabase, options: { env?: Record<string, string>; fetchDocument?: DocumentFetcher } = {}
): Promise<LoggedApp> {
  const lines: LogLine[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as LogLine)
      callback()
    }
  })
  const config = loadConfig({ PUBLIC_URL: 'https://badges.example.edu', LOG_LEVEL: 'info', DATA_DIR: '/nonexistent', ...options.env })
  const app = await buildApp({
    config, db: database.db, keyring: createKeyring(TEST_MASTER_KEY), adminTokenHash: hashToken(ADMIN_TOKEN),
    logger: { level: config.LOG_LEVEL, stream }, ...(options.fetchDocument && { fetchDocument: options.fetchDocument })
  })
  t.teardown(() => app.close())
  await app.ready()
  return { app, lines }
}

/** What was logged at error level or above (a 500 logs its error, stack and all, at error). */
export function errorLines(logged: LoggedApp): LogLine[] {
  return logged.lines.filter((line) => line.level >= 50)
}
