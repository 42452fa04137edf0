import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { admin, bearer, buildTestApp, createApiKey, createIssuer, freshPostgresSchema, onEachDatabase } from './helpers/app.js'
import { createAchievement, resolverFor } from './helpers/credentials.js'
import { verifyDataIntegrity, verifyVcJwt } from './helpers/independent-verifier.js'
import { officialSchemaValidator } from './helpers/ob3.js'
import { startLanyard, stop } from './helpers/process.js'
import { revocationBit } from './helpers/status.js'

const validateCredential = officialSchemaValidator('achievementcredential')

const FORMATS = [{ format: 'eddsa-rdfc-2022' }, { format: 'Ed25519Signature2020' }, { format: 'vc-jwt' }, { format: 'vc-jwt', jwtAlg: 'EdDSA' }]

await onEachDatabase(t, async (t, database) => {
  const { app, db } = await buildTestApp(t, database, { env: { STATUS_LIST_SIZE: '64' } })
  const resolve = resolverFor(app)
  const issuer = await createIssuer(app)
  const badge = await createAchievement(app, issuer.id)
  const issue = async (body: Record<string, unknown> = {}) => {
    const res = await app.inject({ method: 'POST', url: '/v1/credentials', headers: admin, payload: { achievementId: badge.id, recipient: { did: 'did:example:learner' }, ...body } })
    if (res.statusCode !== 201) throw new Error(`issue answered ${res.statusCode}: ${res.body}`)
    return res.json()
  }
  const revoke = (id: string, body?: object, headers = admin) =>
    app.inject({ method: 'POST', url: `/v1/credentials/${id}/revoke`, headers, ...(body === undefined ? {} : { payload: body }) })

  for (const variant of FORMATS) {
    await t.test(`${variant.format} ${variant.jwtAlg ?? ''}: the published bit is clear before and set after revoke`, async (t) => {
      const issued = await issue(variant)
      const verification = issued.jwt === undefined ? await verifyDataIntegrity(issued.credential, resolve) : await verifyVcJwt(issued.jwt, resolve)
      t.ok(verification.verified, verification.error ?? 'the credential with its status entry verifies')
      t.same(validateCredential(issued.credential), [], 'still valid against the official schema')
      t.match(issued.credential.credentialStatus, {
        type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: /^\d+$/,
        statusListCredential: /^https:\/\/badges\.example\.edu\/status\/[0-9a-f-]{36}$/
      })
      t.equal(issued.credential.credentialStatus.id, `${issued.credential.credentialStatus.statusListCredential}#${issued.credential.credentialStatus.statusListIndex}`)
      t.equal(await revocationBit(app, issued.credential), false, 'clear before')

      const res = await revoke(issued.id, { reason: 'issued in error' })
      t.equal(res.statusCode, 200)
      t.match(res.json(), { id: issued.id, status: 'revoked', revokedAt: String, revocationReason: 'issued in error' })
      t.equal(await revocationBit(app, issued.credential), true, 'set after')

      const again = await revoke(issued.id, { reason: 'another reason' })
      t.equal(again.statusCode, 200, 'repeating it is harmless')
      t.match(again.json(), { status: 'revoked', revocationReason: 'issued in error', revokedAt: res.json().revokedAt }, 'the first revocation stands')
    })
  }

  await t.test('revoking writes who, when and why to the audit log, once', async (t) => {
    const issued = await issue({ format: 'vc-jwt', jwtAlg: 'EdDSA' })
    await revoke(issued.id, { reason: 'academic misconduct' })
    await revoke(issued.id)
    const events = (await app.inject({ method: 'GET', url: `/v1/audit-events?issuerId=${issuer.id}`, headers: admin })).json().items
      .filter((e: { action: string; targetId: string }) => e.action === 'credential.revoked' && e.targetId === issued.id)
    t.equal(events.length, 1)
    t.match(events[0], { actor: 'admin', details: { reason: 'academic misconduct', statusListIndex: Number(issued.credential.credentialStatus.statusListIndex) } })
  })

  await t.test('bulk revoke is all or nothing', async (t) => {
    const issued = await Promise.all([1, 2, 3].map(() => issue({ format: 'vc-jwt', jwtAlg: 'EdDSA' })))
    const ids = issued.map((c) => c.id)
    const unknown = '00000000-0000-4000-8000-000000000000'
    const refused = await app.inject({ method: 'POST', url: '/v1/credentials/revoke', headers: admin, payload: { ids: [ids[0], unknown, ids[1]] } })
    t.equal(refused.statusCode, 404)
    t.match(refused.json().errors, [{ pointer: '/ids/1' }])
    for (const credential of issued) t.equal(await revocationBit(app, credential.credential), false, 'nothing revoked')

    const done = await app.inject({ method: 'POST', url: '/v1/credentials/revoke', headers: admin, payload: { ids, reason: 'course withdrawn' } })
    t.equal(done.statusCode, 200)
    t.same(done.json().credentials.map((c: { status: string }) => c.status), ['revoked', 'revoked', 'revoked'])
    for (const credential of issued) t.equal(await revocationBit(app, credential.credential), true)

    for (const payload of [{ ids: [] }, { ids: [ids[0], ids[0]] }, { ids: ['nope'] }, { ids, colour: 'red' }]) {
      t.equal((await app.inject({ method: 'POST', url: '/v1/credentials/revoke', headers: admin, payload })).statusCode, 400, JSON.stringify(payload))
    }
  })

  await t.test('another issuer\'s API key cannot revoke: 404, and the bit stays clear', async (t) => {
    const issued = await issue({ format: 'vc-jwt', jwtAlg: 'EdDSA' })
    const other = await createIssuer(app)
    const { key } = await createApiKey(app, other.id)
    const res = await revoke(issued.id, { reason: 'hostile' }, bearer(key))
    t.equal(res.statusCode, 404)
    const bulk = await app.inject({ method: 'POST', url: '/v1/credentials/revoke', headers: bearer(key), payload: { ids: [issued.id] } })
    t.equal(bulk.statusCode, 404)
    t.equal(await revocationBit(app, issued.credential), false)
    t.match((await app.inject({ method: 'GET', url: `/v1/credentials/${issued.id}`, headers: admin })).json(), { status: 'active', revokedAt: null })
    const { key: ownKey } = await createApiKey(app, issuer.id)
    t.equal((await revoke(issued.id, {}, bearer(ownKey))).statusCode, 200, 'its own issuer\'s key can')
  })

  await t.test('a credential without a status entry cannot be revoked publicly: 409', async (t) => {
    const issued = await issue({ format: 'vc-jwt', jwtAlg: 'EdDSA' })
    // As a credential issued before status lists existed is stored.
    await db.updateTable('credentials').set({ status_list_id: null, status_list_index: null }).where('id', '=', issued.id).execute()
    const res = await revoke(issued.id)
    t.equal(res.statusCode, 409)
    t.match(res.json(), { code: 'not-publicly-revocable', detail: /no credentialStatus/ })
    t.match((await app.inject({ method: 'GET', url: `/v1/credentials/${issued.id}`, headers: admin })).json(), { status: 'active' })
  })

  await t.test('single issues take positions reserved 32 ahead: one reservation statement serves the next 32 issues', async (t) => {
    const fresh = await createIssuer(app)
    const freshBadge = await createAchievement(app, fresh.id)
    const single = async (i: number) => (await app.inject({
      method: 'POST', url: '/v1/credentials', headers: admin,
      payload: { achievementId: freshBadge.id, format: 'vc-jwt', jwtAlg: 'EdDSA', recipient: { did: `did:example:ahead-${i}` } }
    })).json().credential.credentialStatus
    const allocated = async () => (await db.selectFrom('status_lists').select(['allocated']).where('issuer_id', '=', fresh.id).execute()).map((l) => l.allocated)
    const first = await Promise.all(Array.from({ length: 5 }, (_, i) => single(i)))
    t.same(await allocated(), [32], 'five singles at once: one reservation of 32 (none of them waited for a statement of its own)')
    const rest = await Promise.all(Array.from({ length: 30 }, (_, i) => single(5 + i)))
    const entries = [...first, ...rest]
    t.equal(new Set(entries.map((e) => e.statusListIndex)).size, 35, 'no index twice')
    t.equal(new Set(entries.map((e) => e.statusListCredential)).size, 1)
    t.same(await allocated(), [64], 'the 33rd reserved the next 32')
  })

  await t.test('indexes are spread over the list, never reused, and a full list rolls over to a new one', async (t) => {
    const fresh = await createIssuer(app)
    const freshBadge = await createAchievement(app, fresh.id)
    const res = await app.inject({
      method: 'POST', url: '/v1/credentials/batch', headers: admin,
      payload: { achievementId: freshBadge.id, format: 'vc-jwt', jwtAlg: 'EdDSA', items: Array.from({ length: 150 }, (_, i) => ({ recipient: { did: `did:example:${i}` } })) }
    })
    t.equal(res.statusCode, 201)
    const entries = res.json().credentials.map((c: { credential: { credentialStatus: { statusListCredential: string; statusListIndex: string } } }) => c.credential.credentialStatus)
    const lists = [...new Set(entries.map((e: { statusListCredential: string }) => e.statusListCredential))]
    t.equal(lists.length, 3, '150 entries in lists of 64: three lists')
    t.equal(new Set(entries.map((e: { statusListCredential: string; statusListIndex: string }) => `${e.statusListCredential}#${e.statusListIndex}`)).size, 150, 'no (list, index) twice')
    const firstList = entries.slice(0, 64).map((e: { statusListIndex: string }) => Number(e.statusListIndex))
    t.same([...firstList].sort((a, b) => a - b), Array.from({ length: 64 }, (_, i) => i), 'a full list uses every index once')
    t.not(firstList.join(','), Array.from({ length: 64 }, (_, i) => i).join(','), 'but not in issue order')
  })

  await t.test('the VC-API adds a status entry when asked, and its credential can be revoked', async (t) => {
    const base = { '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiableCredential'], issuer: issuer.did, credentialSubject: { id: 'did:example:vcapi' } }
    const res = await app.inject({ method: 'POST', url: '/credentials/issue', headers: admin, payload: { credential: base, options: { credentialStatus: { type: 'BitstringStatusListEntry' } } } })
    t.equal(res.statusCode, 201)
    const vc = res.json().verifiableCredential
    t.ok((await verifyDataIntegrity(vc, resolve)).verified)
    t.equal(await revocationBit(app, vc), false)
    const row = await db.selectFrom('credentials').select('id').where('status_list_index', '=', Number(vc.credentialStatus.statusListIndex))
      .where('status_list_id', '=', vc.credentialStatus.statusListCredential.split('/').pop()).executeTakeFirstOrThrow()
    t.equal((await revoke(row.id)).statusCode, 200)
    t.equal(await revocationBit(app, vc), true)

    const refusals = [
      { credential: { ...base, credentialStatus: { id: 'https://x.example/1', type: 'BitstringStatusListEntry' } }, options: { credentialStatus: { type: 'BitstringStatusListEntry' } } },
      { credential: { ...base, '@context': ['https://www.w3.org/2018/credentials/v1'], issuanceDate: '2026-01-01T00:00:00Z' }, options: { credentialStatus: { type: 'BitstringStatusListEntry' } } }
    ]
    for (const payload of refusals) {
      const refused = await app.inject({ method: 'POST', url: '/credentials/issue', headers: admin, payload })
      t.equal(refused.statusCode, 422)
      t.match(refused.json(), { code: 'status-unavailable' })
    }
    const wrongType = await app.inject({ method: 'POST', url: '/credentials/issue', headers: admin, payload: { credential: base, options: { credentialStatus: { type: 'StatusList2021Entry' } } } })
    t.equal(wrongType.statusCode, 400)
  })
})

