// Issuing builds from a remembered achievement, issuer and key (src/credentials/issuing-context.ts), and the write only
// stores what was built from rows that are still current: a change made through the API or by another process (here,
// SQL on the database directly) is in the very next credential, and a stale attempt leaves nothing behind.
import { sql, type Kysely } from 'kysely'
import t from 'tap'
import { insertIssued } from '../src/credentials/store.js'
import type { Database } from '../src/db/schema.js'
import { admin, buildTestApp, createIssuer, onEachDatabase } from './helpers/app.js'
import { createAchievement, resolverFor } from './helpers/credentials.js'
import { verifyDataIntegrity } from './helpers/independent-verifier.js'

async function count(db: Kysely<Database>, table: 'credentials' | 'idempotency_keys' | 'audit_events' | 'recipients'): Promise<number> {
  const row = await db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
  return Number(row.n)
}

await onEachDatabase(t, async (t, database) => {
  const { app, db } = await buildTestApp(t, database)
  const issuer = await createIssuer(app)
  const badge = await createAchievement(app, issuer.id)
  const issue = async (email: string, headers: Record<string, string> = admin) => {
    const res = await app.inject({ method: 'POST', url: '/v1/credentials', headers, payload: { achievementId: badge.id, recipient: { email } } })
    t.equal(res.statusCode, 201, res.body)
    const issued = res.json()
    t.ok((await verifyDataIntegrity(issued.credential, resolverFor(app))).verified, 'verifies independently')
    return issued.credential
  }

  await t.test('changes through the API are in the next credential', async (t) => {
    t.equal((await issue('a@example.com')).name, badge.name)
    const patched = await app.inject({ method: 'PATCH', url: `/v1/achievements/${badge.id}`, headers: admin, payload: { name: 'Safe Welding II' } })
    t.equal(patched.statusCode, 200, patched.body)
    t.equal((await issue('b@example.com')).credentialSubject.achievement.name, 'Safe Welding II')
    const renamed = await app.inject({ method: 'PATCH', url: `/v1/issuers/${issuer.id}`, headers: admin, payload: { name: 'Welding Academy' } })
    t.equal(renamed.statusCode, 200, renamed.body)
    t.equal((await issue('c@example.com')).issuer.name, 'Welding Academy')
    const before = (await issue('d@example.com')).proof.verificationMethod
    const rotated = await app.inject({ method: 'POST', url: `/v1/issuers/${issuer.id}/keys/rotate`, headers: admin })
    t.equal(rotated.statusCode, 200, rotated.body)
    const after = (await issue('e@example.com')).proof.verificationMethod
    t.not(after, before, 'signed with the new key, never the retired one')
  })

  await t.test('changes another process makes (SQL on the database) are in the next credential, and the stale attempt wrote nothing', async (t) => {
    await issue('f@example.com')
    const credentials = await count(db, 'credentials')
    const audit = await count(db, 'audit_events')
    await db.updateTable('achievements').set({ description: 'Changed elsewhere.' }).where('id', '=', badge.id).execute()
    t.equal((await issue('g@example.com')).credentialSubject.achievement.description, 'Changed elsewhere.')
    await db.updateTable('issuers').set({ url: 'https://elsewhere.example.org' }).where('id', '=', issuer.id).execute()
    t.equal((await issue('h@example.com')).issuer.url, 'https://elsewhere.example.org')
    t.equal(await count(db, 'credentials'), credentials + 2, 'one credential per request')
    t.equal(await count(db, 'audit_events'), audit + 2)
  })

  await t.test('a write built from outdated rows, or a key no longer active, stores nothing and leaves the Idempotency-Key free', async (t) => {
    const key = await db.selectFrom('issuer_keys').selectAll().where('issuer_id', '=', issuer.id).where('status', '=', 'active')
      .where('algorithm', '=', 'Ed25519').executeTakeFirstOrThrow()
    const versions = await db.selectFrom('achievements').innerJoin('issuers', 'issuers.id', 'achievements.issuer_id')
      .select([sql<string>`achievements.xmin::text`.as('achievement'), sql<string>`issuers.xmin::text`.as('issuer')])
      .where('achievements.id', '=', badge.id).executeTakeFirstOrThrow()
    const credentials = await count(db, 'credentials')
    const write = (builtFrom: Parameters<typeof insertIssued>[1]['builtFrom']) => insertIssued(db, {
      issuerId: issuer.id,
      builtFrom,
      idempotency: { scope: 'test', key: 'stale', requestHash: 'h', ttlMs: 86_400_000 },
      recipients: [{ id: '0193a0a0-0000-7000-8000-000000000001', identityType: 'email', identity: 'stale@example.com', name: null, externalId: null }],
      credentials: [],
      audit: { actor: 'test', requestId: null }
    })
    t.equal(await write({ achievementId: badge.id, versions: { ...versions, achievement: '1' }, keyId: key.id }), undefined, 'outdated achievement')
    t.equal(await write({ achievementId: badge.id, versions: { ...versions, issuer: '1' }, keyId: key.id }), undefined, 'outdated issuer')
    const retired = await db.selectFrom('issuer_keys').select('id').where('issuer_id', '=', issuer.id).where('status', '=', 'retired').executeTakeFirstOrThrow()
    t.equal(await write({ achievementId: badge.id, versions, keyId: retired.id }), undefined, 'a retired key')
    t.equal(await count(db, 'credentials'), credentials)
    t.equal(await db.selectFrom('idempotency_keys').select('key').where('key', '=', 'stale').executeTakeFirst(), undefined, 'the key was not claimed')
    t.equal(await db.selectFrom('recipients').select('id').where('identity', '=', 'stale@example.com').executeTakeFirst(), undefined)
  })
})
