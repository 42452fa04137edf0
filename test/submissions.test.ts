// Evidence and review through HTTP, on PGlite and PostgreSQL: a learner's submission with files (typed by their bytes, capped
// in size), a revision, an approval with rubric results that issues a schema-valid, independently verified badge carrying the
// evidence and the result; the rules (409, 403, 422), two approvals at once, files' authorization, tenancy, events, audit.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import type { ServiceContext } from '../src/context.js'
import { createKeyring } from '../src/crypto/keyring.js'
import { inProcessSigner } from '../src/crypto/proof-pool.js'
import { admin, assertProblem, bearer, buildTestApp, createApiKey, createIssuer, onEachDatabase, TEST_MASTER_KEY } from './helpers/app.js'
import { createAchievement, resolverFor } from './helpers/credentials.js'
import { verifyDataIntegrity } from './helpers/independent-verifier.js'
import { officialSchemaValidator } from './helpers/ob3.js'
import { awaitAward, createPathway } from './helpers/pathways.js'
import { buildWebhookApp, startReceiver, subscribe } from './helpers/webhooks.js'
import { executableBytes, listening, pdfBytes, pngBytes, postMultipart } from './helpers/submissions.js'
import { handleEvents } from '../src/submissions/subscriber.js'

type Json = Record<string, any>
const schemaErrors = officialSchemaValidator('achievementcredential')

const LEVELS = { exemplary: `urn:uuid:${randomUUID()}`, proficient: `urn:uuid:${randomUUID()}`, developing: `urn:uuid:${randomUUID()}` }
const PLANNING = `urn:uuid:${randomUUID()}`
const rubric = (levels = LEVELS) => [{
  id: PLANNING,
  name: 'Lesson planning',
  resultType: 'RubricCriterionLevel',
  rubricCriterionLevel: [
    { id: levels.exemplary, name: 'Exemplary', points: 3 },
    { id: levels.proficient, name: 'Proficient', points: 2 },
    { id: levels.developing, name: 'Developing', points: 1 }
  ],
  requiredLevel: levels.proficient
}]