t.test('two Lanyard processes on one PostgreSQL issuing 2 × 500 at once take 1000 distinct entries', { skip: process.env.TEST_DATABASE_URL ? false : 'PostgreSQL run skipped: TEST_DATABASE_URL is not set' }, async (t) => {
  const url = await freshPostgresSchema(t)
  const token = `lanyard-test-${randomBytes(16).toString('hex')}`
  const env = { DATABASE_URL: url, LANYARD_ADMIN_TOKEN: token, LANYARD_MASTER_KEY: randomBytes(32).toString('base64'), STATUS_LIST_SIZE: '128', PUBLIC_RATE_LIMIT: '100000' }
  const first = await startLanyard(env)
  t.teardown(() => stop(first))
  const second = await startLanyard(env)
  t.teardown(() => stop(second))
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  const post = async (base: string, path: string, body: unknown) => {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) })
    if (res.status !== 201) throw new Error(`${path} answered ${res.status}: ${await res.text()}`)
    return res.json() as Promise<any>
  }
  const issuer = await post(first.baseUrl, '/v1/issuers', { name: 'Twin College', url: 'https://twin.example.edu' })
  const badge = await post(first.baseUrl, `/v1/issuers/${issuer.id}/achievements`, { name: 'Twins', description: 'Both at once', criteria: { narrative: 'Be issued' } })
  // Each process takes 500: singles and batches of 25 at once, so allocations interleave across processes and requests.
  const issueFrom = (base: string, tag: string) => Promise.all(Array.from({ length: 20 }, (_, b) => post(base, '/v1/credentials/batch', {
    achievementId: badge.id, format: 'vc-jwt', jwtAlg: 'EdDSA',
    items: Array.from({ length: 25 }, (_, i) => ({ recipient: { did: `did:example:${tag}-${b}-${i}` } }))
  })))
  const replies = (await Promise.all([issueFrom(first.baseUrl, 'a'), issueFrom(second.baseUrl, 'b')])).flat()
  const entries = replies.flatMap((reply) => reply.credentials.map((c: any) => c.credential.credentialStatus))
  t.equal(entries.length, 1000)
  t.equal(new Set(entries.map((e: any) => `${e.statusListCredential}#${e.statusListIndex}`)).size, 1000, '1000 distinct (list, index) pairs')
  const lists = new Set(entries.map((e: any) => e.statusListCredential))
  t.ok(lists.size >= 8 && lists.size <= 9, `${lists.size} lists of 128 for 1000 entries`)
  t.ok(entries.every((e: any) => Number(e.statusListIndex) < 128))
})
