// Learning stacks through HTTP, on PGlite and PostgreSQL: the award arriving by itself, once, with its evidence; what does
// not count (revoked, expired); stacks across issuers and nested ones; progress; the evaluate job; tenancy; the public stack.
import t from 'tap'
import { admin, assertProblem, bearer, buildTestApp, createApiKey, createIssuer, onEachDatabase } from './helpers/app.js'
import { createAchievement, resolverFor } from './helpers/credentials.js'
import { verifyDataIntegrity } from './helpers/independent-verifier.js'
import { allResults, waitForJob } from './helpers/jobs.js'
import { officialSchemaValidator } from './helpers/ob3.js'
import { awaitAward, createPathway, issue, progressOf, settled } from './helpers/pathways.js'

type Json = Record<string, any>
const schemaErrors = officialSchemaValidator('achievementcredential')

await onEachDatabase(t, async (t, database) => {
  const { app, db } = await buildTestApp(t, database)
  const school = await createIssuer(app, { name: 'Northwind Teachers College' })
  const badge = (name: string, issuerId = school.id) => createAchievement(app, issuerId, { name, criteria: { narrative: `Show ${name}.` } })
  const [assessment, analytics, ai] = await Promise.all([badge('Digital Assessment'), badge('Classroom Analytics'), badge('AI Tools')])
  const educator = await badge('Data-Informed Educator')
  const stack = async (requirement: Json, award = educator, body: Json = {}) =>
    createPathway(app, school.id, { awardAchievementId: award.id, requirement, ...body })
  const three = { all: [{ achievementId: assessment.id }, { achievementId: analytics.id }, { achievementId: ai.id }] }
  const awardRows = (pathwayId: string) => db.selectFrom('pathway_awards').selectAll().where('pathway_id', '=', pathwayId).execute()
  const completedEvents = async (pathwayId: string) => (await db.selectFrom('events').select('data').where('type', '=', 'pathway.completed').execute())
    .filter((event) => event.data.pathwayId === pathwayId)

  await t.test('issuing the third badge of a stack brings the award by itself, once, with the three as evidence', async (t) => {
    const pathway = await stack(three, educator, { description: 'Three badges in using data to teach.' })
    t.match(pathway, {
      id: String, issuerId: school.id, name: 'Data-Informed Educator', description: 'Three badges in using data to teach.', awardAchievementId: educator.id,
      requirement: three, url: `https://badges.example.edu/pathways/${pathway.id}`, createdAt: String, updatedAt: String
    })
    const learner = { email: 'Grace.Hopper@Example.edu', name: 'Grace Hopper', externalId: 'lms-1815' }
    const first = await issue(app, assessment.id, learner)
    const second = await issue(app, analytics.id, learner)
    await settled(db)
    t.equal((await awardRows(pathway.id)).length, 0, 'two of three: nothing yet')
    const third = await issue(app, ai.id, learner)
    const { progress, ms } = await awaitAward(app, pathway.id, 'email=grace.hopper@example.edu')
    t.comment(`the award arrived ${ms} ms after the third badge was issued`)
    t.equal(progress.complete, true)

    const res = await app.inject({ method: 'GET', url: `/v1/credentials/${progress.award.credentialId}`, headers: admin })
    const award = res.json()
    t.equal(award.achievementId, educator.id)
    t.equal(award.recipientId, first.recipientId, 'the same learner, as the issuer knows them')
    const credential = award.credential
    t.same(credential.evidence.map((e: Json) => e.id), [first.url, second.url, third.url], 'evidence: the URLs of the three, in tree order')
    t.same(credential.evidence.map((e: Json) => e.name), ['Digital Assessment', 'Classroom Analytics', 'AI Tools'])
    t.equal(credential.credentialSubject.name, 'Grace Hopper')
    t.match(credential.credentialSubject.narrative, /Data-Informed Educator/)
    t.same(schemaErrors(credential), [], 'valid against the official OB 3.0 schema')
    t.same(await verifyDataIntegrity(credential, resolverFor(app)), { verified: true }, 'verified by the independent verifier')
    const verified = await app.inject({ method: 'POST', url: '/verify', payload: { credential } })
    t.equal(verified.json().verified, true, 'and by Lanyard\'s /verify')

    t.equal((await awardRows(pathway.id)).length, 1)
    const events = await completedEvents(pathway.id)
    t.equal(events.length, 1, 'one pathway.completed')
    t.match(events[0]!.data, {
      pathwayId: pathway.id, credentialId: award.id, url: award.url, recipient: { identityType: 'email', identity: 'grace.hopper@example.edu' },
      evidence: [first.url, second.url, third.url]
    })
    // Issuing a component again changes nothing: the award is once per learner.
    await issue(app, ai.id, learner)
    await settled(db)
    t.equal((await awardRows(pathway.id)).length, 1)
    t.equal((await db.selectFrom('credentials').select('id').where('achievement_id', '=', educator.id).execute()).length, 1, 'one award credential')
  })

  await t.test('progress shows each node satisfied or not, and by which credentials', async (t) => {
    const requirement = {
      all: [
        { achievementId: assessment.id },
        { any: [{ achievementId: analytics.id }, { achievementId: ai.id }] },
        { atLeast: 2, of: [{ achievementId: assessment.id }, { achievementId: analytics.id }, { achievementId: ai.id }] }
      ]
    }
    const pathway = await stack(requirement, await badge('Progress Award'))
    const mine = await issue(app, assessment.id, { did: 'did:example:progress' })
    const recipientId = mine.recipientId
    const before = await progressOf(app, pathway.id, `recipientId=${recipientId}`)
    t.match(before, {
      pathwayId: pathway.id, complete: false, award: null,
      requirement: {
        satisfied: false, credentialIds: [],
        all: [
          { achievementId: assessment.id, satisfied: true, credentialIds: [mine.id] },
          { satisfied: false, credentialIds: [], any: [{ satisfied: false }, { satisfied: false }] },
          { atLeast: 2, satisfied: false, credentialIds: [], of: [{ satisfied: true, credentialIds: [mine.id] }, { satisfied: false }, { satisfied: false }] }
        ]
      }
    })
    const other = await issue(app, ai.id, { did: 'did:example:progress' })
    const { progress } = await awaitAward(app, pathway.id, `recipientId=${recipientId}`)
    t.match(progress.requirement, {
      satisfied: true,
      all: [{ satisfied: true }, { satisfied: true, credentialIds: [other.id] }, { satisfied: true, credentialIds: [mine.id, other.id] }]
    })
    t.same(progress.requirement.credentialIds, [mine.id, other.id])
    const byEmail = await progressOf(app, pathway.id, 'email=nobody@example.com')
    t.match(byEmail, { complete: false, award: null, requirement: { satisfied: false } }, 'a learner with nothing yet')

    assertProblem(t, await app.inject({ method: 'GET', url: `/v1/pathways/${pathway.id}/progress`, headers: admin }), 400, 'validation-failed')
    assertProblem(t, await app.inject({ method: 'GET', url: `/v1/pathways/${pathway.id}/progress?email=a@example.com&recipientId=${recipientId}`, headers: admin }), 400, 'validation-failed')
    assertProblem(t, await app.inject({ method: 'GET', url: `/v1/pathways/${pathway.id}/progress?recipientId=${crypto.randomUUID()}`, headers: admin }), 404, 'not-found')
  })

  await t.test('a component revoked before completion does not count: the award waits for a valid one', async (t) => {
    const pathway = await stack(three, await badge('Revocation Award'))
    const learner = { email: 'revoked@example.edu' }
    const first = await issue(app, assessment.id, learner)
    await issue(app, analytics.id, learner)
    const revoked = await app.inject({ method: 'POST', url: `/v1/credentials/${first.id}/revoke`, headers: admin, payload: { reason: 'issued in error' } })
    t.equal(revoked.statusCode, 200)
    await issue(app, ai.id, learner)
    await settled(db)
    t.equal((await awardRows(pathway.id)).length, 0, 'no award with a revoked component')
    const progress = await progressOf(app, pathway.id, 'email=revoked@example.edu')
    t.match(progress.requirement.all[0], { satisfied: false, credentialIds: [] })
    const again = await issue(app, assessment.id, learner)
    const { progress: done } = await awaitAward(app, pathway.id, 'email=revoked@example.edu')
    t.equal(done.requirement.all[0].credentialIds[0], again.id, 'the new credential counts, the revoked one never')
  })

  await t.test('an expired component does not count', async (t) => {
    const pathway = await stack(three, await badge('Expiry Award'))
    const learner = { url: 'https://people.example.org/expiring' }
    const validUntil = new Date(Date.now() + 1500).toISOString()
    await issue(app, assessment.id, learner, { validUntil })
    await issue(app, analytics.id, learner)
    await new Promise((resolve) => setTimeout(resolve, Date.parse(validUntil) - Date.now() + 100))
    await issue(app, ai.id, learner)
    await settled(db)
    t.equal((await awardRows(pathway.id)).length, 0, 'no award with an expired component')
    t.match((await progressOf(app, pathway.id, `recipientId=${(await issue(app, analytics.id, learner)).recipientId}`)).requirement.all[0], { satisfied: false })
  })

  await t.test('a stack across issuers: another issuer\'s badges count for the same learner (same email, any case)', async (t) => {
    const partner = await createIssuer(app, { name: 'Open Data Institute', did: 'key' })
    const partnerKey = await createApiKey(app, partner.id)
    const theirs = await badge('Open Data Literacy', partner.id)
    const schoolKey = await createApiKey(app, school.id)
    const award = await badge('Open Data Educator')
    const pathway = await createPathway(app, school.id, { awardAchievementId: award.id, requirement: { all: [{ achievementId: theirs.id }, { achievementId: assessment.id }] } }, bearer(schoolKey.key))
    const fromPartner = await issue(app, theirs.id, { email: 'Ada@Example.org' }, {}, bearer(partnerKey.key))
    const fromSchool = await issue(app, assessment.id, { email: 'ada@example.org' }, {}, bearer(schoolKey.key))
    const { progress } = await awaitAward(app, pathway.id, 'email=ADA@example.org')
    const awarded = (await app.inject({ method: 'GET', url: `/v1/credentials/${progress.award.credentialId}`, headers: admin })).json()
    t.equal(awarded.issuerId, school.id, 'the award is the stack\'s issuer\'s')
    t.same(awarded.credential.evidence.map((e: Json) => e.id), [fromPartner.url, fromSchool.url])
    t.same(await verifyDataIntegrity(awarded.credential, resolverFor(app)), { verified: true })
  })

  await t.test('nested stacks: an inner stack\'s award completes the outer stack, by the award\'s own credential.issued', async (t) => {
    const inner = await stack({ any: [{ achievementId: analytics.id }] }, await badge('Analytics Practitioner'))
    const coach = await badge('Instructional Coach')
    const outer = await stack({ all: [{ pathwayId: inner.id }, { achievementId: assessment.id }] }, coach)
    const learner = { did: 'did:example:nested' }
    await issue(app, assessment.id, learner)
    const component = await issue(app, analytics.id, learner)
    const { progress: innerDone } = await awaitAward(app, inner.id, `recipientId=${component.recipientId}`)
    const { progress } = await awaitAward(app, outer.id, `recipientId=${component.recipientId}`)
    t.match(progress.requirement.all[0], { pathwayId: inner.id, satisfied: true, credentialIds: [innerDone.award.credentialId] })
    const outerAward = (await app.inject({ method: 'GET', url: `/v1/credentials/${progress.award.credentialId}`, headers: admin })).json()
    t.equal(outerAward.credential.evidence[0].id, innerDone.award.url, 'the inner award is evidence of the outer one')
    t.equal(outerAward.credential.evidence[0].name, 'Analytics Practitioner')

    const deleting = await app.inject({ method: 'DELETE', url: `/v1/pathways/${inner.id}`, headers: admin })
    const problem = assertProblem(t, deleting, 409, 'pathway-in-use')
    t.same(problem.pathwayIds, [outer.id])
  })

  await t.test('a definition is checked whole: 422 naming each bad node', async (t) => {
    const create = (body: Json, headers = admin) => app.inject({
      method: 'POST', url: `/v1/issuers/${school.id}/pathways`, headers, payload: { name: 'Broken', awardAchievementId: educator.id, ...body }
    })
    const missing = crypto.randomUUID()
    const bad = await create({
      requirement: {
        all: [
          { achievementId: missing },
          { any: [] },
          { atLeast: 3, of: [{ achievementId: ai.id }, { achievementId: analytics.id }] },
          { atLeast: 0, of: [{ achievementId: ai.id }] },
          { pathwayId: missing },
          { achievementId: educator.id }
        ]
      }
    })
    const problem = assertProblem(t, bad, 422, 'pathway-invalid')
    t.same(problem.errors.map((e: Json) => e.pointer).sort(), [
      '/requirement/all/0/achievementId', '/requirement/all/1/any', '/requirement/all/2/atLeast', '/requirement/all/3/atLeast',
      '/requirement/all/4/pathwayId', '/requirement/all/5/achievementId'
    ].sort())
    t.match(problem.detail, /\/requirement\/all\/0\/achievementId no achievement/)

    const other = await createIssuer(app, { name: 'Elsewhere' })
    const theirs = await badge('Not Yours', other.id)
    const foreignAward = assertProblem(t, await create({ awardAchievementId: theirs.id, requirement: { achievementId: ai.id } }), 422, 'pathway-invalid')
    t.match(foreignAward.errors, [{ pointer: '/awardAchievementId', message: /own issuer/ }])
    const unknownAward = assertProblem(t, await create({ awardAchievementId: missing, requirement: { achievementId: ai.id } }), 422, 'pathway-invalid')
    t.match(unknownAward.errors, [{ pointer: '/awardAchievementId', message: /no achievement/ }])

    let deep: Json = { achievementId: ai.id }
    for (let i = 0; i < 9; i++) deep = { all: [deep] }
    const tooDeep = assertProblem(t, await create({ requirement: deep }), 422, 'pathway-invalid')
    t.match(tooDeep.errors, [{ pointer: `/requirement${'/all/0'.repeat(8)}`, message: /deeper than 8/ }])
    // Deeper than JSON.stringify (or any recursive walk) could go: refused before anything recurses into it.
    const levels = 100_000
    const abysmal = `{"name":"Abyss","awardAchievementId":"${educator.id}","requirement":${'{"any":['.repeat(levels)}{"achievementId":"${ai.id}"}${']}'.repeat(levels)}}`
    const abyss = await app.inject({ method: 'POST', url: `/v1/issuers/${school.id}/pathways`, headers: { ...admin, 'content-type': 'application/json' }, payload: abysmal })
    assertProblem(t, abyss, 422, 'pathway-invalid')
    const wide = assertProblem(t, await create({ requirement: { any: Array.from({ length: 200 }, () => ({ achievementId: ai.id })) } }), 422, 'pathway-invalid')
    t.match(wide.errors, [{ pointer: '/requirement', message: /201 nodes/ }])

    const shape = await create({ requirement: { achievementId: ai.id, all: [] } })
    assertProblem(t, shape, 400, 'validation-failed')
    assertProblem(t, await create({ requirement: { of: [{ achievementId: ai.id }] } }), 400, 'validation-failed')
    const pair = assertProblem(t, await create({ requirement: { achievementId: ai.id, of: [] } }), 400, 'validation-failed')
    t.match(pair.errors, [{ pointer: '/requirement/atLeast', message: 'atLeast and of go together' }])
    assertProblem(t, await create({ requirement: { atLeast: 1.5, of: [{ achievementId: ai.id }] } }), 400, 'validation-failed')
    assertProblem(t, await create({ requirement: { all: [{ achievementId: 'not-a-uuid' }] } }), 400, 'validation-failed')
    const notAnObject = await app.inject({ method: 'POST', url: `/v1/issuers/${school.id}/pathways`, headers: { ...admin, 'content-type': 'application/json' }, payload: '42' })
    assertProblem(t, notAnObject, 400, 'validation-failed')
  })

  await t.test('a change that would nest a stack in itself is refused, directly or through others', async (t) => {
    const a = await stack({ achievementId: ai.id }, await badge('Cycle A'))
    const b = await stack({ pathwayId: a.id }, await badge('Cycle B'))
    const c = await stack({ all: [{ pathwayId: b.id }, { achievementId: analytics.id }] }, await badge('Cycle C'))
    const patch = (id: string, payload: Json) => app.inject({ method: 'PATCH', url: `/v1/pathways/${id}`, headers: admin, payload })
    const through = assertProblem(t, await patch(a.id, { requirement: { any: [{ achievementId: ai.id }, { pathwayId: c.id }] } }), 422, 'pathway-invalid')
    t.match(through.errors, [{ pointer: '/requirement/any/1/pathwayId', message: /cycle/ }])
    const self = assertProblem(t, await patch(a.id, { requirement: { pathwayId: a.id } }), 422, 'pathway-invalid')
    t.match(self.errors, [{ pointer: '/requirement/pathwayId', message: /cycle/ }])
    // Two edits at once that would each close half of a cycle: the graph lock lets one through.
    const x = await stack({ achievementId: ai.id }, await badge('Race X'))
    const y = await stack({ achievementId: ai.id }, await badge('Race Y'))
    const both = await Promise.all([patch(x.id, { requirement: { pathwayId: y.id } }), patch(y.id, { requirement: { pathwayId: x.id } })])
    t.same(both.map((res) => res.statusCode).sort(), [200, 422], 'one edit passes, the other would close the cycle')

    const renamed = await patch(c.id, { name: 'Cycle C, renamed', description: 'Now described.' })
    t.match(renamed.json(), { name: 'Cycle C, renamed', description: 'Now described.', requirement: c.requirement })
    const cleared = await patch(c.id, { description: null, awardAchievementId: (await badge('Cycle C Award')).id })
    t.equal(cleared.json().description, null)
    assertProblem(t, await patch(c.id, {}), 400, 'validation-failed')
    assertProblem(t, await patch(crypto.randomUUID(), { name: 'x' }), 404, 'not-found')
  })

  await t.test('an API key sees and changes only its own issuer\'s stacks', async (t) => {
    const pathway = await stack({ achievementId: ai.id }, await badge('Tenancy Award'))
    const stranger = await createIssuer(app, { name: 'Stranger University' })
    const key = bearer((await createApiKey(app, stranger.id)).key)
    const mineKey = bearer((await createApiKey(app, school.id)).key)
    for (const [method, url, payload] of [
      ['GET', `/v1/pathways/${pathway.id}`], ['PATCH', `/v1/pathways/${pathway.id}`, { name: 'Taken' }], ['DELETE', `/v1/pathways/${pathway.id}`],
      ['GET', `/v1/pathways/${pathway.id}/progress?email=a@example.com`], ['POST', `/v1/pathways/${pathway.id}/evaluate`],
      ['GET', `/v1/issuers/${school.id}/pathways`]
    ] as const) {
      assertProblem(t, await app.inject({ method, url, headers: key, ...(payload && { payload }) }), 404, 'not-found')
    }
    const create = await app.inject({
      method: 'POST', url: `/v1/issuers/${school.id}/pathways`, headers: key, payload: { name: 'x', awardAchievementId: educator.id, requirement: { achievementId: ai.id } }
    })
    assertProblem(t, create, 404, 'not-found')
    const theirRecipient = (await issue(app, ai.id, { email: 'tenant@example.com' })).recipientId
    const strangerPathway = await createPathway(app, stranger.id, { awardAchievementId: (await badge('Stranger Award', stranger.id)).id, requirement: { achievementId: ai.id } }, key)
    assertProblem(t, await app.inject({ method: 'GET', url: `/v1/pathways/${strangerPathway.id}/progress?recipientId=${theirRecipient}`, headers: key }), 404, 'not-found')
    t.equal((await app.inject({ method: 'GET', url: `/v1/pathways/${pathway.id}`, headers: mineKey })).statusCode, 200)

    const listed = await app.inject({ method: 'GET', url: `/v1/issuers/${school.id}/pathways?limit=2`, headers: mineKey })
    t.equal(listed.statusCode, 200)
    t.equal(listed.json().items.length, 2)
    const next = await app.inject({ method: 'GET', url: `/v1/issuers/${school.id}/pathways?limit=200&cursor=${listed.json().nextCursor}`, headers: mineKey })
    t.ok(next.json().items.every((item: Json) => item.issuerId === school.id))
    t.notOk(next.json().items.some((item: Json) => listed.json().items.some((first: Json) => first.id === item.id)), 'the next page goes on')
  })

  await t.test('evaluate awards everyone already complete, as a job, and nobody twice', async (t) => {
    const [reading, writing] = await Promise.all([badge('Reading Data'), badge('Writing Reports')])
    // Issued before the stack existed: no event will bring these awards.
    const learners = ['early1@example.com', 'early2@example.com', 'early3@example.com'].map((email) => ({ email }))
    for (const learner of learners.slice(0, 2)) {
      await issue(app, reading.id, learner)
      await issue(app, writing.id, learner)
    }
    await issue(app, reading.id, learners[2]!)
    await settled(db)
    const award = await badge('Early Bird')
    const pathway = await stack({ all: [{ achievementId: reading.id }, { achievementId: writing.id }] }, award)
    await settled(db)
    t.equal((await awardRows(pathway.id)).length, 0, 'defining a stack awards nobody by itself')
    const res = await app.inject({ method: 'POST', url: `/v1/pathways/${pathway.id}/evaluate`, headers: admin })
    t.equal(res.statusCode, 202, res.body)
    t.equal(res.headers.location, `/v1/jobs/${res.json().id}`)
    t.match(res.json(), { type: 'evaluate-pathway', status: 'queued' })
    const job = await waitForJob(app, res.json().id)
    t.match(job, { status: 'completed', total: 3, succeeded: 2, failed: 0 }, 'three learners looked at, two awarded')
    const results = await allResults(app, job.id)
    t.equal(results.length, 2, 'one result per award')
    t.ok(results.every((result) => result.credentialId !== undefined && result.url !== undefined))
    t.equal((await awardRows(pathway.id)).length, 2)
    t.equal((await completedEvents(pathway.id)).length, 2)

    const again = await waitForJob(app, (await app.inject({ method: 'POST', url: `/v1/pathways/${pathway.id}/evaluate`, headers: admin })).json().id)
    t.match(again, { status: 'completed', succeeded: 0 })
    t.equal((await awardRows(pathway.id)).length, 2, 'nobody awarded twice')

    const nobody = await stack({ achievementId: (await badge('Never Issued')).id }, await badge('Empty Award'))
    const empty = await app.inject({ method: 'POST', url: `/v1/pathways/${nobody.id}/evaluate`, headers: admin })
    t.match(empty.json(), { status: 'completed', total: 0, succeeded: 0, finishedAt: String }, 'no candidates: done at once')
  })

  await t.test('two issues completing a stack at once bring one award', async (t) => {
    const award = await badge('Concurrent Award')
    const pathway = await stack({ all: [{ achievementId: analytics.id }, { achievementId: ai.id }] }, award)
    for (let round = 0; round < 3; round++) {
      const learner = { email: `race${round}@example.com` }
      await Promise.all([issue(app, analytics.id, learner), issue(app, ai.id, learner)])
      await awaitAward(app, pathway.id, `email=race${round}@example.com`)
    }
    await settled(db)
    t.equal((await awardRows(pathway.id)).length, 3)
    t.equal((await db.selectFrom('credentials').select('id').where('achievement_id', '=', award.id).execute()).length, 3, 'one credential per learner')
    t.equal((await completedEvents(pathway.id)).length, 3)
  })

  await t.test('deleting a stack: 204, then gone; its awards stay valid', async (t) => {
    const award = await badge('Deleted Award')
    const pathway = await stack({ achievementId: ai.id }, award)
    const learner = { did: 'did:example:deleted' }
    const component = await issue(app, ai.id, learner)
    const { progress } = await awaitAward(app, pathway.id, `recipientId=${component.recipientId}`)
    const res = await app.inject({ method: 'DELETE', url: `/v1/pathways/${pathway.id}`, headers: admin })
    t.equal(res.statusCode, 204)
    assertProblem(t, await app.inject({ method: 'GET', url: `/v1/pathways/${pathway.id}`, headers: admin }), 404, 'not-found')
    assertProblem(t, await app.inject({ method: 'GET', url: `/pathways/${pathway.id}` }), 404, 'not-found')
    const credential = (await app.inject({ method: 'GET', url: `/v1/credentials/${progress.award.credentialId}`, headers: admin })).json()
    t.equal(credential.status, 'active')
  })

  await t.test('the public stack: JSON for machines, a page for people', async (t) => {
    const inner = await stack({ achievementId: ai.id }, await badge('Public Inner'))
    const pathway = await stack({ all: [{ achievementId: assessment.id }, { atLeast: 1, of: [{ pathwayId: inner.id }, { achievementId: analytics.id }] }] }, educator, { description: 'Public.' })
    const json = await app.inject({ method: 'GET', url: `/pathways/${pathway.id}` })
    t.equal(json.statusCode, 200)
    t.match(json.headers['content-type'], /^application\/json/)
    t.match(json.json(), {
      id: pathway.url, name: 'Data-Informed Educator', description: 'Public.',
      issuer: { id: school.did ?? String, name: 'Northwind Teachers College' },
      award: { id: `https://badges.example.edu/achievements/${educator.id}`, type: ['Achievement'], name: 'Data-Informed Educator' },
      requirement: {
        all: [
          { achievementId: assessment.id, achievement: { name: 'Digital Assessment', criteria: { narrative: 'Show Digital Assessment.' }, creator: { name: 'Northwind Teachers College' } } },
          { atLeast: 1, of: [{ pathwayId: inner.id, pathway: { id: inner.url, name: 'Data-Informed Educator' } }, { achievementId: analytics.id }] }
        ]
      }
    })
    const html = await app.inject({ method: 'GET', url: `/pathways/${pathway.id}`, headers: { accept: 'text/html' } })
    t.equal(html.statusCode, 200)
    t.match(html.headers['content-type'], /^text\/html/)
    t.match(html.body, '<h1>Data-Informed Educator</h1>')
    t.match(html.body, 'Digital Assessment')
    t.match(html.body, 'At least 1 of these 2:')
    t.match(html.body, `href="${inner.url}"`)
    assertProblem(t, await app.inject({ method: 'GET', url: `/pathways/${pathway.id}`, headers: { accept: 'image/png' } }), 406, 'not-acceptable')
    assertProblem(t, await app.inject({ method: 'GET', url: `/pathways/${crypto.randomUUID()}` }), 404, 'not-found')
  })

  await t.test('credentials with no achievement or recipient (VC-API) pass by without harm', async (t) => {
    const issuer = await createIssuer(app, { name: 'VC-API College', did: 'key' })
    const res = await app.inject({
      method: 'POST', url: '/credentials/issue', headers: admin,
      payload: { credential: { '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiableCredential'], issuer: issuer.did, credentialSubject: { id: 'did:example:vc' } } }
    })
    t.equal(res.statusCode, 201, res.body)
    const pathway = await stack({ achievementId: assessment.id }, await badge('After VC-API'))
    await issue(app, assessment.id, { did: 'did:example:after-vc' })
    await awaitAward(app, pathway.id, `recipientId=${(await issue(app, ai.id, { did: 'did:example:after-vc' })).recipientId}`)
    t.pass('the subscriber went on past it')
  })
})
