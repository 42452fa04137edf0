// Group commit (src/credentials/issue-writer.ts): single issues that arrive while another is being written go to the
// database together, in one statement, yet each request keeps its own outcome: its credential, audit event, recipient
// and Idempotency-Key, or nothing at all when its rows changed, its key was taken, or the database refused it.
import { randomUUID } from 'node:crypto'
import { sql, type Kysely } from 'kysely'
import t from 'tap'
import { IssueWriter, issueWriterOf } from '../src/credentials/issue-writer.js'
import { insertIssuedGroup, type IssuedWrite } from '../src/credentials/store.js'
import type { Database } from '../src/db/schema.js'
import { admin, buildTestApp, createIssuer, onEachDatabase } from './helpers/app.js'
import { createAchievement, resolverFor } from './helpers/credentials.js'
import { verifyDataIntegrity } from './helpers/independent-verifier.js'

type Table = 'credentials' | 'idempotency_keys' | 'audit_events' | 'recipients'
async function count(db: Kysely<Database>, table: Table): Promise<number> {
  const row = await db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
  return Number(row.n)
}
async function counts(db: Kysely<Database>): Promise<Record<Table, number>> {
  return {
    credentials: await count(db, 'credentials'), idempotency_keys: await count(db, 'idempotency_keys'),
    audit_events: await count(db, 'audit_events'), recipients: await count(db, 'recipients')
  }
}

