// The Idempotency-Key TTL and the periodic sweep: what a client, a learner and a reviewer see before and after records expire.
import { randomBytes, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyBaseLogger } from 'fastify'
import { sql } from 'kysely'
import t, { type Test } from 'tap'
import { hashToken } from '../src/api-keys/tokens.js'
import { loadConfig } from '../src/config.js'
import { openDatabase } from '../src/db/database.js'
import type { Db } from '../src/db/schema.js'
import { CLOSED_LINK_RETENTION_MS, startSweeper, sweep } from '../src/ops/sweep.js'
import { secretHash } from '../src/submissions/reviewers.js'
import { admin, assertProblem, buildTestApp, createIssuer, onEachDatabase, openTestDatabase, type TestDatabase } from './helpers/app.js'
import { createAchievement } from './helpers/credentials.js'
import { learners } from './helpers/jobs.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR

t.test('LANYARD_IDEMPOTENCY_TTL_HOURS is 24 by default, and a whole number of hours from 1 to 8760', async (t) => {
  t.equal(loadConfig({}).LANYARD_IDEMPOTENCY_TTL_HOURS, 24)
  t.equal(loadConfig({ LANYARD_IDEMPOTENCY_TTL_HOURS: '1' }).LANYARD_IDEMPOTENCY_TTL_HOURS, 1)
  t.equal(loadConfig({ LANYARD_IDEMPOTENCY_TTL_HOURS: '8760' }).LANYARD_IDEMPOTENCY_TTL_HOURS, 8760)
  for (const value of ['0', '-1', '8761', '1.5', 'a day']) {
    t.throws(() => loadConfig({ LANYARD_IDEMPOTENCY_TTL_HOURS: value }), { name: 'ConfigError', message: /LANYARD_IDEMPOTENCY_TTL_HOURS/ }, value)
  }
})

/** A logger that keeps what the sweep says. */
function recordingLog() {
  const lines: { level: 'info' | 'error'; data: Record<string, unknown>; message: string }[] = []
  const log = {
    info: (data: Record<string, unknown>, message: string) => lines.push({ level: 'info', data, message }),
    error: (data: Record<string, unknown>, message: string) => lines.push({ level: 'error', data, message })
  } as unknown as FastifyBaseLogger
  return { lines, log }
}

