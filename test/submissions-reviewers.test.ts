// Reviewers through HTTP: invited by a real email (SMTP on loopback), signed in by a single-use link that only a POST uses,
// kept in by a session cookie with its CSRF token; the queue, the decision form and its errors; mail off; tenancy.
import { createHash, randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { admin, assertProblem, bearer, buildTestApp, createApiKey, createIssuer, onEachDatabase } from './helpers/app.js'
import { createAchievement } from './helpers/credentials.js'
import { startSmtpServer } from './helpers/smtp.js'

type Json = Record<string, any>
const PUBLIC_URL = 'https://badges.example.edu'
const LEVEL = { good: `urn:uuid:${randomUUID()}`, weak: `urn:uuid:${randomUUID()}` }
const RUBRIC = `urn:uuid:${randomUUID()}`

/** The sign-in token in an email's link. */
const tokenIn = (text: string) => new RegExp(`${PUBLIC_URL}/review/sign-in/([A-Za-z0-9_-]+)`).exec(text)![1]!

/** The session cookie a response sets, as a Cookie header. */
function sessionCookie(res: { headers: Record<string, unknown> }): string {
  const setCookie = String(res.headers['set-cookie'])
  return /^(lanyard_review=[^;]+)/.exec(setCookie)![1]!
}

const csrfIn = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)![1]!

function form(fields: Record<string, string>): { payload: string; headers: Record<string, string> } {
  return { payload: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } }
}