await onEachDatabase(t, async (t, database) => {
  const { app, db } = await buildTestApp(t, database, { submissions: { autoStart: false } })
  const origin = await listening(t, app)
  const school = await createIssuer(app, { name: 'Northwind Teachers College' })
  const { key } = await createApiKey(app, school.id)
  const lms = bearer(key)
  const reviewed = async (body: Json = {}) => {
    const achievement = await createAchievement(app, school.id, { name: 'Formative Assessment', criteria: { narrative: 'Plan and teach a lesson with exit tickets.' } })
    const res = await app.inject({ method: 'PATCH', url: `/v1/achievements/${achievement.id}`, headers: admin, payload: { resultDescription: rubric(), review: { required: true }, ...body } })
    t.equal(res.statusCode, 200, res.body)
    return res.json()
  }
  const learner = { email: 'Ada.Lovelace@Example.edu', name: 'Ada Lovelace', externalId: 'lms-1815' }
  const submit = (achievementId: string, body: Json = { recipient: learner, evidence: [{ name: 'Reflection', narrative: 'What my students learned.' }] }) =>
    app.inject({ method: 'POST', url: `/v1/achievements/${achievementId}/submissions`, headers: lms, payload: body })
  const review = (id: string, body: Json, headers = lms) => app.inject({ method: 'POST', url: `/v1/submissions/${id}/reviews`, headers, payload: body })
  const approval = (level = LEVELS.proficient, extra: Json = {}) => ({ decision: 'approve', results: [{ resultDescription: PLANNING, achievedLevel: level }], ...extra })
  const count = async (table: 'submissions' | 'submission_files' | 'submission_file_chunks') =>
    Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n)
  const eventsOf = async (submissionId: string) => (await db.selectFrom('events').select(['type', 'data']).where('type', 'like', 'submission.%').orderBy('occurred_at').orderBy('id').execute())
    .filter((event) => event.data.submissionId === submissionId)

  await t.test('a submission with a PDF and a PNG, revised, then approved with rubric results: the badge carries the evidence and the result', async (t) => {
    const achievement = await reviewed()
    const created = await postMultipart(origin, `/v1/achievements/${achievement.id}/submissions`, {
      recipient: learner,
      evidence: [{ name: 'Lesson plan', narrative: 'Fractions with paper strips, and exit tickets.', genre: 'Lesson plan' },
        { name: 'Recording of the lesson', url: 'https://video.example.edu/lessons/42', genre: 'Video' }]
    }, [{ name: 'lesson-plan.pdf', bytes: pdfBytes(), type: 'application/pdf' }, { name: 'exit tickets.png', bytes: pngBytes(), type: 'image/jpeg' }], lms)
    t.equal(created.status, 201, created.body)
    const submission = created.json()
    t.match(submission, {
      id: String, issuerId: school.id, achievementId: achievement.id, status: 'pending', version: 1,
      recipient: { email: 'ada.lovelace@example.edu', name: 'Ada Lovelace', externalId: 'lms-1815' },
      approvals: { required: 1, count: 0 }, reviews: []
    })
    t.same(submission.files.map((f: Json) => [f.name, f.contentType, f.public, f.version]), [
      ['lesson-plan.pdf', 'application/pdf', false, 1], ['exit tickets.png', 'image/png', false, 1]
    ], 'typed by their bytes (the client said image/jpeg for the PNG), private by default')
    t.equal(submission.files[0].size, pdfBytes().length)

    const revise = await review(submission.id, { decision: 'revise', comment: 'Add the students\' exit tickets, please.', results: [{ resultDescription: PLANNING, achievedLevel: LEVELS.developing }] })
    t.equal(revise.statusCode, 201, revise.body)
    t.equal(revise.json().submission.status, 'revision_requested')
    assertProblem(t, await review(submission.id, approval()), 409, 'submission-decided')

    const revised = await postMultipart(origin, `/v1/submissions/${submission.id}/versions`, {
      evidence: [{ name: 'Lesson plan, revised', narrative: 'Now with the exit tickets.' }]
    }, [{ name: 'tickets.pdf', bytes: pdfBytes('Exit tickets') }], lms)
    t.equal(revised.status, 201, revised.body)
    t.match(revised.json(), { status: 'pending', version: 2, evidence: [{ name: 'Lesson plan, revised' }] })
    t.same(revised.json().versions.map((v: Json) => v.version), [1, 2], 'the first version is kept')
    t.equal(revised.json().files.length, 3, 'and its files')

    assertProblem(t, await review(submission.id, approval(LEVELS.developing)), 422, 'results-invalid')
    const approved = await review(submission.id, approval(LEVELS.exemplary, { comment: 'Strong plan.' }))
    t.equal(approved.statusCode, 201, approved.body)
    const outcome = approved.json()
    t.match(outcome.review, { decision: 'approve', version: 2, comment: 'Strong plan.', actor: /^api-key:/ })
    t.match(outcome.submission, { status: 'approved', credentialId: String, credentialUrl: `https://badges.example.edu/credentials/${outcome.submission.credentialId}` })
    t.equal(outcome.submission.reviews.length, 2)

    const res = await app.inject({ method: 'GET', url: `/v1/credentials/${outcome.submission.credentialId}`, headers: lms })
    t.equal(res.statusCode, 200, res.body)
    const credential = res.json().credential
    t.same(credential.credentialSubject.result, [{ type: ['Result'], resultDescription: PLANNING, achievedLevel: LEVELS.exemplary }].map((r) => ({ ...r, ...credential.credentialSubject.result[0], ...r })))
    t.equal(credential.credentialSubject.achievement.resultDescription[0].id, PLANNING, 'the result refers to the achievement\'s rubric')
    const fileIds = revised.json().files.filter((f: Json) => f.version === 2).map((f: Json) => f.url)
    t.same(credential.evidence.map((e: Json) => e.name), ['Lesson plan, revised', 'tickets.pdf'], 'the approved version\'s evidence, then its files')
    t.same(credential.evidence[1].id, fileIds[0], 'the file by its URL')
    t.same(schemaErrors(credential), [], 'valid against the official OB 3.0 schema')
    t.same(await verifyDataIntegrity(credential, resolverFor(app)), { verified: true }, 'verified by the independent verifier')

    assertProblem(t, await review(submission.id, approval()), 409, 'submission-decided')
    t.same((await eventsOf(submission.id)).map((e) => e.type), [
      'submission.created', 'submission.revision_requested', 'submission.revised', 'submission.approved'
    ], 'each step is an event')
    const audit = await db.selectFrom('audit_events').select('action').where('target_id', '=', submission.id).orderBy('id').execute()
    t.same(audit.map((a) => a.action), ['submission.created', 'submission.revision_requested', 'submission.revised', 'submission.approved'])
  })

  await t.test('a renamed executable is refused by its bytes and an oversized file is a 413: nothing is stored', async (t) => {
    const achievement = await reviewed()
    const before = [await count('submissions'), await count('submission_files'), await count('submission_file_chunks')]
    const exe = await postMultipart(origin, `/v1/achievements/${achievement.id}/submissions`, { recipient: learner },
      [{ name: 'notes.pdf', bytes: pdfBytes() }, { name: 'lesson.pdf', bytes: executableBytes(), type: 'application/pdf' }], lms)
    t.equal(exe.status, 415, exe.body)
    t.match(exe.json(), { code: 'file-type-refused', errors: [{ pointer: '/files/1' }] })
    const big = await postMultipart(origin, `/v1/achievements/${achievement.id}/submissions`, { recipient: learner },
      [{ name: 'lesson.mp4', bytes: Buffer.concat([pdfBytes(), Buffer.alloc(25 * 1024 * 1024)]) }], lms)
    t.equal(big.status, 413, big.body)
    t.match(big.json(), { code: 'file-too-large', errors: [{ pointer: '/files/0' }] })
    const bad = await postMultipart(origin, `/v1/achievements/${achievement.id}/submissions`, { recipient: { email: 'not an email' } }, [{ name: 'a.pdf', bytes: pdfBytes() }], lms)
    t.equal(bad.status, 400, bad.body)
    t.match(bad.json(), { errors: [{ pointer: '/submission/recipient/email' }] })
    t.same([await count('submissions'), await count('submission_files'), await count('submission_file_chunks')], before, 'nothing stored')
    assertProblem(t, await submit(achievement.id, { recipient: learner }), 422, 'evidence-required')
  })

  await t.test('two reviewers approving at once issue one credential; the other gets a 409', async (t) => {
    const achievement = await reviewed()
    const { id } = (await submit(achievement.id)).json()
    const [a, b] = await Promise.all([
      review(id, approval(LEVELS.proficient, { reviewer: { email: 'r1@example.edu' } })),
      review(id, approval(LEVELS.exemplary, { reviewer: { email: 'r2@example.edu' } }))
    ])
    t.same([a.statusCode, b.statusCode].sort(), [201, 409], `${a.body} ${b.body}`)
    const rows = await db.selectFrom('credentials').select('id').where('achievement_id', '=', achievement.id).execute()
    t.equal(rows.length, 1, 'one credential')
    t.equal((await eventsOf(id)).filter((e) => e.type === 'submission.approved').length, 1)
  })

  await t.test('with two approvals required, one person approving twice counts once; a second person issues it', async (t) => {
    const achievement = await reviewed({ review: { required: true, approvals: 2 } })
    const { id } = (await submit(achievement.id)).json()
    const first = await review(id, approval(LEVELS.proficient, { reviewer: { email: 'r1@example.edu', name: 'Rosa' } }))
    t.match(first.json().submission, { status: 'pending', approvals: { required: 2, count: 1 } })
    assertProblem(t, await review(id, approval(LEVELS.proficient, { reviewer: { email: 'R1@example.edu' } })), 409, 'already-reviewed')
    const second = await review(id, approval(LEVELS.exemplary, { reviewer: { email: 'r2@example.edu' } }))
    t.match(second.json().submission, { status: 'approved', approvals: { required: 2, count: 2 }, credentialId: String })
    const credential = (await app.inject({ method: 'GET', url: `/v1/credentials/${second.json().submission.credentialId}`, headers: lms })).json().credential
    t.equal(credential.credentialSubject.result[0].achievedLevel, LEVELS.exemplary, 'the results of the approval that completed it')
  })

  await t.test('a reviewer never decides their own submission; a revision needs a comment; rejecting ends it', async (t) => {
    const achievement = await reviewed()
    const { id } = (await submit(achievement.id)).json()
    assertProblem(t, await review(id, approval(LEVELS.proficient, { reviewer: { email: 'ADA.LOVELACE@example.edu' } })), 403, 'own-submission')
    assertProblem(t, await review(id, { decision: 'revise' }), 422, 'comment-required')
    const rejected = await review(id, { decision: 'reject', comment: 'Not this skill.' })
    t.equal(rejected.json().submission.status, 'rejected')
    assertProblem(t, await review(id, approval()), 409, 'submission-decided')
    const revision = await app.inject({ method: 'POST', url: `/v1/submissions/${id}/versions`, headers: lms, payload: { evidence: [{ name: 'Again' }] } })
    assertProblem(t, revision, 409, 'submission-not-open')
    t.equal((await eventsOf(id)).at(-1)!.type, 'submission.rejected')
  })

  await t.test('an approved badge counts towards the stacks it belongs to: the award follows', async (t) => {
    const achievement = await reviewed()
    const award = await createAchievement(app, school.id, { name: 'Assessment Leader' })
    const pathway = await createPathway(app, school.id, { name: 'Assessment Leader', awardAchievementId: award.id, requirement: { achievementId: achievement.id } })
    const { id } = (await submit(achievement.id)).json()
    t.equal((await review(id, approval())).statusCode, 201)
    const { progress } = await awaitAward(app, pathway.id, 'email=ada.lovelace@example.edu')
    t.equal(progress.complete, true)
    t.match(progress.award, { credentialId: String })
  })

  await t.test('each decision reaches the issuer\'s webhook, signed as Standard Webhooks says', async (t) => {
    const { app: hooked } = await buildWebhookApp(t, database)
    const receiver = await startReceiver(t)
    await subscribe(hooked, receiver, { events: ['submission.created', 'submission.revision_requested', 'submission.revised', 'submission.approved'] }, lms)
    const achievement = await reviewed()
    const { id } = (await submit(achievement.id)).json()
    await review(id, { decision: 'revise', comment: 'One more.' })
    await app.inject({ method: 'POST', url: `/v1/submissions/${id}/versions`, headers: lms, payload: { evidence: [{ name: 'More' }] } })
    const { submission } = (await review(id, approval())).json()
    const delivered = (await receiver.waitFor(4)).map((r) => r.payload!).filter((p) => p.data.submissionId === id)
    t.same(delivered.map((p) => p.type).sort(), ['submission.approved', 'submission.created', 'submission.revised', 'submission.revision_requested'])
    t.match(delivered.find((p) => p.type === 'submission.approved')!.data, {
      submissionId: id, achievementId: achievement.id, version: 2, credentialId: submission.credentialId, credentialUrl: submission.credentialUrl,
      recipient: { identityType: 'email', identity: 'ada.lovelace@example.edu' }, externalId: 'lms-1815'
    })
  })

  await t.test('an achievement earned through review is not issued directly', async (t) => {
    const achievement = await reviewed()
    const res = await app.inject({ method: 'POST', url: '/v1/credentials', headers: lms, payload: { achievementId: achievement.id, recipient: learner } })
    assertProblem(t, res, 409, 'review-required')
  })

  await t.test('files: private ones open to the issuer, its reviewers and the learner\'s claim link; public ones to anyone', async (t) => {
    const achievement = await reviewed()
    const made = await postMultipart(origin, `/v1/achievements/${achievement.id}/submissions`, { recipient: learner }, [{ name: 'plan.pdf', bytes: pdfBytes() }], lms)
    const submission = made.json()
    const file = submission.files[0]
    const publicPath = new URL(file.url).pathname
    const anonymous = await app.inject({ method: 'GET', url: publicPath })
    assertProblem(t, anonymous, 403, 'evidence-private')
    const viaApi = await app.inject({ method: 'GET', url: `/v1/submissions/${submission.id}/files/${file.id}`, headers: lms })
    t.equal(viaApi.statusCode, 200)
    t.same(viaApi.rawPayload, pdfBytes(), 'the bytes as uploaded')
    t.match(viaApi.headers, { 'content-type': 'application/pdf', 'cache-control': 'private, no-store', 'x-content-type-options': 'nosniff' })
    t.match(String(viaApi.headers['content-security-policy']), /sandbox/)

    const other = await createIssuer(app, { name: 'Elsewhere' })
    const { key: otherKey } = await createApiKey(app, other.id)
    assertProblem(t, await app.inject({ method: 'GET', url: `/v1/submissions/${submission.id}/files/${file.id}`, headers: bearer(otherKey) }), 404, 'not-found')
    assertProblem(t, await app.inject({ method: 'GET', url: `/v1/submissions/${submission.id}`, headers: bearer(otherKey) }), 404, 'not-found')
    assertProblem(t, await review(submission.id, approval(), bearer(otherKey)), 404, 'not-found')
    t.same((await app.inject({ method: 'GET', url: '/v1/submissions', headers: bearer(otherKey) })).json().items, [], 'another issuer lists none')
    assertProblem(t, await app.inject({ method: 'GET', url: `/submissions/${submission.id}/files/${randomUUID()}` }), 404, 'not-found')

    const { submission: approved } = (await review(submission.id, approval())).json()
    const claim = await app.inject({ method: 'POST', url: `/v1/credentials/${approved.credentialId}/claims`, headers: lms, payload: {} })
    t.equal(claim.statusCode, 201, claim.body)
    const token = new URL(claim.json().claimUrl).pathname.split('/')[2]
    const viaClaim = await app.inject({ method: 'GET', url: `/claim/${token}/files/${file.id}` })
    t.equal(viaClaim.statusCode, 200, 'the learner opens it through their claim link')
    t.same(viaClaim.rawPayload, pdfBytes())
    t.equal((await app.inject({ method: 'GET', url: `/claim/${'x'.repeat(43)}/files/${file.id}` })).statusCode, 404)

    const open = await postMultipart(origin, `/v1/achievements/${achievement.id}/submissions`, { recipient: learner, public: true }, [{ name: 'notes.txt', bytes: Buffer.from('Notes: 分数 and café\n') }], lms)
    const publicFile = open.json().files[0]
    t.match(publicFile, { contentType: 'text/plain', public: true })
    const read = await app.inject({ method: 'GET', url: new URL(publicFile.url).pathname })
    t.equal(read.statusCode, 200)
    t.equal(read.headers['content-type'], 'text/plain; charset=utf-8')
    t.equal(read.payload, 'Notes: 分数 and café\n')
    t.match(read.headers['content-disposition'], /filename\*=UTF-8''notes.txt/)
  })

  await t.test('listing filters by achievement and status, a page at a time', async (t) => {
    const achievement = await reviewed()
    const ids = [(await submit(achievement.id)).json().id, (await submit(achievement.id)).json().id, (await submit(achievement.id)).json().id]
    await review(ids[1]!, { decision: 'reject', comment: 'No.' })
    const pending = await app.inject({ method: 'GET', url: `/v1/submissions?achievementId=${achievement.id}&status=pending&limit=1`, headers: lms })
    t.same(pending.json().items.map((s: Json) => s.id), [ids[0]])
    const next = await app.inject({ method: 'GET', url: `/v1/submissions?achievementId=${achievement.id}&status=pending&limit=1&cursor=${pending.json().nextCursor}`, headers: lms })
    t.same(next.json().items.map((s: Json) => s.id), [ids[2]])
    t.equal(next.json().nextCursor, null)
    const one = await app.inject({ method: 'GET', url: `/v1/submissions/${ids[1]}`, headers: admin })
    t.match(one.json(), { status: 'rejected', reviews: [{ decision: 'reject', comment: 'No.' }] })
  })

  await t.test('unknown submissions are 404s; a pending submission takes no new version', async (t) => {
    const achievement = await reviewed()
    const { id } = (await submit(achievement.id)).json()
    assertProblem(t, await app.inject({ method: 'GET', url: `/v1/submissions/${randomUUID()}`, headers: lms }), 404, 'not-found')
    assertProblem(t, await review(randomUUID(), approval()), 404, 'not-found')
    assertProblem(t, await app.inject({ method: 'GET', url: `/submissions/${randomUUID()}/files/${randomUUID()}` }), 404, 'not-found')
    const early = await app.inject({ method: 'POST', url: `/v1/submissions/${id}/versions`, headers: lms, payload: { evidence: [{ name: 'More' }] } })
    assertProblem(t, early, 409, 'submission-not-open')
    t.match(early.json().detail, /waiting for review/)
    const plain = await app.inject({ method: 'POST', url: '/v1/credentials', headers: admin, payload: { achievementId: (await createAchievement(app, school.id)).id, recipient: learner } })
    const claim = await app.inject({ method: 'POST', url: `/v1/credentials/${plain.json().id}/claims`, headers: admin, payload: {} })
    const token = new URL(claim.json().claimUrl).pathname.split('/')[2]
    assertProblem(t, await app.inject({ method: 'GET', url: `/claim/${token}/files/${randomUUID()}` }), 404, 'not-found')
  })

  await t.test('an approval whose credential cannot be issued keeps the reason on the submission; a later issue clears it', async (t) => {
    const achievement = await reviewed()
    const ctx: ServiceContext = { db, keyring: createKeyring(TEST_MASTER_KEY), publicUrl: 'https://badges.example.edu', statusListSize: 131_072, signDataIntegrity: inProcessSigner, idempotencyTtlMs: 86_400_000 }
    const approvedBy = async (id: string) => {
      await db.insertInto('submission_reviews').values({
        id: randomUUID(), submission_id: id, version: 1, decision: 'approve', results: JSON.stringify([{ resultDescription: PLANNING, achievedLevel: LEVELS.proficient }]),
        reviewer_key: 'admin', actor: 'admin'
      }).execute()
      await db.updateTable('submissions').set({ status: 'approved', credential_id: randomUUID() }).where('id', '=', id).execute()
      return { id: randomUUID(), xid: '1', type: 'submission.approved', issuer_id: school.id, data: { submissionId: id }, occurred_at: new Date() }
    }
    // Its Idempotency-Key already used for another request: nothing a retry would change.
    const { id } = (await submit(achievement.id)).json()
    const squatted = await app.inject({
      method: 'POST', url: '/v1/credentials', headers: { ...admin, 'idempotency-key': `lanyard-submission:${id}` },
      payload: { achievementId: (await createAchievement(app, school.id)).id, recipient: learner }
    })
    t.equal(squatted.statusCode, 201)
    await handleEvents(ctx, [await approvedBy(id)])
    t.match((await app.inject({ method: 'GET', url: `/v1/submissions/${id}`, headers: lms })).json(), { status: 'approved', issueError: /Idempotency-Key/ })

    const other = (await submit(achievement.id)).json()
    const event = await approvedBy(other.id)
    // A fault a retry may cure (the signing threads gone) is thrown, for the subscriber to read the event again.
    const faulty: ServiceContext = { ...ctx, signDataIntegrity: async () => { throw new Error('the signing threads are gone') } }
    await t.rejects(handleEvents(faulty, [event]), /signing threads are gone/)
    await db.updateTable('submissions').set({ issue_error: 'an earlier attempt failed' }).where('id', '=', other.id).execute()
    await handleEvents(ctx, [event])
    const issued = (await app.inject({ method: 'GET', url: `/v1/submissions/${other.id}`, headers: lms })).json()
    t.equal(issued.issueError, undefined, 'cleared once issued')
    t.equal((await app.inject({ method: 'GET', url: `/v1/credentials/${issued.credentialId}`, headers: lms })).statusCode, 200)
    await handleEvents(ctx, [{ ...event, data: { submissionId: randomUUID() } }])
  })

  await t.test('an approval whose request died before issuing is issued by the subscriber, with the id it chose, once', async (t) => {
    const achievement = await reviewed()
    const { id } = (await submit(achievement.id)).json()
    // What the approving transaction commits, without the request living on to issue the credential.
    const credentialId = randomUUID()
    await db.insertInto('submission_reviews').values({
      id: randomUUID(), submission_id: id, version: 1, decision: 'approve', results: JSON.stringify([{ resultDescription: PLANNING, achievedLevel: LEVELS.proficient }]),
      reviewer_key: 'admin', actor: 'admin'
    }).execute()
    await db.updateTable('submissions').set({ status: 'approved', credential_id: credentialId }).where('id', '=', id).execute()
    const event = { id: randomUUID(), xid: '1', type: 'submission.approved', issuer_id: school.id, data: { submissionId: id }, occurred_at: new Date() }
    const ctx: ServiceContext = { db, keyring: createKeyring(TEST_MASTER_KEY), publicUrl: 'https://badges.example.edu', statusListSize: 131_072, signDataIntegrity: inProcessSigner, idempotencyTtlMs: 86_400_000 }
    await handleEvents(ctx, [event, { ...event, type: 'credential.issued' }])
    await handleEvents(ctx, [event])
    const rows = await db.selectFrom('credentials').select('id').where('achievement_id', '=', achievement.id).execute()
    t.same(rows.map((r) => r.id), [credentialId], 'issued once, with the chosen id')
    t.equal((await app.inject({ method: 'GET', url: `/v1/submissions/${id}`, headers: lms })).json().credentialId, credentialId)
  })
})
