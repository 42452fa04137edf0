// Wallet delivery, end to end over HTTP: a claim, then LCW's VC-API exchange with DID Authentication, or the OID4VCI
// pre-authorized code flow, each by a test wallet built from independent libraries; what the wallet receives verifies
// with the independent verifier, meets the OB 3.0 schema and names the wallet's DID. Every refusal issues nothing.
import { decodeProtectedHeader, compactVerify, importJWK } from 'jose'
import { sql } from 'kysely'
import type { Db } from '../src/db/schema.js'
import t, { type Test } from 'tap'
import { admin, assertProblem, bearer, buildTestApp, createApiKey, createIssuer, onEachDatabase } from './helpers/app.js'
import { createAchievement, resolverFor } from './helpers/credentials.js'
import { verifyDataIntegrity, verifyVcJwt } from './helpers/independent-verifier.js'
import { newHolder, presentation } from './helpers/holder.js'
import { freePort } from './helpers/net.js'
import { officialSchemaValidator } from './helpers/ob3.js'
import { solidPngDataUri } from './helpers/png.js'
import { revocationBit } from './helpers/status.js'
import {
  getJson, keyProof, lcwExchange, lcwParameters, lcwPresentation, oid4vciToken, offerOf, post, requestCredential, walletKey, type Oid4vciSession, type Reply
} from './helpers/wallet.js'

const validateCredential = officialSchemaValidator('achievementcredential')
const PRE_AUTH = 'urn:ietf:params:oauth:grant-type:pre-authorized_code'
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

type Json = Record<string, any>

function assertOAuthError(t: Test, reply: Reply, status: number, error: string) {
  t.equal(reply.status, status, `${error}: ${JSON.stringify(reply.body)}`)
  t.match(reply.body, { error, error_description: String })
  t.equal(reply.headers.get('cache-control'), 'no-store')
}

function assertFetchedProblem(t: Test, reply: Reply, status: number, code: string) {
  t.equal(reply.status, status, `${code}: ${JSON.stringify(reply.body)}`)
  t.match(reply.headers.get('content-type'), /^application\/problem\+json/)
  t.match(reply.body, { type: `urn:lanyard:problem:${code}`, title: String, status, detail: String })
}