async function until(what: string, done: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!await done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not after ${ms} ms`)
    await sleep(20)
  }
}

await onEachDatabase(t, async (t, database) => {
  const { db } = database
  // A TTL of one hour: records are aged past it by SQL.
  const { app } = await buildTestApp(t, database, { env: { LANYARD_IDEMPOTENCY_TTL_HOURS: '1' }, sweep: { autoStart: false }, jobs: { autoStart: false } })
  const issuer = await createIssuer(app)
  const badge = await createAchievement(app, issuer.id)
  const settings = { idempotencyTtlMs: HOUR }
  const issue = (key: string, email: string) => app.inject({
    method: 'POST', url: '/v1/credentials', headers: { ...admin, 'idempotency-key': key },
    payload: { achievementId: badge.id, recipient: { email }, format: 'vc-jwt', jwtAlg: 'EdDSA' }
  })
  const ageKey = (key: string, ms: number) =>
    sql`update idempotency_keys set created_at = now() - ${ms}::double precision * interval '1 millisecond' where key = ${key}`.execute(db)
  const sweepAll = () => sweep(db, settings)

  await t.test('an Idempotency-Key replays within its TTL; after it, the same key issues a new credential, with the same body or another', async (t) => {
    const key = `ttl-${randomUUID()}`
    const first = await issue(key, 'ada@example.com')
    t.equal(first.statusCode, 201)
    await ageKey(key, HOUR - 60_000)
    const replay = await issue(key, 'ada@example.com')
    t.equal(replay.headers['idempotent-replayed'], 'true', 'a minute short of the TTL it still replays')
    t.equal(replay.json().id, first.json().id)
    assertProblem(t, await issue(key, 'grace@example.com'), 409, 'idempotency-key-reused')

    await ageKey(key, HOUR + 1000)
    const renewed = await issue(key, 'ada@example.com')
    t.equal(renewed.statusCode, 201)
    t.notOk(renewed.headers['idempotent-replayed'], 'past the TTL the key is new again')
    t.not(renewed.json().id, first.json().id, 'a new credential')
    const again = await issue(key, 'ada@example.com')
    t.equal(again.json().id, renewed.json().id, 'and the key now replays the new one')
    assertProblem(t, await issue(key, 'grace@example.com'), 409, 'idempotency-key-reused')

    await ageKey(key, HOUR + 1000)
    const other = await issue(key, 'grace@example.com')
    t.equal(other.statusCode, 201, 'past the TTL another body is welcome too')
    t.notOk(other.headers['idempotent-replayed'])
    t.notOk([first.json().id, renewed.json().id].includes(other.json().id), 'a new credential')
    const records = await db.selectFrom('idempotency_keys').select('credential_ids').where('key', '=', key).execute()
    t.same(records, [{ credential_ids: [other.json().id] }], 'one record of the key, the latest request\'s')
    t.equal((await app.inject({ method: 'GET', url: `/v1/credentials/${first.json().id}`, headers: admin })).statusCode, 200, 'the first credential stays')
  })

  await t.test('concurrent retries with an expired key make one new credential, and every reply is it', async (t) => {
    const key = `ttl-race-${randomUUID()}`
    const first = await issue(key, 'lin@example.com')
    await ageKey(key, HOUR + 1000)
    const replies = await Promise.all(Array.from({ length: 4 }, () => issue(key, 'lin@example.com')))
    t.same(replies.map((reply) => reply.statusCode), [201, 201, 201, 201])
    const ids = new Set(replies.map((reply) => reply.json().id))
    t.equal(ids.size, 1, 'one new credential')
    t.notOk(ids.has(first.json().id))
  })

  await t.test('a batch\'s Idempotency-Key expires the same way', async (t) => {
    const key = `batch-${randomUUID()}`
    const batch = () => app.inject({
      method: 'POST', url: '/v1/credentials/batch', headers: { ...admin, 'idempotency-key': key },
      payload: { achievementId: badge.id, format: 'vc-jwt', jwtAlg: 'EdDSA', items: [{ recipient: { email: 'batch@example.com' } }] }
    })
    const first = await batch()
    t.equal(first.statusCode, 201)
    t.equal((await batch()).headers['idempotent-replayed'], 'true')
    await ageKey(key, HOUR + 1000)
    const renewed = await batch()
    t.equal(renewed.statusCode, 201)
    t.notOk(renewed.headers['idempotent-replayed'])
    t.not(renewed.json().credentials[0].id, first.json().credentials[0].id)
  })

  await t.test('a job\'s Idempotency-Key replays within the TTL; after it, the same key queues a new job and the old job stays', async (t) => {
    const headers = { ...admin, 'idempotency-key': `job-${randomUUID()}` }
    const submit = (cohort: string) => app.inject({ method: 'POST', url: '/v1/jobs', headers, payload: { type: 'issue', achievementId: badge.id, items: learners(2, cohort) } })
    const first = await submit('spring')
    t.equal(first.statusCode, 202)
    t.equal((await submit('spring')).json().id, first.json().id)
    assertProblem(t, await submit('autumn'), 409, 'idempotency-key-reused')

    await sql`update jobs set created_at = now() - interval '2 hours' where id = ${first.json().id}`.execute(db)
    const renewed = await submit('autumn')
    t.equal(renewed.statusCode, 202)
    t.notOk(renewed.headers['idempotent-replayed'])
    t.not(renewed.json().id, first.json().id, 'a new job')
    t.equal((await submit('autumn')).json().id, renewed.json().id, 'the key now replays the new job')
    t.equal((await app.inject({ method: 'GET', url: `/v1/jobs/${first.json().id}`, headers: admin })).statusCode, 200, 'the old job is still there')
  })

  await t.test('the sweep deletes Idempotency-Key records older than the TTL, a batch at a time, and keeps fresh ones', async (t) => {
    await db.deleteFrom('idempotency_keys').execute()
    const record = (key: string) => ({ scope: 'sweep', key, request_hash: 'h', credential_ids: JSON.stringify([]) })
    await db.insertInto('idempotency_keys').values([...Array.from({ length: 5 }, (_, i) => record(`old-${i}`)), record('fresh'), record('lanyard-job:1:0')]).execute()
    await sql`update idempotency_keys set created_at = now() - interval '61 minutes' where key like 'old-%' or key like 'lanyard-%'`.execute(db)
    const counts = await sweep(db, { ...settings, batch: 2 })
    t.equal(counts.idempotencyRecords, 5, 'five old records, in batches of two')
    t.same((await db.selectFrom('idempotency_keys').select('key').orderBy('key').execute()).map((r) => r.key), ['fresh', 'lanyard-job:1:0'],
      'Lanyard\'s own keys (a job chunk\'s, a pathway award\'s, a submission\'s) never expire')
  })

  await t.test('Lanyard\'s own Idempotency-Key replays at any age: a retry after a long outage never issues twice', async (t) => {
    const key = `lanyard-pathway:${randomUUID()}`
    const first = await issue(key, 'ada@example.com')
    t.equal(first.statusCode, 201)
    await ageKey(key, 30 * DAY)
    const replay = await issue(key, 'ada@example.com')
    t.equal(replay.headers['idempotent-replayed'], 'true')
    t.equal(replay.json().id, first.json().id)
  })

  await t.test('the sweep forgets old jobs\' Idempotency-Keys but keeps the jobs', async (t) => {
    const submit = (key: string) => app.inject({
      method: 'POST', url: '/v1/jobs', headers: { ...admin, 'idempotency-key': key },
      payload: { type: 'issue', achievementId: badge.id, items: learners(1, 'sweep') }
    })
    const oldKey = `job-old-${randomUUID()}`
    const freshKey = `job-fresh-${randomUUID()}`
    const old = (await submit(oldKey)).json()
    const fresh = (await submit(freshKey)).json()
    await sql`update jobs set created_at = now() - interval '2 hours' where id = ${old.id}`.execute(db)
    t.ok((await sweepAll()).jobKeys >= 1)
    const keyOf = (id: string) => db.selectFrom('jobs').select(['idempotency_key', 'request_hash']).where('id', '=', id).executeTakeFirstOrThrow()
    t.same(await keyOf(old.id), { idempotency_key: null, request_hash: null }, 'the old job is kept, its key forgotten')
    t.match(await keyOf(fresh.id), { idempotency_key: freshKey, request_hash: /^[0-9a-f]{64}$/ })
  })

  await t.test('a used or expired claim link answers 410 for a week after it closed, then the sweep deletes it (404)', async (t) => {
    const claimFor = async (email: string) => {
      const credential = (await issue(`claim-${randomUUID()}`, email)).json()
      const res = await app.inject({ method: 'POST', url: `/v1/credentials/${credential.id}/claims`, headers: admin })
      t.equal(res.statusCode, 201)
      const claim = res.json()
      return { id: claim.id as string, offer: `${new URL(claim.claimUrl).pathname}/offer` }
    }
    const offer = (claim: { offer: string }) => app.inject({ method: 'GET', url: claim.offer })
    const [open, usedRecently, usedLongAgo, expiredRecently, expiredLongAgo] = await Promise.all(
      ['open', 'used-recently', 'used-long-ago', 'expired-recently', 'expired-long-ago'].map((name) => claimFor(`${name}@example.com`)))
    const usedAgo = (claim: { id: string }, ms: number) =>
      db.updateTable('claims').set({ used_at: new Date(Date.now() - ms), used_by: 'lcw' }).where('id', '=', claim.id).execute()
    const expiredAgo = (claim: { id: string }, ms: number) =>
      db.updateTable('claims').set({ expires_at: new Date(Date.now() - ms) }).where('id', '=', claim.id).execute()
    await usedAgo(usedRecently!, CLOSED_LINK_RETENTION_MS - HOUR)
    await usedAgo(usedLongAgo!, CLOSED_LINK_RETENTION_MS + HOUR)
    await expiredAgo(expiredRecently!, CLOSED_LINK_RETENTION_MS - HOUR)
    await expiredAgo(expiredLongAgo!, CLOSED_LINK_RETENTION_MS + HOUR)
    // A token of the claim used long ago, expired as tokens are minutes after use: both go in the one sweep.
    await db.insertInto('oid4vci_access_tokens').values({ token_hash: hashToken(`token-${randomUUID()}`), claim_id: usedLongAgo!.id, expires_at: new Date(Date.now() - DAY) }).execute()

    const counts = await sweepAll()
    t.equal(counts.claims, 2)
    t.equal((await offer(open!)).statusCode, 200, 'an open claim is untouched')
    assertProblem(t, await offer(usedRecently!), 410, 'claim-used')
    assertProblem(t, await offer(expiredRecently!), 410, 'claim-expired')
    assertProblem(t, await offer(usedLongAgo!), 404, 'not-found')
    assertProblem(t, await offer(expiredLongAgo!), 404, 'not-found')
  })

  await t.test('a claim an access token still names waits for a later sweep', async (t) => {
    const credential = (await issue(`claim-${randomUUID()}`, 'token-holder@example.com')).json()
    const claim = (await app.inject({ method: 'POST', url: `/v1/credentials/${credential.id}/claims`, headers: admin })).json()
    await sql`update claims set used_at = now() - interval '8 days', used_by = 'oid4vci' where id = ${claim.id}`.execute(db)
    const token = hashToken(`token-${randomUUID()}`)
    await db.insertInto('oid4vci_access_tokens').values({ token_hash: token, claim_id: claim.id, expires_at: new Date(Date.now() + HOUR) }).execute()
    t.equal((await sweepAll()).claims, 0)
    await db.updateTable('oid4vci_access_tokens').set({ expires_at: new Date(Date.now() - 1000) }).where('token_hash', '=', token).execute()
    t.match(await sweepAll(), { accessTokens: 1, claims: 1 })
    t.equal(await db.selectFrom('claims').select('id').where('id', '=', claim.id).executeTakeFirst(), undefined)
  })

  await t.test('expired OID4VCI tokens and nonces, closed sign-in links and expired review sessions are deleted; live ones stay', async (t) => {
    const credential = (await issue(`tokens-${randomUUID()}`, 'tokens@example.com')).json()
    const claim = (await app.inject({ method: 'POST', url: `/v1/credentials/${credential.id}/claims`, headers: admin })).json()
    const reviewer = randomUUID()
    await db.insertInto('reviewers').values({ id: reviewer, email: `reviewer-${reviewer}@example.edu` }).execute()
    const past = new Date(Date.now() - 1000)
    const future = new Date(Date.now() + HOUR)
    const longAgo = new Date(Date.now() - CLOSED_LINK_RETENTION_MS - HOUR)
    const recently = new Date(Date.now() - CLOSED_LINK_RETENTION_MS + HOUR)
    await db.insertInto('oid4vci_access_tokens').values([
      { token_hash: 'token-expired', claim_id: claim.id, expires_at: past },
      { token_hash: 'token-live', claim_id: claim.id, expires_at: future }
    ]).execute()
    await db.insertInto('oid4vci_nonces').values([{ nonce: 'nonce-expired', expires_at: past }, { nonce: 'nonce-live', expires_at: future }]).execute()
    const link = () => randomBytes(32).toString('base64url')
    const links = { open: link(), usedRecently: link(), usedLongAgo: link(), expiredRecently: link(), expiredLongAgo: link() }
    await db.insertInto('reviewer_sign_ins').values([
      { token_hash: secretHash(links.open), reviewer_id: reviewer, expires_at: future },
      { token_hash: secretHash(links.usedRecently), reviewer_id: reviewer, expires_at: future, used_at: recently },
      { token_hash: secretHash(links.usedLongAgo), reviewer_id: reviewer, expires_at: future, used_at: longAgo },
      { token_hash: secretHash(links.expiredRecently), reviewer_id: reviewer, expires_at: recently },
      { token_hash: secretHash(links.expiredLongAgo), reviewer_id: reviewer, expires_at: longAgo }
    ]).execute()
    await db.insertInto('reviewer_sessions').values([
      { token_hash: 'session-expired', reviewer_id: reviewer, expires_at: past },
      { token_hash: 'session-live', reviewer_id: reviewer, expires_at: future }
    ]).execute()

    t.match(await sweepAll(), { accessTokens: 1, nonces: 1, signIns: 2, sessions: 1 })
    t.same((await db.selectFrom('oid4vci_access_tokens').select('token_hash').where('claim_id', '=', claim.id).execute()).map((r) => r.token_hash), ['token-live'])
    t.same((await db.selectFrom('oid4vci_nonces').select('nonce').where('nonce', 'like', 'nonce-%').execute()).map((r) => r.nonce), ['nonce-live'])
    t.same((await db.selectFrom('reviewer_sessions').select('token_hash').where('reviewer_id', '=', reviewer).execute()).map((r) => r.token_hash), ['session-live'])
    const signIn = async (token: string) => (await app.inject({ method: 'GET', url: `/review/sign-in/${token}` })).statusCode
    t.equal(await signIn(links.open), 200, 'an open sign-in link still opens')
    t.equal(await signIn(links.usedRecently), 410, 'a link used this week still says it was used')
    t.equal(await signIn(links.expiredRecently), 410, 'a link expired this week still says it expired')
    t.equal(await signIn(links.usedLongAgo), 404)
    t.equal(await signIn(links.expiredLongAgo), 404)
    t.match(await sweepAll(), { idempotencyRecords: 0, jobKeys: 0, accessTokens: 0, nonces: 0, claims: 0, signIns: 0, sessions: 0 }, 'a second sweep finds nothing')
  })

  await t.test('two instances sweeping one database at once delete each row once, and both finish', async (t) => {
    const record = (key: string) => ({ scope: 'concurrent', key, request_hash: 'h', credential_ids: JSON.stringify([]) })
    await db.insertInto('idempotency_keys').values(Array.from({ length: 40 }, (_, i) => record(`old-${i}`))).execute()
    await sql`update idempotency_keys set created_at = now() - interval '2 hours' where scope = 'concurrent'`.execute(db)
    const second = await openSecondHandle(t, database)
    const [a, b] = await Promise.all([sweep(db, { ...settings, batch: 3 }), sweep(second, { ...settings, batch: 3 })])
    t.equal(a.idempotencyRecords + b.idempotencyRecords, 40, 'each record deleted once')
    t.same(await db.selectFrom('idempotency_keys').select('key').where('scope', '=', 'concurrent').execute(), [])
  })

  await t.test('apps left to sweep on their own delete expired records, several of them on one database', async (t) => {
    const record = (key: string) => ({ scope: 'apps', key, request_hash: 'h', credential_ids: JSON.stringify([]) })
    await db.insertInto('idempotency_keys').values(Array.from({ length: 10 }, (_, i) => record(`old-${i}`))).execute()
    await sql`update idempotency_keys set created_at = now() - interval '2 days' where scope = 'apps'`.execute(db)
    const env = { LANYARD_IDEMPOTENCY_TTL_HOURS: '1' }
    await buildTestApp(t, database, { env, sweep: { intervalMs: 10 }, jobs: { autoStart: false } })
    await buildTestApp(t, { ...database, db: await openSecondHandle(t, database) }, { env, sweep: { intervalMs: 10 }, jobs: { autoStart: false } })
    await until('the apps swept', async () => (await db.selectFrom('idempotency_keys').select('key').where('scope', '=', 'apps').execute()).length === 0)
    t.pass('swept')
  })
})

/** Another connection pool on the same database, as a second instance has (PostgreSQL); PGlite is one connection, so its own handle. */
async function openSecondHandle(t: Test, database: TestDatabase): Promise<Db> {
  if (database.url === undefined) return database.db
  const { db } = await openDatabase({ url: database.url })
  t.teardown(() => db.destroy())
  return db
}

t.test('the sweeper logs what it deleted (counts only), says when a sweep fails, and stops', async (t) => {
  const { db } = await openTestDatabase(t, 'pglite')
  await db.insertInto('oid4vci_nonces').values({ nonce: 'a-secret-nonce', expires_at: new Date(Date.now() - 1000) }).execute()
  const { lines, log } = recordingLog()
  const sweeper = startSweeper({ db, log, idempotencyTtlMs: HOUR, intervalMs: 10 })
  await until('a sweep was logged', async () => lines.length > 0)
  t.match(lines[0], { level: 'info', message: 'swept expired records', data: { nonces: 1, idempotencyRecords: 0 } })
  t.notMatch(JSON.stringify(lines), 'a-secret-nonce', 'no secret in the log')
  await sleep(50)
  t.equal(lines.length, 1, 'a sweep that deletes nothing says nothing')

  await db.schema.dropTable('reviewer_sessions').execute()
  await until('a failure was logged', async () => lines.length > 1)
  t.match(lines[1], { level: 'error', message: /the sweep of expired records failed/, data: { err: { message: /reviewer_sessions/ } } })
  await sweeper.stop()
  const after = lines.length
  await sleep(50)
  t.equal(lines.length, after, 'a stopped sweeper sweeps no more')
})
