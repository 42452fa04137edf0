// Endorsements through HTTP: an issuer (an employer, a professional body) signs an OB 3.0 EndorsementCredential of an
// achievement or a profile in each format; it verifies independently, meets the official schema, is hosted, and an
// achievement here embeds it in its public document and in every credential issued after; revoking it takes it out
// of both and turns it into a warning on badges issued before.
import { sql } from 'kysely'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { admin, assertProblem, bearer, buildTestApp, createApiKey, createIssuer, onEachDatabase } from './helpers/app.js'
import { createAchievement, HOST, resolverFor } from './helpers/credentials.js'
import { endorse, ENDORSEMENT_SCHEMA } from './helpers/endorsements.js'
import { verifyDataIntegrity, verifyVcJwt, type JwtVerification } from './helpers/independent-verifier.js'
import { officialSchemaValidator } from './helpers/ob3.js'
import { revocationBit } from './helpers/status.js'

type Json = Record<string, any>

const validateEndorsement = officialSchemaValidator('endorsementcredential')
const validateCredential = officialSchemaValidator('achievementcredential')
const JWT_CONTEXT = { endorsementJwt: { '@id': 'https://purl.imsglobal.org/spec/vc/ob/vocab.html#endorsementJwt', '@container': '@set' } }

type Variant = { endorser: 'web' | 'key'; format?: string; jwtAlg?: string }
const VARIANTS: Variant[] = [
  { endorser: 'web' }, { endorser: 'web', format: 'Ed25519Signature2020' }, { endorser: 'web', format: 'vc-jwt' },
  { endorser: 'web', format: 'vc-jwt', jwtAlg: 'ES256' }, { endorser: 'key', format: 'eddsa-rdfc-2022' }, { endorser: 'key', format: 'vc-jwt' }
]
const label = (v: Variant) => `did:${v.endorser} ${v.format ?? 'default format'}${v.jwtAlg === undefined ? '' : ` ${v.jwtAlg}`}`

async function issueBadge(app: FastifyInstance, achievementId: string, extra: Json = {}) {
  const res = await app.inject({ method: 'POST', url: '/v1/credentials', headers: admin, payload: { achievementId, recipient: { email: 'ada@example.com', name: 'Ada Lovelace' }, ...extra } })
  if (res.statusCode !== 201) throw new Error(`issuing answered ${res.statusCode}: ${res.body}`)
  return res.json()
}

async function verifyReport(app: FastifyInstance, payload: Json) {
  const res = await app.inject({ method: 'POST', url: '/verify', payload })
  if (res.statusCode !== 200) throw new Error(`/verify answered ${res.statusCode}: ${res.body}`)
  return res.json()
}

const checkOf = (checks: Json[], name: string): Json => checks.find((check) => check.check === name)!