await onEachDatabase(t, async (t, database) => {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const { app, db } = await buildTestApp(t, database, { env: { PUBLIC_URL: origin, STATUS_LIST_SIZE: '64', PUBLIC_RATE_LIMIT: '100000' } })
  await app.listen({ host: '127.0.0.1', port })
  const resolve = resolverFor(app, `127.0.0.1%3A${port}`)
  const issuer = await createIssuer(app, { name: 'Riverside College' })
  const badge = await createAchievement(app, issuer.id, { image: { id: solidPngDataUri(), caption: 'A blue square' } })

  const count = async () => Number((await sql<{ n: string }>`select count(*) as n from credentials`.execute(db)).rows[0]!.n)
  /** Runs `body` and checks that no credential was written meanwhile. */
  const issuesNothing = async (t: Test, body: () => Promise<void>) => {
    const before = await count()
    await body()
    t.equal(await count(), before, 'no credential was issued')
  }
  const issue = async (body: Json = {}) => {
    const res = await app.inject({ method: 'POST', url: '/v1/credentials', headers: admin, payload: { achievementId: badge.id, recipient: { email: 'ada@example.com', name: 'Ada' }, ...body } })
    if (res.statusCode !== 201) throw new Error(`issue answered ${res.statusCode}: ${res.body}`)
    return res.json()
  }
  const claimFor = async (id: string, body?: Json) => {
    const res = await app.inject({ method: 'POST', url: `/v1/credentials/${id}/claims`, headers: admin, ...(body && { payload: body }) })
    if (res.statusCode !== 201) throw new Error(`claim answered ${res.statusCode}: ${res.body}`)
    return res.json()
  }
  /**
   * Runs `body` while another session holds the lock on the rows `locked` selects, releasing it once `waiters`
   * sessions wait on it; on PGlite (one session, nothing to hold) just runs `body`. This makes a race fall the same way
   * every time: every racer gets past its first checks, and only one wins the row.
   */
  const whileLocked = async <T>(locked: (trx: Db) => Promise<unknown>, waiters: number, body: () => Promise<T>): Promise<T> => {
    if (database.kind === 'pglite') return body()
    let running: Promise<T> | undefined
    await db.transaction().execute(async (trx) => {
      await locked(trx)
      const { pid } = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)).rows[0]!
      running = body()
      running.catch(() => {}) // awaited below, after the lock is released
      for (let waited = 0; ; waited += 10) {
        // The first waiter waits on this session; later ones on the tuple lock the first holds: count the chain.
        const { n } = (await sql<{ n: number }>`
          with recursive waiting(pid) as (
            select pid from pg_stat_activity where ${pid}::int = any(pg_blocking_pids(pid))
            union select a.pid from pg_stat_activity a join waiting w on w.pid = any(pg_blocking_pids(a.pid)))
          select count(*)::int as n from waiting`.execute(db)).rows[0]!
        if (n >= waiters) return
        if (waited > 30_000) throw new Error(`only ${n} of ${waiters} sessions reached the lock`)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    })
    return running!
  }
  const claimRow = (claimId: string) => (trx: Db) => sql`select 1 from claims where id = ${claimId} for update`.execute(trx)
  const expire = (claimId: string) => sql`update claims set expires_at = now() - interval '1 minute' where id = ${claimId}`.execute(db)

  /** The copy a wallet received: signed by the issuer (independent verifier), schema-valid, bound to `did`, its own credential. */
  const assertBoundCopy = async (t: Test, copy: Json, original: Json, did: string) => {
    const verification = await verifyDataIntegrity(copy, resolve)
    t.ok(verification.verified, `the copy verifies independently: ${verification.error}`)
    assertBound(t, copy, original, did)
  }
  const assertBound = (t: Test, copy: Json, original: Json, did: string) => {
    t.same(validateCredential(copy), [], 'the copy meets the official OB 3.0 schema')
    t.equal(copy.credentialSubject.id, did, 'credentialSubject.id is the wallet\'s DID')
    t.not(copy.id, original.id, 'an id of its own')
    t.not(copy.credentialStatus.statusListIndex + copy.credentialStatus.statusListCredential,
      original.credentialStatus.statusListIndex + original.credentialStatus.statusListCredential, 'a status entry of its own')
    t.same(copy.credentialSubject.achievement, original.credentialSubject.achievement, 'the same achievement')
    t.equal(copy.validFrom, original.validFrom, 'awarded when the original was')
  }
  const copyRow = async (copyUrl: string) => {
    const id = copyUrl.split('/').pop()!
    return db.selectFrom('credentials').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
  }

  const delivered: { original: Json; copy: Json }[] = []

  await t.test('LCW: deliver on issue, then the VC-API exchange answers the copy bound to the holder\'s did:key', async (t) => {
    const issued = await issue({ deliver: true })
    t.match(issued.claim, { id: String, credentialId: issued.id, claimUrl: `${origin}/claim/`, expiresAt: String })
    t.notOk('txCode' in issued.claim, 'no transaction code unless asked for')
    const days = (Date.parse(issued.claim.expiresAt) - Date.now()) / 86_400_000
    t.ok(days > 6.99 && days <= 7, 'open for 7 days by default')
    const link = lcwParameters(issued.claim.lcwDeepLink)
    t.ok(issued.claim.lcwDeepLink.startsWith('https://lcw.app/request.html?'))
    t.match(link, { issuer: issuer.did, authType: 'bearer', challenge: /^[\w-]{43}$/, vcRequestUrl: new RegExp(`^${origin}/exchanges/[\\w-]{43}$`) })

    const holder = await newHolder()
    const { request, reply } = await lcwExchange(issued.claim.lcwDeepLink, holder)
    t.match(request, { query: { type: 'DIDAuthentication' }, challenge: link.challenge, domain: origin })
    t.equal(request.interact.service[0].type, 'VerifiableCredentialApiExchangeService')
    t.equal(reply.status, 200, JSON.stringify(reply.body))
    const vp = reply.body.verifiablePresentation
    t.match(vp, { type: ['VerifiablePresentation'], verifiableCredential: [Object] })
    const copy = vp.verifiableCredential[0]
    await assertBoundCopy(t, copy, issued.credential, holder.did)
    t.same(copy.credentialSubject.identifier, issued.credential.credentialSubject.identifier, 'the recipient\'s hashed email stays')
    t.equal(copy.proof.cryptosuite, 'eddsa-rdfc-2022')
    const row = await copyRow(copy.id)
    t.equal(row.original_credential_id, issued.id, 'linked to its original')
    const claim = await db.selectFrom('claims').selectAll().where('id', '=', issued.claim.id).executeTakeFirstOrThrow()
    t.match(claim, { used_by: 'lcw', copy_credential_id: row.id })
    const accepted = await db.selectFrom('events').select(['issuer_id', 'data']).where('type', '=', 'claim.accepted')
      .where(({ ref }) => ref('data', '->>').key('claimId'), '=', issued.claim.id).execute()
    t.match(accepted, [{ issuer_id: issuer.id, data: { credentialId: issued.id, copyCredentialId: row.id, wallet: 'lcw', holder: holder.did, copyUrl: copy.id } }],
      'claim.accepted is in the outbox, written with the redemption')
    t.equal(Object.values(claim).filter((v) => typeof v === 'string' && issued.claim.claimUrl.includes(v) && v.length > 20).length, 0, 'the token is not stored')
    delivered.push({ original: issued.credential, copy })

    await t.test('replaying the used claim: 410, nothing issued', async (t) => {
      await issuesNothing(t, async () => {
        assertFetchedProblem(t, await post(link.vcRequestUrl, {}), 410, 'claim-used')
        const again = await presentation(holder, [], { challenge: link.challenge, domain: origin })
        assertFetchedProblem(t, await post(link.vcRequestUrl, { verifiablePresentation: again }), 410, 'claim-used')
        const page = await fetch(issued.claim.claimUrl, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } })
        t.equal(page.status, 410)
        t.match(page.headers.get('content-type'), /^text\/html/)
        t.match(await page.text(), /already used to add the badge to a wallet/, 'a person reads why')
        assertFetchedProblem(t, { status: (await fetch(issued.claim.claimUrl)).status, body: await (await fetch(issued.claim.claimUrl)).json(), headers: (await fetch(issued.claim.claimUrl)).headers }, 410, 'claim-used')
      })
    })
  })

  await t.test('LCW deep link: a bare VC 1.1 presentation signed with Ed25519Signature2020 and the challenge is answered with a bare presentation', async (t) => {
    const issued = await issue({ recipient: { did: 'did:example:ada' } })
    const claim = await claimFor(issued.id)
    const link = lcwParameters(claim.lcwDeepLink)
    const holder = await newHolder()
    const vp = await presentation(holder, [], { challenge: link.challenge, legacy: true })
    t.equal(vp.proof.type, 'Ed25519Signature2020')
    const reply = await post(link.vcRequestUrl, vp)
    t.equal(reply.status, 200, JSON.stringify(reply.body))
    t.match(reply.body, { type: ['VerifiablePresentation'], verifiableCredential: [Object] })
    const copy = reply.body.verifiableCredential[0]
    await assertBoundCopy(t, copy, issued.credential, holder.did)
    t.same(copy.credentialSubject.identifier, [{ type: 'IdentityObject', identityType: 'identifier', hashed: false, identityHash: 'did:example:ada' }],
      'the recipient\'s DID stays as an identifier')
    delivered.push({ original: issued.credential, copy })
  })

  await t.test('LCW refusals: each a 4xx problem, nothing issued, and the claim still works after', async (t) => {
    const issued = await issue()
    const claim = await claimFor(issued.id)
    const { vcRequestUrl, challenge } = lcwParameters(claim.lcwDeepLink)
    const holder = await newHolder()
    const other = await newHolder()
    await issuesNothing(t, async () => {
      const cases: [string, Json][] = [
        ['wrong challenge', await presentation(holder, [], { challenge: 'not-the-challenge', domain: origin })],
        ['wrong domain', await presentation(holder, [], { challenge, domain: 'https://evil.example' })],
        ['signed by another key than the holder it names', await presentation(other, [], { challenge, domain: origin, claimedHolder: holder.did })],
        ['unsigned', { '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiablePresentation'], holder: holder.did }]
      ]
      for (const [name, vp] of cases) {
        const reply = await post(vcRequestUrl, { verifiablePresentation: vp })
        assertFetchedProblem(t, reply, 422, 'presentation-rejected')
        t.match(reply.body.checks, [{ check: 'format' }, { check: 'proof', status: 'failed' }], name)
      }
      assertFetchedProblem(t, await post(vcRequestUrl, { verifiablePresentation: await presentation(holder, [], { challenge, domain: origin, claimedHolder: null }) }), 422, 'presentation-rejected')
      assertFetchedProblem(t, await post(vcRequestUrl, { verifiablePresentation: await presentation(holder, [], { challenge, domain: origin, claimedHolder: 'did:web:example.org' }) }), 422, 'presentation-rejected')
      assertFetchedProblem(t, await post(vcRequestUrl, { verifiablePresentation: { type: ['VerifiableCredential'] } }), 400, 'not-a-credential')
      for (const notAnObject of [null, 'a presentation', [{}], 42]) {
        const reply = await post(vcRequestUrl, { verifiablePresentation: notAnObject })
        assertFetchedProblem(t, reply, 400, 'validation-failed')
        t.match(reply.body.errors, [{ pointer: '/verifiablePresentation' }], `${JSON.stringify(notAnObject)} is not a presentation`)
      }
      assertFetchedProblem(t, await post(`${origin}/exchanges/${'A'.repeat(43)}`, {}), 404, 'not-found')
      assertFetchedProblem(t, await post(`${origin}/exchanges/short`, {}), 400, 'validation-failed')
    })
    const { reply } = await lcwExchange(claim.lcwDeepLink, holder)
    t.equal(reply.status, 200, 'the right presentation still gets the badge')
  })

  await t.test('an expired claim: 410 everywhere, nothing issued', async (t) => {
    const issued = await issue()
    const claim = await claimFor(issued.id)
    await expire(claim.id)
    await issuesNothing(t, async () => {
      assertFetchedProblem(t, await post(lcwParameters(claim.lcwDeepLink).vcRequestUrl, {}), 410, 'claim-expired')
      const page = await fetch(claim.claimUrl)
      t.equal(page.status, 410)
      assertFetchedProblem(t, await post(`${origin}/exchanges/${'B'.repeat(43)}`, {}), 404, 'not-found')
      const offer = await offerOf(claim.credentialOffer)
      const token = await post(`${origin}/oid4vci/token`, { grant_type: PRE_AUTH, 'pre-authorized_code': offer.grants[PRE_AUTH]['pre-authorized_code'] }, FORM)
      assertOAuthError(t, token, 400, 'invalid_grant')
      t.match(token.body.error_description, /expired/)
    })
  })

  await t.test('OID4VCI: tx_code, a jwk proof, jwt_vc_json: a VC-JWT bound to did:jwk, verified with jose against the issuer\'s published key', async (t) => {
    const issued = await issue()
    const claim = await claimFor(issued.id, { txCode: true })
    t.match(claim.txCode, /^\d{6}$/)
    const offer = await offerOf(claim.credentialOffer)
    t.match(offer, {
      credential_issuer: origin,
      credential_configuration_ids: ['OpenBadgeCredential_jwt_vc_json', 'OpenBadgeCredential_ldp_vc'],
      grants: { [PRE_AUTH]: { 'pre-authorized_code': offer.grants[PRE_AUTH]['pre-authorized_code'], tx_code: { input_mode: 'numeric', length: 6, description: String } } }
    })
    t.match(offer.grants[PRE_AUTH].tx_code.description, /six-digit/)
    const { session, reply: token } = await oid4vciToken(claim.credentialOffer, claim.txCode)
    t.equal(token.status, 200, JSON.stringify(token.body))
    t.match(token.body, { access_token: String, token_type: 'Bearer', expires_in: 600, c_nonce: String })
    t.equal(token.headers.get('cache-control'), 'no-store')
    const key = await walletKey('EdDSA')
    const reply = await requestCredential(session!, {
      credential_configuration_id: 'OpenBadgeCredential_jwt_vc_json', proofs: { jwt: [await keyProof(key, origin, session!.nonce)] }
    })
    t.equal(reply.status, 200, JSON.stringify(reply.body))
    const jwt = reply.body.credentials[0].credential
    t.type(jwt, 'string')
    const verified = await verifyVcJwt(jwt, resolve)
    t.ok(verified.verified, `the VC-JWT verifies independently: ${verified.error}`)
    // And with jose alone, against the key the issuer publishes in its DID document.
    const { kid } = decodeProtectedHeader(jwt)
    const didDocument = await getJson(`${origin}/issuers/${issuer.id}/did.json`)
    const method = didDocument.verificationMethod.find((m: Json) => m.id === kid)
    const publicKey = method.publicKeyJwk ?? { kty: 'OKP', crv: 'Ed25519', x: Buffer.from((await import('base58-universal')).decode(method.publicKeyMultibase.slice(1))).subarray(2).toString('base64url') }
    await compactVerify(jwt, await importJWK(publicKey, 'EdDSA'))
    const copy = verified.payload!
    t.equal(copy.sub, key.did)
    assertBound(t, copy, issued.credential, key.did)
    t.ok(key.did.startsWith('did:jwk:'))
    const row = await copyRow(copy.id as string)
    t.match(row, { format: 'vc-jwt', jwt_alg: 'EdDSA', original_credential_id: issued.id })
    delivered.push({ original: issued.credential, copy })

    await t.test('the code and the access token are single-use', async (t) => {
      await issuesNothing(t, async () => {
        const again = await oid4vciToken(claim.credentialOffer, claim.txCode)
        assertOAuthError(t, again.reply, 400, 'invalid_grant')
        const nonce = (await post(`${origin}/oid4vci/nonce`, {})).body.c_nonce
        const replay = await requestCredential(session!, { credential_configuration_id: 'OpenBadgeCredential_jwt_vc_json', proofs: { jwt: [await keyProof(key, origin, nonce)] } })
        assertOAuthError(t, replay, 401, 'invalid_token')
        t.match(replay.headers.get('www-authenticate'), /^Bearer error="invalid_token"/)
      })
    })
  })

  await t.test('OID4VCI by credential_offer_uri, a did:key kid proof, ldp_vc, asked in draft 13 form: the Data Integrity copy', async (t) => {
    const issued = await issue()
    const claim = await claimFor(issued.id)
    t.match(claim.credentialOfferUri, /^openid-credential-offer:\/\/\?credential_offer_uri=/)
    const offer = await offerOf(claim.credentialOfferUri)
    t.same(offer, await offerOf(claim.credentialOffer), 'the same offer by reference and by value')
    const { session } = await oid4vciToken(claim.credentialOfferUri)
    const key = await walletKey('EdDSA', 'did:key')
    const reply = await requestCredential(session!, {
      format: 'ldp_vc', credential_definition: { type: ['VerifiableCredential', 'OpenBadgeCredential'] },
      proof: { proof_type: 'jwt', jwt: await keyProof(key, origin, session!.nonce) }
    })
    t.equal(reply.status, 200, JSON.stringify(reply.body))
    await assertBoundCopy(t, reply.body.credential, issued.credential, key.did)
    delivered.push({ original: issued.credential, copy: reply.body.credential })
  })

  await t.test('deliver on a batch with a transaction code; an ES256 jwk proof binds to its did:jwk', async (t) => {
    const res = await app.inject({
      method: 'POST', url: '/v1/credentials/batch', headers: admin,
      payload: { achievementId: badge.id, deliver: { txCode: true }, items: [{ recipient: { email: 'bo@example.com' } }, { recipient: { url: 'https://example.org/cy' } }] }
    })
    t.equal(res.statusCode, 201, res.body)
    const { credentials } = res.json()
    t.equal(credentials.length, 2)
    for (const item of credentials) t.match(item.claim, { credentialId: item.id, txCode: /^\d{6}$/, credentialOffer: /^openid-credential-offer:/ })
    t.not(credentials[0].claim.claimUrl, credentials[1].claim.claimUrl)
    const { session } = await oid4vciToken(credentials[1].claim.credentialOffer, credentials[1].claim.txCode)
    const key = await walletKey('ES256')
    const reply = await requestCredential(session!, { credential_configuration_id: 'OpenBadgeCredential_ldp_vc', proofs: { jwt: [await keyProof(key, origin, session!.nonce)] } })
    t.equal(reply.status, 200, JSON.stringify(reply.body))
    await assertBoundCopy(t, reply.body.credentials[0].credential, credentials[1].credential, key.did)

    const plain = await app.inject({ method: 'POST', url: '/v1/credentials/batch', headers: admin, payload: { achievementId: badge.id, deliver: false, items: [{ recipient: { email: 'di@example.com' } }] } })
    t.notOk('claim' in plain.json().credentials[0], 'deliver: false makes no claim')
  })

  await t.test('OID4VCI token refusals: OAuth errors, nothing issued', async (t) => {
    const issued = await issue()
    const claim = await claimFor(issued.id, { txCode: true })
    const code = (await offerOf(claim.credentialOffer)).grants[PRE_AUTH]['pre-authorized_code']
    const token = (body: Json) => post(`${origin}/oid4vci/token`, body, FORM)
    await issuesNothing(t, async () => {
      assertOAuthError(t, await token({ grant_type: 'authorization_code', code }), 400, 'unsupported_grant_type')
      assertOAuthError(t, await token({ grant_type: PRE_AUTH }), 400, 'invalid_request')
      assertOAuthError(t, await token({ grant_type: PRE_AUTH, 'pre-authorized_code': 'made-up' }), 400, 'invalid_grant')
      assertOAuthError(t, await token({ grant_type: PRE_AUTH, 'pre-authorized_code': code }), 400, 'invalid_request')
      const wrong = claim.txCode === '000000' ? '111111' : '000000'
      assertOAuthError(t, await token({ grant_type: PRE_AUTH, 'pre-authorized_code': code, tx_code: wrong }), 400, 'invalid_grant')
      assertOAuthError(t, await post(`${origin}/oid4vci/token`, { grant_type: PRE_AUTH, 'pre-authorized_code': 7 }), 400, 'invalid_request')
    })
    const right = await token({ grant_type: PRE_AUTH, 'pre-authorized_code': code, user_pin: claim.txCode })
    t.equal(right.status, 200, 'the right code (as draft 12\'s user_pin) after one wrong one still works')

    const locked = await claimFor(issued.id, { txCode: true })
    const lockedCode = (await offerOf(locked.credentialOffer)).grants[PRE_AUTH]['pre-authorized_code']
    const wrong = locked.txCode === '000000' ? '111111' : '000000'
    for (let attempt = 0; attempt < 5; attempt++) assertOAuthError(t, await token({ grant_type: PRE_AUTH, 'pre-authorized_code': lockedCode, tx_code: wrong }), 400, 'invalid_grant')
    const after = await token({ grant_type: PRE_AUTH, 'pre-authorized_code': lockedCode, tx_code: locked.txCode })
    assertOAuthError(t, after, 400, 'invalid_grant')
    t.match(after.body.error_description, /locked/, 'five wrong codes lock the claim')
    assertFetchedProblem(t, await post(lcwParameters(locked.lcwDeepLink).vcRequestUrl, {}), 410, 'claim-used')
  })

  await t.test('OID4VCI credential refusals: OAuth errors, nothing issued, and the token still works after', async (t) => {
    const issued = await issue()
    const claim = await claimFor(issued.id)
    const { session } = await oid4vciToken(claim.credentialOffer)
    const s = session!
    const key = await walletKey('EdDSA')
    const other = await walletKey('EdDSA')
    const ask = async (proof: string, extra: Json = {}) => requestCredential(s, { credential_configuration_id: 'OpenBadgeCredential_ldp_vc', proofs: { jwt: [proof] }, ...extra })
    const fresh = async () => (await post(`${origin}/oid4vci/nonce`, {})).body.c_nonce as string
    await issuesNothing(t, async () => {
      const endpoint = s.metadata.credential_endpoint
      assertOAuthError(t, await post(endpoint, {}), 401, 'invalid_token')
      assertOAuthError(t, await post(endpoint, {}, { authorization: 'Bearer not-a-token' }), 401, 'invalid_token')
      assertOAuthError(t, await requestCredential(s, { credential_configuration_id: 'UniversityDegree' }), 400, 'unknown_credential_configuration')
      assertOAuthError(t, await requestCredential(s, { format: 'mso_mdoc' }), 400, 'unsupported_credential_format')
      assertOAuthError(t, await requestCredential(s, { credential_configuration_id: 'OpenBadgeCredential_ldp_vc' }), 400, 'invalid_proof')
      assertOAuthError(t, await requestCredential(s, { credential_configuration_id: 'OpenBadgeCredential_ldp_vc', proofs: { jwt: [1] } }), 400, 'invalid_proof')
      assertOAuthError(t, await ask('not.a.jwt'), 400, 'invalid_proof')
      assertOAuthError(t, await ask(await keyProof(key, origin, s.nonce, { typ: 'JWT' })), 400, 'invalid_proof')
      const rsa = await (await import('jose')).generateKeyPair('RS256', { extractable: true })
      const rsaJwk = await (await import('jose')).exportJWK(rsa.publicKey)
      assertOAuthError(t, await ask(await keyProof({ ...key, alg: 'RS256' as 'EdDSA', privateKey: rsa.privateKey, jwk: rsaJwk }, origin, s.nonce)), 400, 'invalid_proof')
      assertOAuthError(t, await ask(await keyProof({ ...key, alg: 'ES256', privateKey: rsa.privateKey, jwk: rsaJwk }, origin, s.nonce).catch(() => 'x.y.z')), 400, 'invalid_proof')
      assertOAuthError(t, await ask(await keyProof(key, origin, s.nonce, { header: { jwk: { ...key.jwk, d: 'secret' } } })), 400, 'invalid_proof')
      assertOAuthError(t, await ask(await keyProof(key, origin, s.nonce, { header: { jwk: rsaJwk } })), 400, 'invalid_proof')
      assertOAuthError(t, await ask(await keyProof({ ...key, kid: 'did:web:example.org#key-1' }, origin, s.nonce)), 400, 'invalid_proof')
      assertOAuthError(t, await ask(await keyProof({ ...key, kid: 'did:key:z6MkBROKEN#z6MkBROKEN' }, origin, s.nonce)), 400, 'invalid_proof')
      const wrongAud = await ask(await keyProof(key, origin, s.nonce, { aud: 'https://other-issuer.example' }))
      assertOAuthError(t, wrongAud, 400, 'invalid_proof')
      t.match(wrongAud.body.error_description, /aud/)
      assertOAuthError(t, await ask(await keyProof(key, origin, s.nonce, { iat: Math.floor(Date.now() / 1000) - 3600 })), 400, 'invalid_proof')
      assertOAuthError(t, await ask(await keyProof({ ...key, privateKey: other.privateKey }, origin, s.nonce)), 400, 'invalid_proof')
      assertOAuthError(t, await ask(await keyProof(key, origin, s.nonce, { nonce: null })), 400, 'invalid_nonce')
      assertOAuthError(t, await ask(await keyProof(key, origin, s.nonce, { nonce: 'not-a-nonce-we-gave' })), 400, 'invalid_nonce')
      const stale = await fresh()
      await sql`update oid4vci_nonces set expires_at = now() - interval '1 second' where nonce = ${stale}`.execute(db)
      assertOAuthError(t, await ask(await keyProof(key, origin, stale)), 400, 'invalid_nonce')
      assertOAuthError(t, await post(s.metadata.credential_endpoint, 'not json', { authorization: `Bearer ${s.accessToken}`, 'content-type': 'text/plain' }), 400, 'invalid_credential_request')
    })
    const reply = await ask(await keyProof(key, origin, await fresh()))
    t.equal(reply.status, 200, 'a right request after them all gets the badge')
    await issuesNothing(t, async () => {
      const nonceReused = await requestCredential(s, { credential_configuration_id: 'OpenBadgeCredential_ldp_vc', proofs: { jwt: [await keyProof(key, origin, s.nonce)] } })
      assertOAuthError(t, nonceReused, 401, 'invalid_token')
    })
  })

  await t.test('a nonce is single-use', async (t) => {
    const first = await issue()
    const second = await issue()
    const one = (await oid4vciToken((await claimFor(first.id)).credentialOffer)).session!
    const two = (await oid4vciToken((await claimFor(second.id)).credentialOffer)).session!
    const key = await walletKey('EdDSA')
    const proof = await keyProof(key, origin, one.nonce)
    t.equal((await requestCredential(one, { credential_configuration_id: 'OpenBadgeCredential_ldp_vc', proofs: { jwt: [proof] } })).status, 200)
    await issuesNothing(t, async () => {
      assertOAuthError(t, await requestCredential(two, { credential_configuration_id: 'OpenBadgeCredential_ldp_vc', proofs: { jwt: [proof] } }), 400, 'invalid_nonce')
    })
  })

  await t.test('a credential revoked after the token was given: credential_request_denied, nothing issued', async (t) => {
    const issued = await issue()
    const { session } = await oid4vciToken((await claimFor(issued.id)).credentialOffer)
    await app.inject({ method: 'POST', url: `/v1/credentials/${issued.id}/revoke`, headers: admin })
    await issuesNothing(t, async () => {
      const reply = await requestCredential(session!, { credential_configuration_id: 'OpenBadgeCredential_ldp_vc', proofs: { jwt: [await keyProof(await walletKey('EdDSA'), origin, session!.nonce)] } })
      assertOAuthError(t, reply, 400, 'credential_request_denied')
    })
  })

  await t.test('racing wallets: one claim gives one copy', async (t) => {
    const lcw = await claimFor((await issue()).id)
    const before = await count()
    const [a, b] = await Promise.all([lcwExchange(lcw.lcwDeepLink, await newHolder()), lcwExchange(lcw.lcwDeepLink, await newHolder())])
    t.same([a.reply.status, b.reply.status].sort(), [200, 410], 'one presentation wins')
    t.equal(await count(), before + 1)

    // Both presentations pass the claim's first check and are signed; only one redeems the claim. On PostgreSQL the
    // loser is refused at the redemption itself every time (see whileLocked), not by chance.
    const racing = await claimFor((await issue()).id)
    const answers = await Promise.all([1, 2].map(async () => lcwPresentation(racing.lcwDeepLink, await newHolder())))
    const beforeRace = await count()
    const raced = await whileLocked(claimRow(racing.id), 2, () => Promise.all(answers.map((answer) => 'send' in answer ? answer.send() : answer.refused)))
    t.same(raced.map((r) => r.status).sort(), [200, 410], 'one presentation wins')
    const lost = raced.find((r) => r.status === 410)!
    assertFetchedProblem(t, lost, 410, 'claim-used')
    if (database.kind === 'postgres') t.match(lost.body.detail, /a moment ago; nothing was issued/, 'refused at the redemption')
    t.equal(await count(), beforeRace + 1)

    const offered = await claimFor((await issue()).id)
    const code = (await offerOf(offered.credentialOffer)).grants[PRE_AUTH]['pre-authorized_code']
    const tokens = await whileLocked(claimRow(offered.id), 2, () => Promise.all([1, 2].map(() => post(`${origin}/oid4vci/token`, { grant_type: PRE_AUTH, 'pre-authorized_code': code }, FORM))))
    t.same(tokens.map((r) => r.status).sort(), [200, 400], 'one token request wins')
    if (database.kind === 'postgres') t.match(tokens.find((r) => r.status === 400)!.body.error_description, /used a moment ago/, 'refused at the redemption')

    const tokenClaim = await claimFor((await issue()).id)
    const { session } = await oid4vciToken(tokenClaim.credentialOffer)
    const key = await walletKey('EdDSA')
    const nonces = await Promise.all([1, 2].map(async () => (await post(`${origin}/oid4vci/nonce`, {})).body.c_nonce as string))
    const proofs = await Promise.all(nonces.map((nonce) => keyProof(key, origin, nonce)))
    const middle = await count()
    const accessToken = (trx: Db) => sql`select 1 from oid4vci_access_tokens where claim_id = ${tokenClaim.id} for update`.execute(trx)
    const replies = await whileLocked(accessToken, 2, () => Promise.all(proofs.map((proof) => requestCredential(session!, { credential_configuration_id: 'OpenBadgeCredential_ldp_vc', proofs: { jwt: [proof] } }))))
    t.same(replies.map((r) => r.status).sort(), [200, 401], 'one credential request wins')
    if (database.kind === 'postgres') t.match(replies.find((r) => r.status === 401)!.body.error_description, /used a moment ago/, 'refused when the token is used')
    t.equal(await count(), middle + 1)
  })

  await t.test('revoking the original revokes its wallet copies, in its status list', async (t) => {
    t.ok(delivered.length >= 4)
    for (const { original, copy } of delivered) {
      t.notOk(await revocationBit(app, copy, resolve), 'the copy starts unrevoked')
      const id = original.id.split('/').pop()
      const res = await app.inject({ method: 'POST', url: `/v1/credentials/${id}/revoke`, headers: admin, payload: { reason: 'awarded in error' } })
      t.equal(res.statusCode, 200, res.body)
      t.ok(await revocationBit(app, copy, resolve), 'the copy\'s bit is set')
      const row = await copyRow(copy.id)
      t.match(row, { status: 'revoked', revocation_reason: 'awarded in error' })
    }
    const events = await db.selectFrom('audit_events').selectAll().where('action', '=', 'credential.revoked').where('target_id', '=', (await copyRow(delivered[0]!.copy.id)).id).execute()
    t.match(events, [{ details: { originalCredentialId: String } }])
  })

  await t.test('claims: tenancy, and only active awards of their own', async (t) => {
    const issued = await issue()
    const otherIssuer = await createIssuer(app, { name: 'Other College' })
    const key = await createApiKey(app, otherIssuer.id)
    assertProblem(t, await app.inject({ method: 'POST', url: `/v1/credentials/${issued.id}/claims`, headers: bearer(key.key) }), 404, 'not-found')
    assertProblem(t, await app.inject({ method: 'POST', url: '/v1/credentials/0190a2b4-0000-7000-8000-000000000000/claims', headers: admin }), 404, 'not-found')
    assertProblem(t, await app.inject({ method: 'POST', url: `/v1/credentials/${issued.id}/claims`, headers: admin, payload: { txCode: 'yes' } }), 400, 'validation-failed')
    const own = await createApiKey(app, issuer.id)
    const made = await app.inject({ method: 'POST', url: `/v1/credentials/${issued.id}/claims`, headers: bearer(own.key) })
    t.equal(made.statusCode, 201, 'the issuer\'s own API key may')
    const events = await db.selectFrom('audit_events').selectAll().where('action', '=', 'credential.claim.created').where('target_id', '=', issued.id).execute()
    t.match(events, [{ actor: `api-key:${own.id}`, issuer_id: issuer.id, details: { claimId: made.json().id, txCode: false } }], 'the audit log says who made the claim')

    const copyId = (await copyRow(delivered[0]!.copy.id)).id
    assertProblem(t, await app.inject({ method: 'POST', url: `/v1/credentials/${copyId}/claims`, headers: admin }), 409, 'not-claimable')
    const vcApi = await app.inject({
      method: 'POST', url: '/credentials/issue', headers: admin,
      payload: { credential: { '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiableCredential'], issuer: issuer.did, credentialSubject: { id: 'did:example:x' } } }
    })
    const vcApiId = vcApi.json().verifiableCredential.id?.split('/').pop() ?? (await db.selectFrom('credentials').select('id').where('achievement_id', 'is', null).executeTakeFirstOrThrow()).id
    assertProblem(t, await app.inject({ method: 'POST', url: `/v1/credentials/${vcApiId}/claims`, headers: admin }), 409, 'not-claimable')
    const revoked = await issue()
    await app.inject({ method: 'POST', url: `/v1/credentials/${revoked.id}/revoke`, headers: admin })
    assertProblem(t, await app.inject({ method: 'POST', url: `/v1/credentials/${revoked.id}/claims`, headers: admin }), 409, 'credential-not-active')
  })

  await t.test('metadata: OID4VCI credential issuer and OAuth authorization server', async (t) => {
    const metadata = await getJson(`${origin}/.well-known/openid-credential-issuer`)
    t.match(metadata, {
      credential_issuer: origin, credential_endpoint: `${origin}/oid4vci/credential`, nonce_endpoint: `${origin}/oid4vci/nonce`,
      credential_configurations_supported: {
        OpenBadgeCredential_jwt_vc_json: { format: 'jwt_vc_json', credential_definition: { type: ['VerifiableCredential', 'OpenBadgeCredential'] }, proof_types_supported: { jwt: { proof_signing_alg_values_supported: ['EdDSA', 'ES256'] } } },
        OpenBadgeCredential_ldp_vc: { format: 'ldp_vc', credential_definition: { '@context': Array, type: ['VerifiableCredential', 'OpenBadgeCredential'] } }
      }
    })
    t.match(await getJson(`${origin}/.well-known/oauth-authorization-server`), { issuer: origin, token_endpoint: `${origin}/oid4vci/token`, grant_types_supported: [PRE_AUTH] })
    const nonce = await post(`${origin}/oid4vci/nonce`, {})
    t.match(nonce, { status: 200, body: { c_nonce: String } })
    t.equal(nonce.headers.get('cache-control'), 'no-store')
  })

  await t.test('the claim page: the badge, both wallets, downloads; unknown tokens 404', async (t) => {
    const withPng = await issue({ deliver: { txCode: true } })
    const page = await fetch(withPng.claim.claimUrl)
    t.equal(page.status, 200)
    t.match(page.headers.get('content-type'), /^text\/html/)
    t.equal(page.headers.get('cache-control'), 'no-store')
    const html = await page.text()
    for (const text of ['Add to Learner Credential Wallet', 'Add to another wallet (OpenID4VCI)', 'Safe Welding', 'Riverside College', 'six-digit code', 'badge.png', 'noindex']) t.match(html, text)
    t.equal((html.match(/<img class="qr" [^>]*src="data:image\/png;base64,/g) ?? []).length, 2, 'two QR codes, as PNG data: URIs')
    t.notMatch(html, /<script/)

    const svgOnly = await createAchievement(app, issuer.id, { name: 'No Image' })
    const res = await app.inject({ method: 'POST', url: '/v1/credentials', headers: admin, payload: { achievementId: svgOnly.id, recipient: { email: 'ada@example.com' }, deliver: true } })
    const plain = await (await fetch(res.json().claim.claimUrl)).text()
    t.notMatch(plain, 'badge.png')
    t.notMatch(plain, 'six-digit code')
    t.equal((await fetch(`${origin}/claim/${'C'.repeat(43)}`)).status, 404)
    t.equal((await fetch(`${origin}/claim/${'C'.repeat(43)}/offer`)).status, 404)
  })
})

t.test('a database failure in the OID4VCI endpoints is a 500 problem, not an OAuth error with internals', async (t) => {
  const { openTestDatabase } = await import('./helpers/app.js')
  const database = await openTestDatabase(t, 'pglite')
  const { app } = await buildTestApp(t, database)
  await sql`drop table oid4vci_nonces cascade`.execute(database.db)
  const res = await app.inject({ method: 'POST', url: '/oid4vci/token', headers: FORM, payload: `grant_type=${encodeURIComponent(PRE_AUTH)}&pre-authorized_code=x` })
  t.equal(res.statusCode, 400, 'a refusal that reads no dropped table still answers')
  await sql`drop table claims cascade`.execute(database.db)
  assertProblem(t, await app.inject({ method: 'POST', url: '/oid4vci/token', headers: FORM, payload: `grant_type=${encodeURIComponent(PRE_AUTH)}&pre-authorized_code=x` }), 500, 'internal')
})