await onEachDatabase(t, async (t, database) => {
  const smtp = await startSmtpServer(t)
  const { app, db } = await buildTestApp(t, database, { env: { LANYARD_SMTP_URL: smtp.url } })
  const school = await createIssuer(app, { name: 'Northwind Teachers College' })
  const { key } = await createApiKey(app, school.id)
  const achievement = await createAchievement(app, school.id, { name: 'Formative Assessment', criteria: { narrative: 'Teach with exit tickets.' } })
  const patched = await app.inject({
    method: 'PATCH', url: `/v1/achievements/${achievement.id}`, headers: admin,
    payload: {
      review: { required: true },
      resultDescription: [{ id: RUBRIC, name: 'Planning', resultType: 'RubricCriterionLevel', requiredLevel: LEVEL.good,
        rubricCriterionLevel: [{ id: LEVEL.good, name: 'Good', points: 2 }, { id: LEVEL.weak, name: 'Weak', points: 1 }] }]
    }
  })
  t.equal(patched.statusCode, 200, patched.body)
  const submit = async (email = 'ada@example.edu') => (await app.inject({
    method: 'POST', url: `/v1/achievements/${achievement.id}/submissions`, headers: bearer(key),
    payload: { recipient: { email, name: 'Ada' }, evidence: [{ name: 'Plan', narrative: 'Paper strips.' }] }
  })).json()

  /** Invites `email` and signs them in: their session cookie. */
  async function signedIn(t: Test, email: string): Promise<string> {
    const invited = await app.inject({ method: 'POST', url: `/v1/achievements/${achievement.id}/reviewers`, headers: bearer(key), payload: { email, name: 'Rosa Parks' } })
    t.equal(invited.statusCode, 201, invited.body)
    const mail = await smtp.next()
    const token = tokenIn(mail.text!)
    const signIn = await app.inject({ method: 'POST', url: `/review/sign-in/${token}` })
    t.equal(signIn.statusCode, 303)
    t.equal(signIn.headers.location, '/review')
    return sessionCookie(signIn)
  }

  await t.test('an invitation arrives by email; its link is used only by the POST of its confirm page, once', async (t) => {
    const invited = await app.inject({ method: 'POST', url: `/v1/achievements/${achievement.id}/reviewers`, headers: bearer(key), payload: { email: 'Rosa@Example.edu', name: 'Rosa Parks' } })
    t.equal(invited.statusCode, 201, invited.body)
    t.match(invited.json(), { email: 'rosa@example.edu', name: 'Rosa Parks', achievementId: achievement.id, invitationSent: true })
    const mail = await smtp.next()
    t.match(mail.subject, /Formative Assessment/)
    t.equal((mail.to as Json).value[0].address, 'rosa@example.edu')
    const token = tokenIn(mail.text!)
    t.match(mail.html, token, 'the link is in the HTML part too')

    const confirm = await app.inject({ method: 'GET', url: `/review/sign-in/${token}` })
    t.equal(confirm.statusCode, 200)
    t.match(confirm.payload, `action="${PUBLIC_URL}/review/sign-in/${token}"`)
    t.equal((await app.inject({ method: 'GET', url: `/review/sign-in/${token}` })).statusCode, 200, 'opening it again (a mail scanner) does not use it')
    const signIn = await app.inject({ method: 'POST', url: `/review/sign-in/${token}` })
    t.equal(signIn.statusCode, 303)
    const setCookie = String(signIn.headers['set-cookie'])
    t.match(setCookie, /HttpOnly/)
    t.match(setCookie, /SameSite=Lax/)
    t.match(setCookie, /Secure/, 'Secure, PUBLIC_URL being https')
    const used = await app.inject({ method: 'POST', url: `/review/sign-in/${token}` })
    t.equal(used.statusCode, 410, 'a used link opens nothing')
    t.equal((await app.inject({ method: 'GET', url: `/review/sign-in/${token}` })).statusCode, 410)
    t.equal((await app.inject({ method: 'GET', url: `/review/sign-in/${'x'.repeat(43)}` })).statusCode, 404)
    t.equal((await app.inject({ method: 'POST', url: `/review/sign-in/${'x'.repeat(43)}` })).statusCode, 404)

    const queue = await app.inject({ method: 'GET', url: '/review', headers: { cookie: sessionCookie(signIn) } })
    t.equal(queue.statusCode, 200)
    t.equal(queue.headers['cache-control'], 'no-store')
    const listed = await app.inject({ method: 'GET', url: `/v1/achievements/${achievement.id}/reviewers`, headers: bearer(key) })
    t.match(listed.json().items, [{ email: 'rosa@example.edu' }])
  })

  await t.test('signed out, the pages send you to sign in; "email me a link" answers the same for anyone', async (t) => {
    t.equal((await app.inject({ method: 'GET', url: '/review' })).headers.location, '/review/sign-in')
    t.equal((await app.inject({ method: 'GET', url: '/review', headers: { cookie: 'lanyard_review=forged' } })).headers.location, '/review/sign-in')
    t.equal((await app.inject({ method: 'GET', url: `/review/submissions/${randomUUID()}` })).headers.location, '/review/sign-in')
    const page = await app.inject({ method: 'GET', url: '/review/sign-in' })
    t.equal(page.statusCode, 200)
    t.match(page.payload, 'name="email"')

    await signedIn(t, 'kept@example.edu')
    const asked = await app.inject({ method: 'POST', url: '/review/sign-in', ...form({ email: 'KEPT@example.edu' }) })
    t.equal(asked.statusCode, 200)
    const mail = await smtp.next()
    t.equal((mail.to as Json).value[0].address, 'kept@example.edu')
    const stranger = await app.inject({ method: 'POST', url: '/review/sign-in', ...form({ email: 'nobody@example.edu' }) })
    t.equal(stranger.payload, asked.payload, 'the same page for someone who reviews nothing')
    t.equal(smtp.messages.filter((m) => (m.to as Json).value[0].address === 'nobody@example.edu').length, 0, 'and no email to them')
    t.equal((await app.inject({ method: 'POST', url: '/review/sign-in', ...form({ email: 'not an address' }) })).statusCode, 400)
    const requested = await app.inject({ method: 'POST', url: `/review/sign-in/${tokenIn(mail.text!)}` })
    t.equal(requested.statusCode, 303, 'the requested link signs in')
  })

  await t.test('the queue lists pending submissions of the reviewer\'s achievements, never their own; the form decides', async (t) => {
    const cookie = await signedIn(t, 'judge@example.edu')
    const theirs = await submit('ada@example.edu')
    const own = await submit('judge@example.edu')
    const queue = await app.inject({ method: 'GET', url: '/review', headers: { cookie } })
    t.match(queue.payload, `/review/submissions/${theirs.id}`)
    t.notMatch(queue.payload, `/review/submissions/${own.id}`, 'not their own')
    const ownPage = await app.inject({ method: 'GET', url: `/review/submissions/${own.id}`, headers: { cookie } })
    t.match(ownPage.payload, 'your own submission')

    const page = await app.inject({ method: 'GET', url: `/review/submissions/${theirs.id}`, headers: { cookie } })
    t.equal(page.statusCode, 200)
    const csrf = csrfIn(page.payload)
    const post = (fields: Record<string, string>, cookieHeader = cookie) => {
      const body = form(fields)
      return app.inject({ method: 'POST', url: `/review/submissions/${theirs.id}`, payload: body.payload, headers: { ...body.headers, cookie: cookieHeader } })
    }
    assertProblem(t, await post({ decision: 'approve', 'level-0': LEVEL.good }), 403, 'csrf-failed')
    assertProblem(t, await post({ csrf: 'forged', decision: 'approve', 'level-0': LEVEL.good }), 403, 'csrf-failed')
    const none = await post({ csrf })
    t.equal(none.statusCode, 422)
    t.match(none.payload, 'Choose a decision')
    const weak = await post({ csrf, decision: 'approve', 'level-0': LEVEL.weak })
    t.equal(weak.statusCode, 422, 'below the required level')
    t.match(weak.payload, 'href="#level-0"', 'the error points at the rubric')
    const noComment = await post({ csrf, decision: 'revise', comment: '  ' })
    t.equal(noComment.statusCode, 422)
    t.match(noComment.payload, 'href="#comment"')
    const unknown = await post({ csrf, decision: 'approve', 'level-0': 'urn:uuid:not-a-level' })
    t.equal(unknown.statusCode, 422)

    const approved = await post({ csrf, decision: 'approve', 'level-0': LEVEL.good, comment: 'Well done.' })
    t.equal(approved.statusCode, 303)
    t.equal(approved.headers.location, '/review?done=approved')
    const after = await app.inject({ method: 'GET', url: approved.headers.location, headers: { cookie } })
    t.match(after.payload, 'the badge was issued')
    t.notMatch(after.payload, `/review/submissions/${theirs.id}`)
    const decided = await app.inject({ method: 'GET', url: `/v1/submissions/${theirs.id}`, headers: bearer(key) })
    t.match(decided.json(), { status: 'approved', credentialId: String, reviews: [{ reviewer: { email: 'judge@example.edu', name: 'Rosa Parks' }, actor: /^reviewer:/ }] })
    const again = await post({ csrf, decision: 'approve', 'level-0': LEVEL.good })
    t.equal(again.statusCode, 409, 'decided meanwhile: the page says so')
    t.match(again.payload, 'This submission was approved')

    const rejectable = await submit('grace@example.edu')
    const rejected = await app.inject({ method: 'POST', url: `/review/submissions/${rejectable.id}`, ...withCookie(form({ csrf, decision: 'reject', comment: 'Wrong skill.' }), cookie) })
    t.equal(rejected.headers.location, '/review?done=reject')
    t.match((await app.inject({ method: 'GET', url: '/review?done=reject', headers: { cookie } })).payload, 'rejected')
  })

  await t.test('the page says why a submission cannot be decided, and names learners and reviewers as it may show them', async (t) => {
    const two = await createAchievement(app, school.id, { name: 'Peer-reviewed' })
    t.equal((await app.inject({ method: 'PATCH', url: `/v1/achievements/${two.id}`, headers: admin, payload: { review: { required: true, approvals: 2 } } })).statusCode, 200)
    const cookie = await signedIn(t, 'pair@example.edu')
    t.equal((await app.inject({ method: 'POST', url: `/v1/achievements/${two.id}/reviewers`, headers: bearer(key), payload: { email: 'pair@example.edu' } })).statusCode, 201)
    await smtp.next()
    const made = await app.inject({ method: 'POST', url: `/v1/achievements/${two.id}/submissions`, headers: bearer(key), payload: { recipient: { did: 'did:example:learner-7' }, evidence: [{ name: 'Video' }] } })
    const { id } = made.json()
    const page = await app.inject({ method: 'GET', url: `/review/submissions/${id}`, headers: { cookie } })
    t.match(page.payload, 'A learner', 'a learner known by a DID only')
    const csrf = csrfIn(page.payload)
    const approve = await app.inject({ method: 'POST', url: `/review/submissions/${id}`, ...withCookie({ payload: `csrf=${csrf}&decision=approve&decision=reject`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, cookie) })
    t.equal(approve.headers.location, '/review?done=approve', 'one approval of two (a field sent twice counts once)')
    t.match((await app.inject({ method: 'GET', url: '/review?done=approve', headers: { cookie } })).payload, 'Your approval was recorded')
    t.match((await app.inject({ method: 'GET', url: `/review/submissions/${id}`, headers: { cookie } })).payload, 'You already decided this version')
    const second = await app.inject({ method: 'POST', url: `/v1/submissions/${id}/reviews`, headers: bearer(key), payload: { decision: 'approve', reviewer: { email: 'other@example.edu' } } })
    t.equal(second.json().submission.status, 'approved')
    const decided = await app.inject({ method: 'GET', url: `/review/submissions/${id}`, headers: { cookie } })
    t.match(decided.payload, 'Rosa Parks')
    t.match(decided.payload, 'other@example.edu', 'a reviewer the LMS named by email')

    const sent = (await app.inject({ method: 'POST', url: `/v1/achievements/${achievement.id}/submissions`, headers: bearer(key),
      payload: { recipient: { email: 'nameless@example.edu' }, evidence: [{ name: 'X' }] } })).json()
    const back = await app.inject({ method: 'POST', url: `/v1/submissions/${sent.id}/reviews`, headers: bearer(key), payload: { decision: 'revise', comment: 'More, please.' } })
    t.equal(back.json().submission.status, 'revision_requested')
    const revising = await app.inject({ method: 'GET', url: `/review/submissions/${sent.id}`, headers: { cookie } })
    t.match(revising.payload, 'sent back for a revision')
    t.match(revising.payload, 'the issuer', 'a decision of the LMS naming no one')
    t.match(revising.payload, 'nameless@example.edu', 'a learner without a name, by their email')
  })

  await t.test('an expired sign-in link opens nothing and says so', async (t) => {
    t.equal((await app.inject({ method: 'POST', url: `/v1/achievements/${achievement.id}/reviewers`, headers: bearer(key), payload: { email: 'late@example.edu' } })).statusCode, 201)
    const token = tokenIn((await smtp.next()).text!)
    await db.updateTable('reviewer_sign_ins').set({ expires_at: new Date(Date.now() - 1000) }).where('token_hash', '=', createHash('sha256').update(token).digest('hex')).execute()
    const page = await app.inject({ method: 'GET', url: `/review/sign-in/${token}` })
    t.equal(page.statusCode, 410)
    t.match(page.payload, /expired/i)
    t.equal((await app.inject({ method: 'POST', url: `/review/sign-in/${token}` })).statusCode, 410)
  })

  await t.test('a reviewer sees only the submissions of achievements they were invited to; signing out ends the session', async (t) => {
    const cookie = await signedIn(t, 'scoped@example.edu')
    const other = await createIssuer(app, { name: 'Elsewhere' })
    const elsewhere = await createAchievement(app, other.id, { name: 'Elsewhere badge' })
    const foreign = (await app.inject({ method: 'POST', url: `/v1/achievements/${elsewhere.id}/submissions`, headers: admin,
      payload: { recipient: { email: 'x@example.edu' }, evidence: [{ name: 'X' }] } })).json()
    assertProblem(t, await app.inject({ method: 'GET', url: `/review/submissions/${foreign.id}`, headers: { cookie } }), 404, 'not-found')

    const page = await app.inject({ method: 'GET', url: '/review', headers: { cookie } })
    const csrf = csrfIn(page.payload)
    assertProblem(t, await app.inject({ method: 'POST', url: '/review/sign-out', ...withCookie(form({ csrf: 'forged' }), cookie) }), 403, 'csrf-failed')
    const out = await app.inject({ method: 'POST', url: '/review/sign-out', ...withCookie(form({ csrf }), cookie) })
    t.equal(out.statusCode, 303)
    t.match(String(out.headers['set-cookie']), /lanyard_review=;/)
    t.equal((await app.inject({ method: 'GET', url: '/review', headers: { cookie } })).headers.location, '/review/sign-in', 'the old cookie opens nothing')
    t.equal((await app.inject({ method: 'POST', url: '/review/sign-out', ...form({}) })).statusCode, 303, 'signing out signed out is harmless')
    t.equal((await app.inject({ method: 'POST', url: `/review/submissions/${foreign.id}`, ...form({}) })).headers.location, '/review/sign-in')
  })

  await t.test('reviewers of another issuer\'s achievement are not yours to invite, list or remove; removing takes them off', async (t) => {
    const other = await createIssuer(app, { name: 'Elsewhere' })
    const { key: otherKey } = await createApiKey(app, other.id)
    assertProblem(t, await app.inject({ method: 'POST', url: `/v1/achievements/${achievement.id}/reviewers`, headers: bearer(otherKey), payload: { email: 'a@example.edu' } }), 404, 'not-found')
    assertProblem(t, await app.inject({ method: 'GET', url: `/v1/achievements/${achievement.id}/reviewers`, headers: bearer(otherKey) }), 404, 'not-found')
    const cookie = await signedIn(t, 'leaving@example.edu')
    const { items } = (await app.inject({ method: 'GET', url: `/v1/achievements/${achievement.id}/reviewers`, headers: bearer(key) })).json()
    const leaving = items.find((r: Json) => r.email === 'leaving@example.edu')
    const removed = await app.inject({ method: 'DELETE', url: `/v1/achievements/${achievement.id}/reviewers/${leaving.id}`, headers: bearer(key) })
    t.equal(removed.statusCode, 204)
    assertProblem(t, await app.inject({ method: 'DELETE', url: `/v1/achievements/${achievement.id}/reviewers/${leaving.id}`, headers: bearer(key) }), 404, 'not-found')
    const pending = await submit('someone@example.edu')
    assertProblem(t, await app.inject({ method: 'GET', url: `/review/submissions/${pending.id}`, headers: { cookie } }), 404, 'not-found')
    t.notMatch((await app.inject({ method: 'GET', url: '/review', headers: { cookie } })).payload, pending.id)
  })
})

function withCookie(request: { payload: string; headers: Record<string, string> }, cookie: string) {
  return { payload: request.payload, headers: { ...request.headers, cookie } }
}

await onEachDatabase(t, async (t, database) => {
  await t.test('with mail off, a reviewer is added but not invited, and the sign-in page says email is off', async (t) => {
    const { app } = await buildTestApp(t, database)
    await mailOff(t, app)
  })
  await t.test('a mail server that refuses answers 502 naming no secret; the reviewer is added, and inviting again resends', async (t) => {
    const smtp = await startSmtpServer(t, { user: 'lanyard', pass: 'right' })
    const { app } = await buildTestApp(t, database, { env: { LANYARD_SMTP_URL: smtp.url.replace(':right@', ':wrong@') } })
    const school = await createIssuer(app)
    const achievement = await createAchievement(app, school.id)
    const res = await app.inject({ method: 'POST', url: `/v1/achievements/${achievement.id}/reviewers`, headers: admin, payload: { email: 'rosa@example.edu' } })
    assertProblem(t, res, 502, 'mail-failed')
    t.notMatch(res.body, /wrong|sign-in\//)
    const listed = await app.inject({ method: 'GET', url: `/v1/achievements/${achievement.id}/reviewers`, headers: admin })
    t.equal(listed.json().items.length, 1)
    const asked = await app.inject({ method: 'POST', url: '/review/sign-in', ...form({ email: 'rosa@example.edu' }) })
    t.equal(asked.statusCode, 200, 'the page answers the same when mail fails (the log says why)')
  })
})

async function mailOff(t: Test, app: FastifyInstance): Promise<void> {
  const school = await createIssuer(app)
  const achievement = await createAchievement(app, school.id)
  const res = await app.inject({ method: 'POST', url: `/v1/achievements/${achievement.id}/reviewers`, headers: admin, payload: { email: 'rosa@example.edu' } })
  t.equal(res.statusCode, 201)
  t.match(res.json(), { invitationSent: false, warning: /LANYARD_SMTP_URL/ })
  const page = await app.inject({ method: 'GET', url: '/review/sign-in' })
  t.match(page.payload, 'Sign-in by email is off')
  const asked = await app.inject({ method: 'POST', url: '/review/sign-in', ...form({ email: 'rosa@example.edu' }) })
  t.equal(asked.statusCode, 503)
}