await onEachDatabase(t, async (t, database) => {
  const { app, db } = await buildTestApp(t, database)
  const issuer = await createIssuer(app)
  const badge = await createAchievement(app, issuer.id)
  const issue = (email: string, headers: Record<string, string> = admin) =>
    app.inject({ method: 'POST', url: '/v1/credentials', headers, payload: { achievementId: badge.id, recipient: { email } } })
  // The first issue makes the key and remembers the context: the concurrent ones below all reach the writer together.
  t.equal((await issue('warm-up@example.com')).statusCode, 201)

  await t.test('concurrent single issues go through the group writer, each with its own credential and audit event', async (t) => {
    const before = await counts(db)
    const written = issueWriterOf(db).statistics().writes
    const replies = await Promise.all(Array.from({ length: 16 }, (_, i) => issue(`learner-${i}@example.com`)))
    for (const reply of replies) t.equal(reply.statusCode, 201, reply.body)
    t.equal(issueWriterOf(db).statistics().writes, written + 16, 'every write went through the group writer')
    const after = await counts(db)
    t.same(after, { ...before, credentials: before.credentials + 16, audit_events: before.audit_events + 16, recipients: before.recipients + 16 })
    const ids = replies.map((reply) => reply.json().id as string)
    t.equal(new Set(ids).size, 16)
    const stored = await db.selectFrom('credentials').innerJoin('recipients', 'recipients.id', 'credentials.recipient_id')
      .select(['credentials.id', 'recipients.identity', 'credentials.signed']).where('credentials.id', 'in', ids).execute()
    for (const [i, reply] of replies.entries()) {
      const row = stored.find((s) => s.id === ids[i])!
      t.equal(row.identity, `learner-${i}@example.com`, 'each credential is stored with its own recipient')
      t.same(JSON.parse(row.signed), reply.json().credential, 'and its own signed bytes')
    }
    const audited = await db.selectFrom('audit_events').select(['target_id', 'request_id']).where('target_id', 'in', ids).execute()
    t.equal(new Set(audited.map((a) => a.target_id)).size, 16, 'one audit event per credential')
    t.equal(new Set(audited.map((a) => a.request_id)).size, 16, 'each naming its own request')
    for (const reply of replies.slice(0, 2)) t.ok((await verifyDataIntegrity(reply.json().credential, resolverFor(app))).verified)
  })

  await t.test('concurrent issues to one recipient share the recipient and are all written', async (t) => {
    const replies = await Promise.all(Array.from({ length: 8 }, () => issue('same-learner@example.com')))
    for (const reply of replies) t.equal(reply.statusCode, 201, reply.body)
    const recipients = await db.selectFrom('recipients').select('id').where('identity', '=', 'same-learner@example.com').execute()
    t.equal(recipients.length, 1)
    const stored = await db.selectFrom('credentials').select('id').where('recipient_id', '=', recipients[0]!.id).execute()
    t.equal(stored.length, 8)
  })

  await t.test('concurrent retries with one Idempotency-Key make one credential, and every reply is it', async (t) => {
    const before = await counts(db)
    const headers = { ...admin, 'idempotency-key': `group-${randomUUID()}` }
    const replies = await Promise.all(Array.from({ length: 8 }, () => issue('retrying@example.com', headers)))
    for (const reply of replies) t.equal(reply.statusCode, 201, reply.body)
    t.equal(new Set(replies.map((reply) => reply.json().id)).size, 1)
    t.equal(replies.filter((reply) => reply.headers['idempotent-replayed'] === 'true').length, 7)
    t.same(await counts(db), { ...before, credentials: before.credentials + 1, audit_events: before.audit_events + 1, recipients: before.recipients + 1, idempotency_keys: before.idempotency_keys + 1 })
  })

  // Writes made by hand, as the service makes them, to reach outcomes a request cannot time.
  const key = await db.selectFrom('issuer_keys').select('id').where('issuer_id', '=', issuer.id).where('status', '=', 'active')
    .where('algorithm', '=', 'Ed25519').executeTakeFirstOrThrow()
  const versions = await db.selectFrom('achievements').innerJoin('issuers', 'issuers.id', 'achievements.issuer_id')
    .select([sql<string>`achievements.xmin::text`.as('achievement'), sql<string>`issuers.xmin::text`.as('issuer')])
    .where('achievements.id', '=', badge.id).executeTakeFirstOrThrow()
  const write = (email: string, options: { id?: string; claim?: string; versions?: typeof versions } = {}): IssuedWrite => ({
    issuerId: issuer.id,
    builtFrom: { achievementId: badge.id, versions: options.versions ?? versions, keyId: key.id },
    ...(options.claim !== undefined && { idempotency: { scope: 'test', key: options.claim, requestHash: 'h', ttlMs: 86_400_000 } }),
    recipients: [{ id: randomUUID(), identityType: 'email', identity: email, name: null, externalId: null }],
    credentials: [{
      id: options.id ?? randomUUID(), identityType: 'email', identity: email, achievement_id: badge.id, issuer_key_id: key.id,
      format: 'vc-jwt', jwt_alg: 'EdDSA', signed: `signed for ${email}`, valid_from: new Date(), valid_until: null,
      status_list_id: null, status_list_index: null, event: { email }
    }],
    audit: { actor: 'test', requestId: `request for ${email}` }
  })

  await t.test('in one group, a write built from outdated rows or with a taken key stores nothing; the others are written', async (t) => {
    await db.insertInto('idempotency_keys').values({ scope: 'test', key: 'taken', request_hash: 'other', credential_ids: JSON.stringify([]) }).execute()
    const before = await counts(db)
    const [good, outdated, taken, claimed] = await insertIssuedGroup(db, [
      write('group-good@example.com'),
      write('group-outdated@example.com', { versions: { ...versions, achievement: '1' } }),
      write('group-taken@example.com', { claim: 'taken' }),
      write('group-claimed@example.com', { claim: 'free' })
    ])
    t.equal(good?.length, 1)
    t.equal(good![0]!.signed, 'signed for group-good@example.com')
    t.equal(outdated, undefined)
    t.equal(taken, undefined)
    t.equal(claimed?.length, 1)
    t.same(await counts(db), {
      credentials: before.credentials + 2, audit_events: before.audit_events + 2, recipients: before.recipients + 2, idempotency_keys: before.idempotency_keys + 1
    })
    t.equal(await db.selectFrom('recipients').select('id').where('identity', 'in', ['group-outdated@example.com', 'group-taken@example.com']).executeTakeFirst(), undefined)
    const audit = await db.selectFrom('audit_events').select(['actor', 'request_id', 'details']).where('target_id', '=', claimed![0]!.id).executeTakeFirstOrThrow()
    t.match(audit, { actor: 'test', request_id: 'request for group-claimed@example.com', details: { format: 'vc-jwt', jwtAlg: 'EdDSA', recipientId: claimed![0]!.recipient_id } })
  })

  await t.test('a group the database refuses is written again one by one: only the bad write fails', async (t) => {
    const writer = new IssueWriter(db)
    const existing = await db.selectFrom('credentials').select('id').executeTakeFirstOrThrow()
    const before = await counts(db)
    // The first write goes at once; the next three queue behind it and then go as one group, which fails on the duplicate id.
    const first = writer.write(write('refused-1@example.com'))
    const results = await Promise.allSettled([
      first,
      writer.write(write('refused-2@example.com')),
      writer.write(write('refused-3@example.com', { id: existing.id })),
      writer.write(write('refused-4@example.com'))
    ])
    t.same(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'])
    t.same(writer.statistics(), { writes: 4, groups: 0, groupedWrites: 0, groupFailures: 1 })
    t.same(await counts(db), { ...before, credentials: before.credentials + 3, audit_events: before.audit_events + 3, recipients: before.recipients + 3 })
    t.equal(await db.selectFrom('recipients').select('id').where('identity', '=', 'refused-3@example.com').executeTakeFirst(), undefined, 'nothing of the bad write')
  })

  await t.test('writes that share a recipient or an Idempotency-Key go in separate groups, in order', async (t) => {
    const writer = new IssueWriter(db)
    const claim = `separate-${randomUUID()}`
    const first = writer.write(write('alone@example.com'))
    const results = await Promise.all([
      first,
      writer.write(write('shared@example.com', { claim })),
      writer.write(write('shared@example.com')),
      writer.write(write('other@example.com', { claim })),
      writer.write(write('third@example.com'))
    ])
    t.ok(results[1], 'the first holder of the key writes')
    t.ok(results[2], 'the same recipient, a later group')
    t.equal(results[3], undefined, 'the key was taken by the earlier write')
    t.ok(results[4])
    t.same(writer.statistics(), { writes: 5, groups: 2, groupedWrites: 4, groupFailures: 0 }, 'alone@; then shared@ (with the key) and third@; then shared@ and other@')
  })

  await t.test('a batch of 100 or more goes at once, beside the group being written; a group stops at 1000 credentials', async (t) => {
    const writer = new IssueWriter(db)
    const batch = (name: string, size: number): IssuedWrite => {
      const base = write(`${name}-0@example.com`)
      base.recipients = Array.from({ length: size }, (_, i) => ({ id: randomUUID(), identityType: 'email' as const, identity: `${name}-${i}@example.com`, name: null, externalId: null }))
      base.credentials = base.recipients.map((r) => write(r.identity).credentials[0]!)
      return base
    }
    const first = writer.write(write('before-batch@example.com'))
    const big = writer.write(batch('big', 1000))
    const queued = [writer.write(batch('small-a', 99)), writer.write(batch('small-b', 99)), writer.write(write('after-batch@example.com'))]
    const results = await Promise.all([first, big, ...queued])
    t.same(results.map((r) => r?.length), [1, 1000, 99, 99, 1])
    t.same(writer.statistics(), { writes: 5, groups: 1, groupedWrites: 3, groupFailures: 0 }, 'the three queued writes went together')
    const overfull = [writer.write(write('front@example.com')), ...Array.from({ length: 11 }, (_, i) => writer.write(batch(`full-${i}`, 99)))]
    t.equal((await Promise.all(overfull)).length, 12)
    t.same(writer.statistics(), { writes: 17, groups: 2, groupedWrites: 13, groupFailures: 0 }, 'ten of 99 in one group, the eleventh alone after it')
  })
})
