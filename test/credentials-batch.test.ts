import { sql, type Kysely } from 'kysely'
import t from 'tap'
import type { Database } from '../src/db/schema.js'
import { admin, bearer, buildTestApp, createApiKey, createIssuer, onEachDatabase } from './helpers/app.js'
import { verifyDataIntegrity, verifyVcJwt } from './helpers/independent-verifier.js'
import { createAchievement, resolverFor } from './helpers/credentials.js'

type Counts = Record<'credentials' | 'recipients' | 'idempotency_keys' | 'audit_events', number>

async function rowCounts(db: Kysely<Database>): Promise<Counts> {
  const counts = {} as Counts
  for (const table of ['credentials', 'recipients', 'idempotency_keys', 'audit_events'] as const) {
    const row = await db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
    counts[table] = Number(row.n)
  }
  return counts
}

const learners = (count: number, cohort = 'a') =>
  Array.from({ length: count }, (_, i) => ({ recipient: { email: `learner${i}.${cohort}@example.com`, externalId: `lms-${cohort}-${i}` } }))

await onEachDatabase(t, async (t, database) => {
  const { app, db } = await buildTestApp(t, database)
  const resolve = resolverFor(app)
  const issuer = await createIssuer(app)
  const badge = await createAchievement(app, issuer.id)

  const batch = (payload: Record<string, unknown>, headers: Record<string, string> = admin) =>
    app.inject({ method: 'POST', url: '/v1/credentials/batch', headers, payload })

  await t.test('a batch issues one credential per item, in order, each verifying; a person listed twice is one recipient', async (t) => {
    const res = await batch({
      achievementId: badge.id,
      items: [
        { recipient: { email: 'ada@example.com', name: 'Ada' } },
        { recipient: { did: 'did:example:bob' }, narrative: 'Top of the class.' },
        { recipient: { email: 'ADA@example.com', externalId: 'lms-ada' }, validUntil: '2099-01-01T00:00:00Z' },
        { recipient: { email: 'ada@EXAMPLE.com' } }
      ]
    })
    t.equal(res.statusCode, 201, res.body)
    const { credentials } = res.json()
    t.equal(credentials.length, 4)
    t.match(credentials[1].credential.credentialSubject, { id: 'did:example:bob', narrative: 'Top of the class.' })
    t.equal(credentials[2].validUntil, '2099-01-01T00:00:00.000Z')
    t.equal(credentials[0].recipientId, credentials[2].recipientId, 'one recipient row for Ada')
    t.equal(credentials[3].recipientId, credentials[0].recipientId)
    const ada = await db.selectFrom('recipients').selectAll().where('id', '=', credentials[0].recipientId).executeTakeFirstOrThrow()
    t.match(ada, { name: 'Ada', external_id: 'lms-ada' })
    for (const issued of credentials) {
      const verification = await verifyDataIntegrity(issued.credential, resolve)
      t.ok(verification.verified, verification.error ?? 'verifies')
    }
  })

  await t.test('one bad item: 400 naming it by pointer, and nothing issued', async (t) => {
    const before = await rowCounts(db)
    const items: object[] = learners(5)
    items[3] = { recipient: { email: 'not an email' } }
    const res = await batch({ achievementId: badge.id, format: 'vc-jwt', items })
    t.equal(res.statusCode, 400)
    t.same(res.json().errors.map((e: { pointer: string }) => e.pointer), ['/items/3/recipient/email'])
    t.same(await rowCounts(db), before)
  })

  await t.test('more than 1000 items, or none, is a 400', async (t) => {
    for (const items of [learners(1001), []]) {
      const res = await batch({ achievementId: badge.id, format: 'vc-jwt', items })
      t.equal(res.statusCode, 400)
      t.match(res.json().errors, [{ pointer: '/items' }])
    }
  })

  await t.test('the same Idempotency-Key and body returns the same credential; another body with it is a 409', async (t) => {
    const headers = { ...admin, 'idempotency-key': 'enrol-2026-ada' }
    const body = { achievementId: badge.id, recipient: { email: 'retry@example.com' }, format: 'vc-jwt', jwtAlg: 'EdDSA' }
    const first = await app.inject({ method: 'POST', url: '/v1/credentials', headers, payload: body })
    t.equal(first.statusCode, 201)
    t.notOk(first.headers['idempotent-replayed'])
    const before = await rowCounts(db)
    const reordered = Object.fromEntries(Object.entries(body).reverse())
    const again = await app.inject({ method: 'POST', url: '/v1/credentials', headers, payload: reordered })
    t.equal(again.statusCode, 201)
    t.equal(again.headers['idempotent-replayed'], 'true')
    t.same(again.json(), first.json(), 'the same credential, byte for byte')
    t.same(await rowCounts(db), before, 'nothing new written')

    const changed = await app.inject({ method: 'POST', url: '/v1/credentials', headers, payload: { ...body, recipient: { email: 'other@example.com' } } })
    t.equal(changed.statusCode, 409)
    t.match(changed.json(), { code: 'idempotency-key-reused' })
    const asBatch = await batch({ achievementId: badge.id, format: 'vc-jwt', jwtAlg: 'EdDSA', items: [{ recipient: body.recipient }] }, headers)
    t.equal(asBatch.statusCode, 409, 'a key used for a single issue does not replay as a batch')

    const { key } = await createApiKey(app, issuer.id)
    const other = await app.inject({ method: 'POST', url: '/v1/credentials', headers: { ...bearer(key), 'idempotency-key': 'enrol-2026-ada' }, payload: body })
    t.equal(other.statusCode, 201, 'keys are scoped to the caller')
    t.not(other.json().id, first.json().id)
  })

  await t.test('a request that failed can be retried with its key', async (t) => {
    const headers = { ...admin, 'idempotency-key': 'will-fail-first' }
    const body = { achievementId: badge.id, recipient: { did: 'did:example:late' }, format: 'vc-jwt', jwtAlg: 'EdDSA' }
    await db.updateTable('achievements').set({ achievement_type: 'NotAType' }).where('id', '=', badge.id).execute()
    const failed = await app.inject({ method: 'POST', url: '/v1/credentials', headers, payload: body })
    t.equal(failed.statusCode, 422)
    await db.updateTable('achievements').set({ achievement_type: 'Certificate' }).where('id', '=', badge.id).execute()
    const retried = await app.inject({ method: 'POST', url: '/v1/credentials', headers, payload: body })
    t.equal(retried.statusCode, 201)
  })

  await t.test('concurrent requests with one Idempotency-Key make one credential', async (t) => {
    const before = await rowCounts(db)
    const headers = { ...admin, 'idempotency-key': 'double-click' }
    const body = { achievementId: badge.id, recipient: { email: 'twice@example.com' } }
    const replies = await Promise.all(Array.from({ length: 6 }, () => app.inject({ method: 'POST', url: '/v1/credentials', headers, payload: body })))
    t.same(replies.map((r) => r.statusCode), Array(6).fill(201))
    t.equal(new Set(replies.map((r) => r.json().id)).size, 1, 'every reply names the same credential')
    const after = await rowCounts(db)
    t.equal(after.credentials - before.credentials, 1)
    t.equal(after.idempotency_keys - before.idempotency_keys, 1)
  })

  await t.test('a batch replays with its key', async (t) => {
    const headers = { ...admin, 'idempotency-key': 'cohort-7' }
    const body = { achievementId: badge.id, format: 'vc-jwt', jwtAlg: 'EdDSA', items: learners(3) }
    const first = (await batch(body, headers)).json()
    const again = await batch(body, headers)
    t.equal(again.headers['idempotent-replayed'], 'true')
    t.same(again.json().credentials.map((c: { id: string }) => c.id), first.credentials.map((c: { id: string }) => c.id))
  })

  await t.test('a malformed Idempotency-Key is a 400', async (t) => {
    const res = await app.inject({
      method: 'POST', url: '/v1/credentials', headers: { ...admin, 'idempotency-key': 'has space' },
      payload: { achievementId: badge.id, recipient: { did: 'did:example:a' } }
    })
    t.equal(res.statusCode, 400)
    t.match(res.json().errors, [{ pointer: '/idempotency-key', in: 'headers' }])
  })

  if (database.kind !== 'postgres') return

  await t.test('PostgreSQL: a batch of 1000 with one bad item is refused whole', async (t) => {
    const before = await rowCounts(db)
    const items: object[] = learners(1000)
    items[637] = { recipient: { email: 'learner637@example.com' }, validFrom: '2026-02-01T00:00:00Z', validUntil: '2026-01-01T00:00:00Z' }
    const res = await batch({ achievementId: badge.id, format: 'vc-jwt', jwtAlg: 'EdDSA', items })
    t.equal(res.statusCode, 400)
    t.same(res.json().errors.map((e: { pointer: string }) => e.pointer), ['/items/637/validUntil'])
    t.same(await rowCounts(db), before, 'zero rows written')
  })

  await t.test('PostgreSQL: a request that finds its key taken by one still in flight answers that one\'s credential', async (t) => {
    // The first claim of the key sleeps inside its transaction, so the second request passes its early check,
    // signs, and then finds the key taken when the first commits.
    await sql`create function slow_first_claim() returns trigger language plpgsql as $$
      begin perform pg_sleep(0.4); return new; end $$`.execute(db)
    await sql`create trigger slow_first_claim before insert on idempotency_keys for each row execute function slow_first_claim()`.execute(db)
    t.teardown(async () => { await sql`drop trigger if exists slow_first_claim on idempotency_keys`.execute(db) })
    const headers = { ...admin, 'idempotency-key': 'in-flight' }
    const body = { achievementId: badge.id, recipient: { email: 'inflight@example.com' }, format: 'vc-jwt', jwtAlg: 'EdDSA' }
    const first = app.inject({ method: 'POST', url: '/v1/credentials', headers, payload: body })
    await new Promise((resolve) => setTimeout(resolve, 150))
    const second = await app.inject({ method: 'POST', url: '/v1/credentials', headers, payload: body })
    const winner = await first
    t.equal(winner.statusCode, 201)
    t.equal(second.statusCode, 201)
    t.equal(second.headers['idempotent-replayed'], 'true')
    t.equal(second.json().id, winner.json().id)
    const conflicting = app.inject({ method: 'POST', url: '/v1/credentials', headers: { ...admin, 'idempotency-key': 'in-flight-2' }, payload: body })
    await new Promise((resolve) => setTimeout(resolve, 150))
    const other = await app.inject({ method: 'POST', url: '/v1/credentials', headers: { ...admin, 'idempotency-key': 'in-flight-2' }, payload: { ...body, recipient: { email: 'someone.else@example.com' } } })
    t.equal((await conflicting).statusCode, 201)
    t.equal(other.statusCode, 409, 'a different body under a key taken in flight is a 409')
  })

  await t.test('PostgreSQL: a failure half-way through writing a batch of 1000 leaves zero rows', async (t) => {
    const before = await rowCounts(db)
    // A real database failure at the 500th credential row, after recipients and the first 499 rows were written in the transaction.
    await sql`create sequence trip_wire`.execute(db)
    await sql`create function fail_half_way() returns trigger language plpgsql as $$
      begin
        if nextval('trip_wire') = 500 then raise exception 'simulated failure half-way through the batch'; end if;
        return new;
      end $$`.execute(db)
    await sql`create trigger fail_half_way before insert on credentials for each row execute function fail_half_way()`.execute(db)
    t.teardown(async () => { await sql`drop trigger if exists fail_half_way on credentials`.execute(db) })

    const res = await batch({ achievementId: badge.id, format: 'vc-jwt', jwtAlg: 'EdDSA', items: learners(1000, 'big') }, { ...admin, 'idempotency-key': 'half-way' })
    t.equal(res.statusCode, 500)
    t.notMatch(res.body, /simulated|trigger|trip_wire/, 'no internals in the reply')
    t.same(await rowCounts(db), before, 'no credential, recipient, idempotency or audit row survives')

    await sql`drop trigger fail_half_way on credentials`.execute(db)
    const retried = await batch({ achievementId: badge.id, format: 'vc-jwt', jwtAlg: 'EdDSA', items: learners(1000, 'big') }, { ...admin, 'idempotency-key': 'half-way' })
    t.equal(retried.statusCode, 201, 'the same key works once the failure is gone')
    const { credentials } = retried.json()
    t.equal(credentials.length, 1000)
    t.equal(credentials[999].credential.credentialSubject.identifier[0].type, 'IdentityObject')
    t.ok((await verifyVcJwt(credentials[999].jwt, resolve)).verified)
    const after = await rowCounts(db)
    t.equal(after.credentials - before.credentials, 1000)
    t.equal(after.recipients - before.recipients, 1000)
  })
})