await onEachDatabase(t, async (t, database) => {
  const { app, db } = await buildTestApp(t, database)
  const resolve = resolverFor(app)
  const college = await createIssuer(app, { name: 'Riverside College' })
  const employers = { web: await createIssuer(app, { name: 'Acme Fabrication', url: 'https://acme.example.com' }), key: await createIssuer(app, { name: 'Welders Union', did: 'key' }) }

  for (const variant of VARIANTS) {
    await t.test(`${label(variant)}: signed, hosted, valid, independently verifiable, and embedded in the achievement and in new badges`, async (t) => {
      const endorser = employers[variant.endorser]
      const badge = await createAchievement(app, college.id)
      const before = await issueBadge(app, badge.id)
      const res = await endorse(app, endorser.id, {
        subjectId: badge.achievementUrl, endorsementComment: 'Every welder we hire holds this badge.',
        ...(variant.format !== undefined && { format: variant.format }), ...(variant.jwtAlg !== undefined && { jwtAlg: variant.jwtAlg })
      })
      t.equal(res.statusCode, 201, res.body)
      const made = res.json()
      const isJwt = variant.format === 'vc-jwt'
      t.match(made, {
        url: `https://${HOST}/endorsements/${made.id}`, origin: 'issued', format: variant.format ?? 'eddsa-rdfc-2022', status: 'active',
        endorserId: endorser.id, endorser: { id: endorser.did, name: endorser.name }, subjectId: badge.achievementUrl,
        achievementId: badge.id, subjectIssuerId: null, endorsementComment: 'Every welder we hire holds this badge.', embedded: true,
        revokedAt: null, detachedAt: null
      })
      t.equal(made.jwtAlg, isJwt ? (variant.jwtAlg ?? (variant.endorser === 'key' ? 'EdDSA' : 'RS256')) : null, 'a did:key endorser signs JWTs with EdDSA by default')
      t.equal(typeof made.jwt, isJwt ? 'string' : 'undefined')

      // Independently: Digital Bazaar's verifier (Data Integrity) or jose (VC-JWT), and the official schema.
      const verification: JwtVerification = isJwt ? await verifyVcJwt(made.jwt, resolve) : await verifyDataIntegrity(made.credential, resolve)
      t.ok(verification.verified, `independent verifier: ${verification.error ?? 'ok'}`)
      const credential = isJwt ? verification.payload! : made.credential
      t.same(validateEndorsement(credential), [], 'valid against the official EndorsementCredential schema')
      t.match(credential, {
        '@context': ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json', 'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json'],
        id: made.url, type: ['VerifiableCredential', 'EndorsementCredential'], name: `Endorsement of Safe Welding by ${endorser.name}`,
        issuer: { id: endorser.did, type: ['Profile'], name: endorser.name },
        credentialSubject: { id: badge.achievementUrl, type: ['EndorsementSubject'], endorsementComment: 'Every welder we hire holds this badge.' },
        credentialSchema: [{ id: ENDORSEMENT_SCHEMA, type: '1EdTechJsonSchemaValidator2019' }],
        credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose: 'revocation' }
      })
      t.equal(await revocationBit(app, credential), false, 'its status list entry is clear')

      // Hosted: exactly the signed bytes; the JWT itself when asked for one.
      const row = await db.selectFrom('endorsements').select('signed').where('id', '=', made.id).executeTakeFirstOrThrow()
      const hosted = await app.inject({ method: 'GET', url: `/endorsements/${made.id}`, headers: { accept: isJwt ? 'application/vc+jwt' : 'application/ld+json' } })
      t.equal(hosted.statusCode, 200)
      t.equal(hosted.body, row.signed, 'served as stored, byte for byte')
      t.match(hosted.headers['content-type'], isJwt ? /^application\/vc\+jwt/ : /^application\/ld\+json/)
      if (isJwt) t.match(JSON.parse((await app.inject({ method: 'GET', url: `/endorsements/${made.id}` })).body), { type: 'EnvelopedVerifiableCredential', id: `data:application/vc+jwt,${made.jwt}` })

      // Embedded: the public Achievement, and a badge issued after (the issuing context cached by `before` is not reused).
      const achievement = (await app.inject({ method: 'GET', url: `/achievements/${badge.id}` })).json()
      if (isJwt) {
        t.same(achievement.endorsementJwt, [made.jwt])
        t.same(achievement['@context'].at(-1), JWT_CONTEXT, 'the document defines endorsementJwt')
      } else {
        t.same(achievement.endorsement, [made.credential])
      }
      t.notOk('endorsement' in before.credential.credentialSubject.achievement, 'a badge issued before does not carry it')
      const after = await issueBadge(app, badge.id)
      const embedded = after.credential.credentialSubject.achievement
      if (isJwt) {
        t.same(embedded.endorsementJwt, [made.jwt])
        t.same(after.credential['@context'], [...before.credential['@context'], JWT_CONTEXT])
      } else {
        t.same(embedded.endorsement, [made.credential], 'the signed endorsement, as signed')
      }
      t.same(validateCredential(after.credential), [], 'the badge still meets the official AchievementCredential schema')
      const badgeVerification = await verifyDataIntegrity(after.credential, resolve)
      t.ok(badgeVerification.verified, `the badge verifies independently: ${badgeVerification.error ?? 'ok'}`)
      for (const format of ['Ed25519Signature2020', 'vc-jwt']) {
        const other = await issueBadge(app, badge.id, { format })
        const checked = other.jwt === undefined ? await verifyDataIntegrity(other.credential, resolve) : await verifyVcJwt(other.jwt, resolve)
        t.ok(checked.verified, `a ${format} badge carrying it verifies independently: ${checked.error ?? 'ok'}`)
      }

      // /verify reports the endorsement as its own entry.
      const report = await verifyReport(app, { credential: after.credential })
      t.equal(report.verified, true)
      t.match(checkOf(report.checks, 'endorsements'), { status: 'passed', message: 'The endorsement verifies' })
      t.match(report.endorsements, [{ id: made.url, issuer: { id: endorser.did, name: endorser.name }, endorsementComment: 'Every welder we hire holds this badge.', verified: true }])
      const checks = report.endorsements[0].checks
      t.same(checks.map((c: Json) => c.check), ['format', 'schema', 'proof', 'issuer', 'validity', 'status', 'subject'])
      t.same(checks.filter((c: Json) => c.status !== 'passed'), [], 'every check of the endorsement passes')
      t.match(checkOf(checks, 'subject'), { message: `Endorses its achievement (${badge.achievementUrl})` })
      t.match(checkOf(checks, 'status'), { message: /^Not revoked/ })
    })
  }

  await t.test('revoking: the bit is set, the achievement and new badges drop it, and a badge issued before warns', async (t) => {
    const badge = await createAchievement(app, college.id)
    const made = (await endorse(app, employers.web.id, { subjectId: badge.achievementUrl, endorsementComment: 'Solid.' })).json()
    const carrying = await issueBadge(app, badge.id)
    t.equal(carrying.credential.credentialSubject.achievement.endorsement.length, 1)

    const revoked = await app.inject({ method: 'POST', url: `/v1/endorsements/${made.id}/revoke`, headers: admin, payload: { reason: 'partnership ended' } })
    t.equal(revoked.statusCode, 200, revoked.body)
    t.match(revoked.json(), { status: 'revoked', revocationReason: 'partnership ended', revokedAt: String, embedded: false })
    t.equal(await revocationBit(app, made.credential), true, 'its status list says revoked')
    const again = await app.inject({ method: 'POST', url: `/v1/endorsements/${made.id}/revoke`, headers: admin })
    t.match(again.json(), { status: 'revoked', revocationReason: 'partnership ended', revokedAt: revoked.json().revokedAt }, 'repeating it changes nothing')

    t.notOk('endorsement' in (await app.inject({ method: 'GET', url: `/achievements/${badge.id}` })).json(), 'the achievement no longer embeds it')
    t.notOk('endorsement' in (await issueBadge(app, badge.id)).credential.credentialSubject.achievement, 'nor does a badge issued now')
    t.equal((await app.inject({ method: 'GET', url: `/endorsements/${made.id}` })).statusCode, 200, 'still published: its status list tells it is revoked')

    const report = await verifyReport(app, { credential: carrying.credential })
    t.equal(report.verified, true, 'the badge itself still verifies')
    t.match(checkOf(report.checks, 'endorsements'), { status: 'warning', message: '1 of 1 endorsements do not verify (Acme Fabrication: Revoked by its issuer)' })
    t.match(report.endorsements, [{ verified: false }])
    t.match(checkOf(report.endorsements[0].checks, 'status'), { status: 'failed', message: 'Revoked by its issuer' })

    const renewed = await endorse(app, employers.web.id, { subjectId: badge.achievementUrl, endorsementComment: 'Solid again.' })
    t.equal(renewed.statusCode, 201, 'once revoked, the endorser may endorse it anew')
  })

  await t.test('a tampered or copied endorsement in a badge is a warning, and the badge keeps its own result', async (t) => {
    const badge = await createAchievement(app, college.id, { name: 'Pipe Welding' })
    const other = await createAchievement(app, college.id, { name: 'Flux Core' })
    const genuine = (await endorse(app, employers.web.id, { subjectId: badge.achievementUrl, endorsementComment: 'Good.' })).json()
    const elsewhere = (await endorse(app, employers.web.id, { subjectId: other.achievementUrl, endorsementComment: 'Good too.' })).json()
    const forged = structuredClone(genuine.credential)
    forged.credentialSubject.endorsementComment = 'The best welders in the world.'
    // The college signs a badge (through the VC-API) whose achievement carries them: its own signature is good.
    const document = structuredClone((await issueBadge(app, badge.id)).credential)
    delete document.proof
    delete document.credentialStatus
    document.id = `urn:uuid:${crypto.randomUUID()}`
    document.credentialSubject.achievement.endorsement = [genuine.credential, forged, elsewhere.credential]
    const signed = await app.inject({ method: 'POST', url: '/credentials/issue', headers: admin, payload: { credential: document } })
    t.equal(signed.statusCode, 201, signed.body)
    const report = await verifyReport(app, { credential: signed.json().verifiableCredential })
    t.equal(report.verified, true, 'verified is the badge\'s own result')
    t.match(checkOf(report.checks, 'endorsements'), { status: 'warning', message: /^2 of 3 endorsements do not verify/ })
    t.same(report.endorsements.map((e: Json) => e.verified), [true, false, false])
    t.match(checkOf(report.endorsements[1].checks, 'proof'), { status: 'failed' })
    t.match(checkOf(report.endorsements[2].checks, 'subject'), { status: 'failed', message: `Endorses ${other.achievementUrl}, which is not this credential, its achievement or its issuer` })
    t.equal(checkOf(report.endorsements[2].checks, 'proof').status, 'passed', 'the copied one is genuine, just not of this achievement')
  })

  await t.test('an issuer profile here embeds its endorsements in its public Profile; a subject elsewhere embeds nowhere', async (t) => {
    const json = (await endorse(app, employers.web.id, { subjectId: `https://${HOST}/issuers/${college.id.toUpperCase()}`, endorsementComment: 'A fine college.' })).json()
    t.match(json, { subjectId: `https://${HOST}/issuers/${college.id}`, subjectIssuerId: college.id, achievementId: null, embedded: true, credential: { name: 'Endorsement of Riverside College by Acme Fabrication' } })
    const jwt = (await endorse(app, employers.key.id, { subjectId: `https://${HOST}/issuers/${college.id}`, endorsementComment: 'Trusted.', format: 'vc-jwt' })).json()
    const profile = (await app.inject({ method: 'GET', url: `/issuers/${college.id}` })).json()
    t.same(profile.endorsement, [json.credential])
    t.same(profile.endorsementJwt, [jwt.jwt])
    t.same(profile['@context'].at(-1), JWT_CONTEXT)
    t.notOk('endorsement' in (await issueBadge(app, (await createAchievement(app, college.id)).id)).credential.issuer, 'credentials embed the profile without them')

    // A did:web issuer's profile endorsement names it by the URL its DID names: a badge embedding it in its issuer verifies it.
    const document = structuredClone((await issueBadge(app, (await createAchievement(app, college.id)).id)).credential)
    delete document.proof
    delete document.credentialStatus
    document.id = `urn:uuid:${crypto.randomUUID()}`
    document.issuer.endorsement = [json.credential]
    const signed = await app.inject({ method: 'POST', url: '/credentials/issue', headers: admin, payload: { credential: document } })
    t.equal(signed.statusCode, 201, signed.body)
    const report = await verifyReport(app, { credential: signed.json().verifiableCredential })
    t.match(report.endorsements, [{ verified: true }])
    t.match(checkOf(report.endorsements[0].checks, 'subject'), { status: 'passed', message: /^Endorses its issuer/ })

    const revoked = await app.inject({ method: 'POST', url: `/v1/endorsements/${jwt.id}/revoke`, headers: admin })
    t.equal(revoked.statusCode, 200)
    const after = (await app.inject({ method: 'GET', url: `/issuers/${college.id}` })).json()
    t.notOk('endorsementJwt' in after, 'a revoked endorsement leaves the profile')
    t.equal(after['@context'].length, 2, 'and so does the definition of endorsementJwt')

    const foreign = await endorse(app, employers.web.id, { subjectId: 'https://badges.other.example/achievements/42', endorsementComment: 'Seen it.' })
    t.equal(foreign.statusCode, 201, foreign.body)
    t.match(foreign.json(), { achievementId: null, subjectIssuerId: null, embedded: false, credential: { name: 'Endorsement by Acme Fabrication' } })
    t.ok((await verifyDataIntegrity(foreign.json().credential, resolve)).verified)
  })

  await t.test('the rules: one live endorsement per endorser and subject, none of oneself, subjects here must exist', async (t) => {
    const badge = await createAchievement(app, college.id)
    t.equal((await endorse(app, employers.web.id, { subjectId: badge.achievementUrl, endorsementComment: 'Yes.' })).statusCode, 201)
    const twice = await endorse(app, employers.web.id, { subjectId: badge.achievementUrl, endorsementComment: 'Yes again.' })
    assertProblem(t, twice, 409, 'already-endorsed')
    const [first, second] = await Promise.all([employers.key, employers.key].map((endorser) =>
      endorse(app, endorser.id, { subjectId: badge.achievementUrl, endorsementComment: 'At once.' })))
    t.same([first!.statusCode, second!.statusCode].sort(), [201, 409], 'two at once: one endorsement')

    const self = await endorse(app, college.id, { subjectId: badge.achievementUrl, endorsementComment: 'We are great.' })
    t.match(assertProblem(t, self, 422, 'self-endorsement').errors, [{ pointer: '/subjectId' }])
    assertProblem(t, await endorse(app, college.id, { subjectId: `https://${HOST}/issuers/${college.id}`, endorsementComment: 'Us.' }), 422, 'self-endorsement')
    for (const [subjectId, code] of [
      [`https://${HOST}/achievements/${crypto.randomUUID()}`, 'subject-not-found'],
      [`https://${HOST}/issuers/${crypto.randomUUID()}`, 'subject-not-found'],
      [`https://${HOST}/credentials/${crypto.randomUUID()}`, 'subject-not-endorsable'],
      [`${badge.achievementUrl}?v=2`, 'subject-not-endorsable']
    ] as const) {
      t.match(assertProblem(t, await endorse(app, employers.web.id, { subjectId, endorsementComment: 'Hm.' }), 422, code).errors, [{ pointer: '/subjectId' }], subjectId)
    }
    const bad = await endorse(app, employers.web.id, { subjectId: 'ftp://x.example/a', endorsementComment: '', jwtAlg: 'EdDSA', extra: 1 })
    t.equal(bad.statusCode, 400)
    assertProblem(t, await endorse(app, employers.key.id, { subjectId: badge.achievementUrl, endorsementComment: 'RSA?', format: 'vc-jwt', jwtAlg: 'RS256' }), 422, 'key-algorithm-unavailable')
    assertProblem(t, await endorse(app, crypto.randomUUID(), { subjectId: badge.achievementUrl, endorsementComment: 'Who?' }), 404, 'not-found')
  })

  await t.test('an achievement carries at most as many endorsements as a verifier checks', async (t) => {
    const badge = await createAchievement(app, college.id)
    const endorsers = await Promise.all(Array.from({ length: 21 }, (_, n) => createIssuer(app, { name: `Endorser ${n}` })))
    for (const endorser of endorsers.slice(0, 20)) {
      t.equal((await endorse(app, endorser.id, { subjectId: badge.achievementUrl, endorsementComment: 'Yes.' })).statusCode, 201)
    }
    const full = await endorse(app, endorsers[20]!.id, { subjectId: badge.achievementUrl, endorsementComment: 'Me too.' })
    t.match(assertProblem(t, full, 409, 'too-many-endorsements').detail, /already carries 20 endorsements.*detach one/)
    t.equal((await app.inject({ method: 'GET', url: `/achievements/${badge.id}` })).json().endorsement.length, 20)
    t.equal(Number((await db.selectFrom('endorsements').select((eb) => eb.fn.countAll<string>().as('n')).where('achievement_id', '=', badge.id).executeTakeFirstOrThrow()).n), 20, 'nothing of the refused one was stored')
    const profileFull = await Promise.all(endorsers.map((endorser) => endorse(app, endorser.id, { subjectId: `https://${HOST}/issuers/${employers.key.id}`, endorsementComment: 'Yes.' })))
    t.equal(profileFull.filter((res) => res.statusCode === 409).length, 1, 'a profile too')
    t.match(profileFull.find((res) => res.statusCode === 409)!.json().detail, /^the endorsed profile already carries 20 endorsements, as many as a verifier checks$/)
  })

  await t.test('tenancy: an API key endorses only as its own issuer, and sees only its own and its achievements\' endorsements', async (t) => {
    const badge = await createAchievement(app, college.id)
    const employerKey = await createApiKey(app, employers.web.id)
    const collegeKey = await createApiKey(app, college.id)
    const outsider = await createIssuer(app, { name: 'Outsider' })
    const outsiderKey = await createApiKey(app, outsider.id)
    const made = await endorse(app, employers.web.id, { subjectId: badge.achievementUrl, endorsementComment: 'Via key.' }, bearer(employerKey.key))
    t.equal(made.statusCode, 201, made.body)
    const { id } = made.json()
    assertProblem(t, await endorse(app, college.id, { subjectId: 'https://elsewhere.example/a', endorsementComment: 'As them.' }, bearer(employerKey.key)), 404, 'not-found')

    const listed = await app.inject({ method: 'GET', url: `/v1/issuers/${employers.web.id}/endorsements?limit=1`, headers: bearer(employerKey.key) })
    t.equal(listed.statusCode, 200)
    t.equal(listed.json().items.length, 1)
    t.type(listed.json().nextCursor, 'string', 'pages')
    const next = await app.inject({ method: 'GET', url: `/v1/issuers/${employers.web.id}/endorsements?limit=1&cursor=${listed.json().nextCursor}`, headers: bearer(employerKey.key) })
    t.ok(next.json().items[0].id > listed.json().items[0].id, 'the next page follows')
    const everything = await app.inject({ method: 'GET', url: `/v1/issuers/${employers.web.id}/endorsements?limit=200`, headers: admin })
    t.ok(everything.json().items.some((item: Json) => item.id === id))
    t.equal(everything.json().nextCursor, null)
    assertProblem(t, await app.inject({ method: 'GET', url: `/v1/issuers/${employers.web.id}/endorsements`, headers: bearer(collegeKey.key) }), 404, 'not-found')

    for (const key of [employerKey, collegeKey]) {
      t.equal((await app.inject({ method: 'GET', url: `/v1/endorsements/${id}`, headers: bearer(key.key) })).statusCode, 200, 'the endorser and the endorsed issuer see it')
    }
    assertProblem(t, await app.inject({ method: 'GET', url: `/v1/endorsements/${id}`, headers: bearer(outsiderKey.key) }), 404, 'not-found')
    assertProblem(t, await app.inject({ method: 'GET', url: `/v1/endorsements/${crypto.randomUUID()}`, headers: admin }), 404, 'not-found')
    const byCollege = await app.inject({ method: 'POST', url: `/v1/endorsements/${id}/revoke`, headers: bearer(collegeKey.key) })
    t.match(assertProblem(t, byCollege, 403, 'not-endorser').detail, `DELETE /v1/achievements/${badge.id}/endorsements/${id}`)
    assertProblem(t, await app.inject({ method: 'POST', url: `/v1/endorsements/${id}/revoke`, headers: bearer(outsiderKey.key) }), 404, 'not-found')
    const profile = (await endorse(app, employers.web.id, { subjectId: `https://${HOST}/issuers/${outsider.id}`, endorsementComment: 'Hi.' })).json()
    t.equal((await app.inject({ method: 'GET', url: `/v1/endorsements/${profile.id}`, headers: bearer(outsiderKey.key) })).statusCode, 200, 'an endorsed issuer sees it')
    t.equal(assertProblem(t, await app.inject({ method: 'POST', url: `/v1/endorsements/${profile.id}/revoke`, headers: bearer(outsiderKey.key) }), 403, 'not-endorser').detail,
      'only its endorser can revoke an endorsement')
    const byEndorser = await app.inject({ method: 'POST', url: `/v1/endorsements/${id}/revoke`, headers: bearer(employerKey.key), payload: {} })
    t.equal(byEndorser.json().status, 'revoked')

    const listedByAchievement = await app.inject({ method: 'GET', url: `/v1/achievements/${badge.id}/endorsements`, headers: bearer(collegeKey.key) })
    t.match(listedByAchievement.json(), { items: [{ id, status: 'revoked', embedded: false }], nextCursor: null })
    assertProblem(t, await app.inject({ method: 'GET', url: `/v1/achievements/${badge.id}/endorsements`, headers: bearer(employerKey.key) }), 404, 'not-found')
  })

  await t.test('endorsement.issued is in the outbox and the audit log, written with the endorsement', async (t) => {
    const badge = await createAchievement(app, college.id)
    const made = (await endorse(app, employers.web.id, { subjectId: badge.achievementUrl, endorsementComment: 'Logged.' })).json()
    const event = await db.selectFrom('events').selectAll().where('type', '=', 'endorsement.issued')
      .where(sql<boolean>`data->>'endorsementId' = ${made.id}`).executeTakeFirstOrThrow()
    t.match(event, { issuer_id: employers.web.id, data: { url: made.url, endorserId: employers.web.id, subjectId: badge.achievementUrl, achievementId: badge.id, subjectIssuerId: null } })
    const audit = await db.selectFrom('audit_events').selectAll().where('target_id', '=', made.id).execute()
    t.match(audit, [{ action: 'endorsement.issued', issuer_id: employers.web.id, details: { subjectId: badge.achievementUrl, format: 'eddsa-rdfc-2022' } }])
  })

  await t.test('the public URL: 404 for an unknown endorsement, 406 for a form it does not come in', async (t) => {
    assertProblem(t, await app.inject({ method: 'GET', url: `/endorsements/${crypto.randomUUID()}` }), 404, 'not-found')
    assertProblem(t, await app.inject({ method: 'GET', url: `/issuers/${crypto.randomUUID()}` }), 404, 'not-found')
    const made = (await endorse(app, employers.web.id, { subjectId: 'https://elsewhere.example/b', endorsementComment: 'x' })).json()
    for (const accept of ['application/vc+jwt', 'text/html']) {
      t.match(assertProblem(t, await app.inject({ method: 'GET', url: `/endorsements/${made.id}`, headers: { accept } }), 406, 'not-acceptable').detail, /application\/vc\+ld\+json$/)
    }
    const jwt = (await endorse(app, employers.web.id, { subjectId: 'https://elsewhere.example/c', endorsementComment: 'x', format: 'vc-jwt' })).json()
    t.match(assertProblem(t, await app.inject({ method: 'GET', url: `/endorsements/${jwt.id}`, headers: { accept: 'text/html' } }), 406, 'not-acceptable').detail, /application\/jwt$/)
    // Lanyard's verifier reads its own endorsements in-process, by URL.
    const report = await verifyReport(app, { url: made.url })
    t.match(report, { verified: true, format: 'eddsa-rdfc-2022', credential: { id: made.url } })
    t.match(checkOf(report.checks, 'schema'), { status: 'passed', message: 'Meets the official Open Badges 3.0 EndorsementCredential schema' })
  })
})

t.test('an endorsement that would fail the official schema is refused, never signed', async (t) => {
  const { assertEndorsementSchema } = await import('../src/endorsements/service.js')
  t.throws(() => assertEndorsementSchema({ type: ['VerifiableCredential', 'EndorsementCredential'] }), { code: 'credential-invalid', status: 422, message: /required property '@context'/ })
  const { buildEndorsementCredential } = await import('../src/endorsements/build.js')
  const built = buildEndorsementCredential({
    url: 'https://x.example/endorsements/1', endorser: { id: 'did:web:x.example', type: ['Profile'], name: 'X', url: 'https://x.example' },
    subjectId: 'https://y.example/achievements/2', subjectName: undefined, comment: 'Fine.', validFrom: new Date('2025-01-01T00:00:00Z')
  })
  t.doesNotThrow(() => assertEndorsementSchema(built))
  t.same(validateEndorsement(built), [])
})
