// The service as a newcomer runs it: a real process, a real port, an empty DATA_DIR, a restart.
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { freshPostgresSchema } from './helpers/app.js'
import { startLanyard, stop } from './helpers/process.js'

async function startStopRestart(t: Test, env: Record<string, string>, label: string) {
  const first = await startLanyard(env)
  t.comment(`${label} cold start on an empty DATA_DIR: ${Math.round(first.startupMs)} ms (process spawn to listening)`)
  const token = /Admin token[^\n]*\n\s+(lny_admin_\S+)/.exec(first.output())?.[1]
  t.ok(token, 'prints the generated admin token on first start')
  t.match(first.output(), /API docs: http:\/\/\S+\/docs/, 'says where the docs are')
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }

  const health = await fetch(`${first.baseUrl}/health`)
  t.equal(health.status, 200)
  t.same(await health.json(), { status: 'ok', database: 'ok' })
  const created = await fetch(`${first.baseUrl}/v1/issuers`, {
    method: 'POST', headers: auth, body: JSON.stringify({ name: 'Persistent Polytechnic', url: 'https://poly.example.edu' })
  })
  t.equal(created.status, 201)
  const issuer = await created.json() as { id: string; did: string }
  t.equal(await stop(first), 0, 'SIGTERM shuts down cleanly')

  const second = await startLanyard(env)
  t.comment(`${label} warm restart: ${Math.round(second.startupMs)} ms`)
  t.notMatch(second.output(), /Admin token/, 'the token is printed only once')
  const again = await fetch(`${second.baseUrl}/v1/issuers/${issuer.id}`, { headers: auth })
  t.equal(again.status, 200, 'the same admin token still works')
  t.match(await again.json(), { id: issuer.id, did: issuer.did, name: 'Persistent Polytechnic' }, 'the issuer survived the restart')
  t.equal(await stop(second), 0)
}

t.test('on the embedded database: starts on an empty DATA_DIR, migrates, serves, and keeps its data across a restart', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lanyard-data-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  await startStopRestart(t, { DATA_DIR: dataDir, PUBLIC_URL: 'http://localhost:3000' }, 'PGlite')
  t.equal(statSync(path.join(dataDir, 'master.key')).mode & 0o777, 0o600, 'the generated master key is readable by its owner only')
  t.ok(statSync(path.join(dataDir, 'pglite')).isDirectory(), 'the database lives in DATA_DIR')
})

t.test('on PostgreSQL through DATABASE_URL', { skip: process.env.TEST_DATABASE_URL ? false : 'PostgreSQL run skipped: TEST_DATABASE_URL is not set' }, async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lanyard-data-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const url = await freshPostgresSchema(t)
  await startStopRestart(t, { DATA_DIR: dataDir, DATABASE_URL: url, PUBLIC_URL: 'http://localhost:3000' }, 'PostgreSQL')
})

t.test('a bad configuration value stops start-up with a message naming the variable', async (t) => {
  const failure = await startLanyard({ PORT: 'not-a-port', DATA_DIR: '/nonexistent' }).catch((error: Error) => error)
  t.type(failure, Error)
  t.match((failure as Error).message, /exited 1 before listening[\s\S]*PORT/)
})

t.test('NODE_ENV=production without LANYARD_MASTER_KEY refuses to start', async (t) => {
  const failure = await startLanyard({ NODE_ENV: 'production', DATA_DIR: '/nonexistent' }).catch((error: Error) => error)
  t.match((failure as Error).message, /exited 1 before listening[\s\S]*LANYARD_MASTER_KEY/)
})
