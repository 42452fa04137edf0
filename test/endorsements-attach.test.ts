// Endorsements signed elsewhere: an achievement's issuer attaches one (JSON or VC-JWT) once Lanyard's verifier accepts
// it, and it is then embedded like Lanyard's own; anything that does not verify, or endorses something else, is a 422
// naming why. Detaching takes any endorsement off the achievement without revoking it.
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { admin, assertProblem, bearer, buildTestApp, createApiKey, createIssuer, onEachDatabase } from './helpers/app.js'
import { createAchievement, resolverFor } from './helpers/credentials.js'
import { endorse, foreignEndorser } from './helpers/endorsements.js'
import { verifyDataIntegrity } from './helpers/independent-verifier.js'
import { officialSchemaValidator } from './helpers/ob3.js'

type Json = Record<string, any>

const validateCredential = officialSchemaValidator('achievementcredential')

async function issueBadge(app: FastifyInstance, achievementId: string) {
  const res = await app.inject({ method: 'POST', url: '/v1/credentials', headers: admin, payload: { achievementId, recipient: { email: 'ada@example.com' } } })
  if (res.statusCode !== 201) throw new Error(`issuing answered ${res.statusCode}: ${res.body}`)
  return res.json()
}

await onEachDatabase(t, async (t, database) => {
  const { app, db } = await buildTestApp(t, database)
  const college = await createIssuer(app, { name: 'Riverside College' })
  const collegeKey = await createApiKey(app, college.id)
  const guild = foreignEndorser()
  const attach = (achievementId: string, payload: Json, headers: Record<string, string> = bearer(collegeKey.key)) =>
    app.inject({ method: 'POST', url: `/v1/achievements/${achievementId}/endorsements`, headers, payload })

  await t.test('a valid endorsement from elsewhere, as JSON or as a VC-JWT, is attached and embedded like one signed here', async (t) => {
    const badge = await createAchievement(app, college.id)
    const json = await guild.signed(guild.endorsement(badge.achievementUrl))
    const attached = await attach(badge.id, { credential: json })
    t.equal(attached.statusCode, 201, attached.body)
    t.match(attached.json(), {
      origin: 'attached', format: 'eddsa-rdfc-2022', jwtAlg: null, status: 'active', endorserId: null, endorser: { id: guild.did, name: guild.name },
      subjectId: badge.achievementUrl, achievementId: badge.id, endorsementComment: 'Our members hold this badge.', embedded: true
    })
    t.same(attached.json().credential, json, 'kept as signed')
    const hosted = await app.inject({ method: 'GET', url: `/endorsements/${attached.json().id}` })
    t.same(JSON.parse(hosted.body), json, 'and published')

    const jwt = await guild.jwt(guild.endorsement(badge.achievementUrl, {}, null))
    const asJwt = await attach(badge.id, { jwt })
    t.equal(asJwt.statusCode, 201, asJwt.body)
    t.match(asJwt.json(), { format: 'vc-jwt', jwt, endorsementComment: null })
    const enveloped = await guild.jwt(guild.endorsement(badge.achievementUrl))
    const asEnvelope = await attach(badge.id, { credential: { '@context': ['https://www.w3.org/ns/credentials/v2'], type: 'EnvelopedVerifiableCredential', id: `data:application/vc+jwt,${enveloped}` } })
    t.equal(asEnvelope.statusCode, 201, 'an EnvelopedVerifiableCredential of a VC-JWT too')

    const achievement = (await app.inject({ method: 'GET', url: `/achievements/${badge.id}` })).json()
    t.same(achievement.endorsement, [json])
    t.same(achievement.endorsementJwt, [jwt, enveloped])
    const badgeNow = await issueBadge(app, badge.id)
    t.same(badgeNow.credential.credentialSubject.achievement.endorsement, [json])
    t.same(validateCredential(badgeNow.credential), [])
    const independent = await verifyDataIntegrity(badgeNow.credential, resolverFor(app))
    t.ok(independent.verified, `the badge verifies independently: ${independent.error ?? 'ok'}`)
    const report = (await app.inject({ method: 'POST', url: '/verify', payload: { credential: badgeNow.credential } })).json()
    t.match(report, { verified: true, endorsements: [{ verified: true, issuer: { id: guild.did } }, { verified: true }, { verified: true }] })

    assertProblem(t, await attach(badge.id, { credential: json }), 409, 'already-attached')
    const revoke = await app.inject({ method: 'POST', url: `/v1/endorsements/${attached.json().id}/revoke`, headers: bearer(collegeKey.key) })
    t.match(assertProblem(t, revoke, 409, 'not-revocable-here').detail, `DELETE /v1/achievements/${badge.id}/endorsements/${attached.json().id}`)
  })

  await t.test('refused with 422 naming why: forged, expired, of another achievement, not an endorsement', async (t) => {
    const badge = await createAchievement(app, college.id)
    const other = await createAchievement(app, college.id)
    const forged = await guild.signed(guild.endorsement(badge.achievementUrl))
    forged.credentialSubject.endorsementComment = 'Forged praise'
    const refusedForgery = assertProblem(t, await attach(badge.id, { credential: forged }), 422, 'endorsement-not-verified')
    t.match(refusedForgery, { detail: /proof: /, errors: [{ pointer: '/credential', message: /^proof: / }], checks: [{ check: 'format' }] })

    const expired = await guild.signed(guild.endorsement(badge.achievementUrl, { validUntil: '2025-06-01T00:00:00Z' }))
    t.match(assertProblem(t, await attach(badge.id, { credential: expired }), 422, 'endorsement-not-verified').detail, /validity: Expired/)
    const badJwt = (await guild.jwt(guild.endorsement(badge.achievementUrl))).replace(/\.[^.]+$/, '.AAAA')
    t.match(assertProblem(t, await attach(badge.id, { jwt: badJwt }), 422, 'endorsement-not-verified').errors, [{ pointer: '/jwt' }])

    const elsewhere = await guild.signed(guild.endorsement(other.achievementUrl))
    t.match(assertProblem(t, await attach(badge.id, { credential: elsewhere }), 422, 'endorsement-subject-mismatch').errors, [{ pointer: '/credential/credentialSubject/id', message: `must be ${badge.achievementUrl}` }])
    const subjectless = await guild.signed({ ...guild.endorsement(badge.achievementUrl), credentialSubject: { type: ['EndorsementSubject'] } })
    t.match(assertProblem(t, await attach(badge.id, { credential: subjectless }), 422, 'endorsement-subject-mismatch').detail, /endorses null/)
    const badgeCredential = (await issueBadge(app, badge.id)).credential
    t.match(assertProblem(t, await attach(badge.id, { credential: badgeCredential }), 422, 'not-an-endorsement').errors, [{ pointer: '/credential/type' }])
    assertProblem(t, await attach(badge.id, { credential: { hello: 'world' } }), 400, 'not-a-credential')
    t.match(assertProblem(t, await attach(badge.id, { jwt: 'not a jwt' }), 400, 'not-a-credential').errors, [{ pointer: '/jwt' }])
    t.equal((await attach(badge.id, { credential: forged, jwt: 'x.y.z' })).statusCode, 400, 'exactly one of credential or jwt')
    const stored = await db.selectFrom('endorsements').select('id').where('achievement_id', '=', badge.id).execute()
    t.same(stored, [], 'nothing was attached')
  })

  await t.test('detaching takes an endorsement off the achievement and new badges, and leaves it valid', async (t) => {
    const badge = await createAchievement(app, college.id)
    const employer = await createIssuer(app, { name: 'Acme Fabrication' })
    const ours = (await endorse(app, employer.id, { subjectId: badge.achievementUrl, endorsementComment: 'Ours.' })).json()
    const theirs = (await attach(badge.id, { credential: await guild.signed(guild.endorsement(badge.achievementUrl)) })).json()
    t.equal((await app.inject({ method: 'GET', url: `/achievements/${badge.id}` })).json().endorsement.length, 2)

    const detach = (id: string, headers: Record<string, string> = bearer(collegeKey.key), achievementId = badge.id) =>
      app.inject({ method: 'DELETE', url: `/v1/achievements/${achievementId}/endorsements/${id}`, headers })
    const res = await detach(ours.id)
    t.equal(res.statusCode, 204, res.body)
    t.equal(res.body, '')
    t.equal((await detach(ours.id)).statusCode, 204, 'repeating it changes nothing')
    t.same((await app.inject({ method: 'GET', url: `/achievements/${badge.id}` })).json().endorsement, [theirs.credential], 'only the other one is embedded')
    t.same((await issueBadge(app, badge.id)).credential.credentialSubject.achievement.endorsement, [theirs.credential])
    const view = (await app.inject({ method: 'GET', url: `/v1/endorsements/${ours.id}`, headers: admin })).json()
    t.match(view, { status: 'active', embedded: false, detachedAt: String }, 'still valid, no longer embedded')
    assertProblem(t, await endorse(app, employer.id, { subjectId: badge.achievementUrl, endorsementComment: 'Again.' }), 409, 'already-endorsed')

    t.equal((await detach(theirs.id)).statusCode, 204)
    t.notOk('endorsement' in (await app.inject({ method: 'GET', url: `/achievements/${badge.id}` })).json())
    const reattached = await attach(badge.id, { credential: theirs.credential })
    t.equal(reattached.statusCode, 201, 'a detached foreign endorsement can be attached again')

    const other = await createAchievement(app, college.id)
    assertProblem(t, await detach(reattached.json().id, bearer(collegeKey.key), other.id), 404, 'not-found')
    assertProblem(t, await detach(crypto.randomUUID()), 404, 'not-found')
    const audit = await db.selectFrom('audit_events').select('action').where('target_id', '=', ours.id).orderBy('id').execute()
    t.same(audit.map((row) => row.action), ['endorsement.issued', 'endorsement.detached'])
  })

  await t.test('only the achievement\'s issuer attaches, lists and detaches (404 for anyone else)', async (t) => {
    const badge = await createAchievement(app, college.id)
    const outsider = await createIssuer(app, { name: 'Outsider' })
    const outsiderKey = await createApiKey(app, outsider.id)
    const json = await guild.signed(guild.endorsement(badge.achievementUrl))
    assertProblem(t, await attach(badge.id, { credential: json }, bearer(outsiderKey.key)), 404, 'not-found')
    const attached = (await attach(badge.id, { credential: json }, admin)).json()
    assertProblem(t, await app.inject({ method: 'GET', url: `/v1/achievements/${badge.id}/endorsements`, headers: bearer(outsiderKey.key) }), 404, 'not-found')
    assertProblem(t, await app.inject({ method: 'DELETE', url: `/v1/achievements/${badge.id}/endorsements/${attached.id}`, headers: bearer(outsiderKey.key) }), 404, 'not-found')
    assertProblem(t, await app.inject({ method: 'GET', url: `/v1/endorsements/${attached.id}`, headers: bearer(outsiderKey.key) }), 404, 'not-found')
    t.equal((await app.inject({ method: 'GET', url: `/v1/endorsements/${attached.id}`, headers: bearer(collegeKey.key) })).statusCode, 200)
    const listed = await app.inject({ method: 'GET', url: `/v1/achievements/${badge.id}/endorsements`, headers: bearer(collegeKey.key) })
    t.match(listed.json(), { items: [{ id: attached.id, origin: 'attached' }], nextCursor: null })
  })
})
