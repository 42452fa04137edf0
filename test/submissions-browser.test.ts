// Evidence and review end to end, in Debian's Chromium (driven by playwright-core) against a Lanyard on a loopback port that
// mails through a real SMTP server (smtp-server on loopback): a learner's submission with a PDF and a PNG; the reviewer's
// invitation arrives; the reviewer follows its link, signs in, reads the evidence and files, forgets the decision (the
// error summary takes them to it), approves with rubric levels, and signs out, with the keyboard alone. Every page passes
// axe-core with no serious or critical violation; the badge issued carries the levels and the files, and verifies.
import { randomUUID } from 'node:crypto'
import type { ParsedMail } from 'mailparser'
import { chromium, type Page, type Response } from 'playwright-core'
import t, { type Test } from 'tap'
import { admin, bearer, buildTestApp, createApiKey, createIssuer, openTestDatabase } from './helpers/app.js'
import { assertAccessible } from './helpers/axe.js'
import { withoutChromium } from './helpers/browser.js'
import { createAchievement } from './helpers/credentials.js'
import { freePort } from './helpers/net.js'
import { startSmtpServer } from './helpers/smtp.js'
import { pdfBytes, pngBytes, postMultipart } from './helpers/submissions.js'

type Json = Record<string, any>

const PLANNING = { id: `urn:uuid:${randomUUID()}`, exemplary: `urn:uuid:${randomUUID()}`, proficient: `urn:uuid:${randomUUID()}`, developing: `urn:uuid:${randomUUID()}` }
const FEEDBACK = { id: `urn:uuid:${randomUUID()}`, strong: `urn:uuid:${randomUUID()}`, adequate: `urn:uuid:${randomUUID()}`, weak: `urn:uuid:${randomUUID()}` }
const RUBRICS = [
  {
    id: PLANNING.id, name: 'Lesson planning', resultType: 'RubricCriterionLevel', requiredLevel: PLANNING.proficient,
    rubricCriterionLevel: [
      { id: PLANNING.exemplary, name: 'Exemplary', description: 'Plans for every learner', points: 3 },
      { id: PLANNING.proficient, name: 'Proficient', points: 2 },
      { id: PLANNING.developing, name: 'Developing', points: 1 }
    ]
  },
  {
    id: FEEDBACK.id, name: 'Feedback to students', resultType: 'RubricCriterionLevel',
    rubricCriterionLevel: [
      { id: FEEDBACK.strong, name: 'Strong', points: 3 },
      { id: FEEDBACK.adequate, name: 'Adequate', points: 2 },
      { id: FEEDBACK.weak, name: 'Weak', points: 1 }
    ]
  }
]
const LEARNER = { email: 'ada.lovelace@example.edu', name: 'Ada Lovelace' }
const REVIEWER = { email: 'grace.hopper@example.edu', name: 'Grace Hopper' }
const COMMENT = 'Clear plan; the exit tickets show every student was heard.'

/** Presses Tab until the focused element matches, as a keyboard user would; fails after too many presses. */
async function tabTo(t: Test, page: Page, selector: string): Promise<void> {
  for (let presses = 0; presses < 40; presses++) {
    await page.keyboard.press('Tab')
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return
  }
  t.fail(`Tab never reached ${selector}`)
}

/** Presses a key that sends a form; resolves with the POST's answer once the page it leads to has loaded. */
async function submitWith(page: Page, key: string): Promise<Response> {
  const answered = page.waitForResponse((response) => response.request().method() === 'POST')
  const loaded = page.waitForEvent('load')
  await page.keyboard.press(key)
  const response = await answered
  await loaded
  return response
}

const focused = (page: Page) => page.evaluate(() => document.activeElement?.id ?? '')
const focusOutline = (page: Page) => page.evaluate(() => {
  const style = getComputedStyle(document.activeElement!)
  return `${style.outlineStyle} ${style.outlineWidth}`
})

/** The one sign-in link of an invitation, in both its parts. */
function signInLinkOf(t: Test, mail: ParsedMail, origin: string): string {
  const pattern = new RegExp(`${origin.replaceAll('.', '\\.')}/review/sign-in/[A-Za-z0-9_-]{20,}`, 'g')
  const inText = [...new Set(mail.text?.match(pattern) ?? [])]
  const inHtml = [...new Set((mail.html || '').match(pattern) ?? [])]
  t.equal(inText.length, 1, 'the text part has the sign-in link')
  t.same(inHtml, inText, 'the HTML part links to the same one')
  return inText[0]!
}

t.test('a reviewer invited by email approves a submission in Chromium, by keyboard alone', { skip: withoutChromium }, async (t) => {
  const smtp = await startSmtpServer(t)
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const { app } = await buildTestApp(t, await openTestDatabase(t, 'pglite'), {
    env: { PUBLIC_URL: origin, PUBLIC_RATE_LIMIT: '100000', LANYARD_SMTP_URL: smtp.url, LANYARD_MAIL_FROM: 'Riverside Badges <badges@riverside.example.edu>' }
  })
  await app.listen({ host: '127.0.0.1', port })
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
  t.teardown(() => browser.close())

  // The issuer's LMS: an achievement judged against a rubric of two criteria, earned only through review.
  const school = await createIssuer(app, { name: 'Riverside College' })
  const lms = bearer((await createApiKey(app, school.id)).key)
  const made = await createAchievement(app, school.id, { name: 'Formative Assessment', criteria: { narrative: 'Plan and teach a lesson with exit tickets.' } })
  const patched = await app.inject({ method: 'PATCH', url: `/v1/achievements/${made.id}`, headers: admin, payload: { resultDescription: RUBRICS, review: { required: true } } })
  t.equal(patched.statusCode, 200, patched.body)
  const achievement = patched.json()

  const sent = await postMultipart(origin, `/v1/achievements/${achievement.id}/submissions`, {
    recipient: LEARNER,
    evidence: [{ name: 'Lesson plan', narrative: 'Fractions with paper strips, and exit tickets.', url: 'https://video.example.edu/lessons/42', genre: 'Lesson plan' }]
  }, [{ name: 'lesson-plan.pdf', bytes: pdfBytes(), type: 'application/pdf' }, { name: 'exit-tickets.png', bytes: pngBytes(), type: 'image/png' }], lms)
  t.equal(sent.status, 201, sent.body)
  const submission = sent.json()
  t.same(submission.files.map((file: Json) => file.contentType), ['application/pdf', 'image/png'])

  // The invitation, as the SMTP server received it.
  const invited = await app.inject({ method: 'POST', url: `/v1/achievements/${achievement.id}/reviewers`, headers: lms, payload: REVIEWER })
  t.equal(invited.statusCode, 201, invited.body)
  t.match(invited.json(), { email: REVIEWER.email, name: REVIEWER.name, achievementId: achievement.id, invitationSent: true })
  const mail = await smtp.next(30_000)
  t.same(mail.to && !Array.isArray(mail.to) && mail.to.value, [{ address: REVIEWER.email, name: '' }], 'sent to the reviewer')
  t.match(mail.subject, /Formative Assessment/, 'the subject names the achievement')
  t.match(mail.text, 'Hello Grace Hopper,')
  const link = signInLinkOf(t, mail, origin)

  const context = await browser.newContext()
  const page = await context.newPage()
  page.on('dialog', async (dialog) => {
    t.fail(`a script ran: ${dialog.message()}`)
    await dialog.dismiss()
  })
  const refused: string[] = []
  page.on('console', (message) => { if (/Content Security Policy|Refused/i.test(message.text())) refused.push(message.text()) })
  const reviewUrl = `${origin}/review/submissions/${submission.id}`

  await t.test('the link opens a page that asks to confirm; its button, pressed by keyboard, signs in', async (t) => {
    const opened = await page.goto(link)
    t.equal(opened?.status(), 200)
    t.equal(await page.locator('h1').innerText(), 'Sign in to review')
    await assertAccessible(t, page, 'the sign-in confirm page')
    await tabTo(t, page, 'main button[type="submit"]')
    t.equal(await focusOutline(page), 'solid 3px', 'the focused button shows it')
    const answer = await submitWith(page, 'Enter')
    t.equal(answer.status(), 303, 'the POST uses the link and redirects')
    t.equal(page.url(), `${origin}/review`)
    const cookie = (await context.cookies()).find((c) => c.name === 'lanyard_review')
    t.match(cookie, { httpOnly: true, sameSite: 'Lax', secure: false, path: '/' }, 'the session cookie')
  })

  await t.test('the queue lists the submission; following it shows the evidence, the files and the rubric', async (t) => {
    t.equal(await page.locator('h1').innerText(), 'Submissions to review')
    t.match(await page.locator('main').innerText(), `Signed in as ${REVIEWER.name} (${REVIEWER.email}).`)
    const item = page.locator('ul.queue li')
    t.equal(await item.count(), 1, 'one submission waits')
    t.match(await item.innerText(), /Formative Assessment from Ada Lovelace\s+Issued by Riverside College · version 1 · submitted .+ · 0 of 1 approvals/)
    await assertAccessible(t, page, 'the queue')

    await tabTo(t, page, `a[href="${reviewUrl}"]`)
    t.equal(await focusOutline(page), 'solid 3px', 'the focused link shows it')
    await page.keyboard.press('Enter')
    await page.waitForURL(reviewUrl)
    t.equal(await page.locator('h1').innerText(), 'Evidence for Formative Assessment')
    const main = await page.locator('main').innerText()
    t.match(main, 'Plan and teach a lesson with exit tickets.', 'what the badge asks')
    t.match(main, /Learner\s+Ada Lovelace/)
    t.match(main, 'Fractions with paper strips, and exit tickets.', 'the evidence')
    t.equal(await page.getByRole('link', { name: 'https://video.example.edu/lessons/42' }).getAttribute('href'), 'https://video.example.edu/lessons/42')
    t.same(await page.getByRole('group').evaluateAll((groups) => groups.map((g) => g.querySelector('legend')!.textContent!.replace(/\s+/g, ' ').trim())),
      ['Lesson planning Required level: Proficient', 'Feedback to students', 'Decision'], 'a radio group per criterion, then the decision')
    t.same(await page.getByRole('group', { name: /^Lesson planning/ }).getByRole('radio').evaluateAll((radios) => radios.map((r) => (r as HTMLInputElement).value)),
      [PLANNING.exemplary, PLANNING.proficient, PLANNING.developing])
    t.match(await page.getByRole('group', { name: /^Lesson planning/ }).innerText(), /Exemplary\s+Plans for every learner · 3 points/)
    await assertAccessible(t, page, 'the submission page')

    const files = page.locator('main ul.actions a')
    t.same(await files.allInnerTexts(), ['lesson-plan.pdf', 'exit-tickets.png'])
    t.same(await files.evaluateAll((links) => links.map((a) => (a as HTMLAnchorElement).href)), submission.files.map((file: Json) => file.url), 'links to the files\' URLs')
    const pdf = await page.request.get(submission.files[0].url)
    t.equal(pdf.status(), 200, 'the signed-in reviewer opens the private PDF')
    t.equal(pdf.headers()['content-type'], 'application/pdf')
    t.same(await pdf.body(), pdfBytes(), 'the bytes as uploaded')
    const png = await page.request.get(submission.files[1].url)
    t.equal(png.headers()['content-type'], 'image/png')
    t.same(await png.body(), pngBytes())
    t.equal((await fetch(submission.files[0].url)).status, 403, 'without the session, the file stays private')
  })

  // A second tab on the same form, left open while the first approves: its approval comes too late.
  const stale = await context.newPage()
  await stale.goto(reviewUrl)

  await t.test('sent without a decision, the form comes back with an error summary that leads to the field', async (t) => {
    await tabTo(t, page, '#level-0')
    t.equal(await focusOutline(page), 'solid 3px', 'the focused radio shows it')
    await page.keyboard.press('Space') // Exemplary
    await page.keyboard.press('Tab')
    t.equal(await focused(page), 'level-1', 'Tab moves to the next criterion')
    await page.keyboard.press('ArrowDown') // Adequate: arrows choose within a group
    await tabTo(t, page, '#comment')
    await page.keyboard.type(COMMENT)
    await tabTo(t, page, 'form button[type="submit"]')
    const answer = await submitWith(page, 'Enter')
    t.equal(answer.status(), 422)
    const summary = page.getByRole('alert')
    t.equal(await summary.locator('h2').innerText(), 'There is a problem')
    t.same(await summary.locator('a').allInnerTexts(), ['Choose a decision: approve, ask for a revision, or reject.'])
    t.equal(await page.getByRole('group', { name: 'Decision' }).getAttribute('aria-describedby'), 'decision-error')
    t.equal(await page.getByRole('radio', { name: 'Exemplary' }).isChecked(), true, 'the levels chosen are kept')
    t.equal(await page.getByRole('radio', { name: 'Adequate' }).isChecked(), true)
    t.equal(await page.getByLabel('Comment').inputValue(), COMMENT, 'and the comment')
    await assertAccessible(t, page, 'the submission page with an error')

    await tabTo(t, page, 'a[href="#decision"]')
    await page.keyboard.press('Enter')
    t.equal(await focused(page), 'decision', 'the summary\'s link moves focus to the decision')
  })

  await t.test('approving by keyboard returns to the queue, which says so and no longer lists it', async (t) => {
    t.equal(await page.getByRole('radio', { name: 'Approve and issue the badge' }).isChecked(), false)
    await page.keyboard.press('Space')
    t.equal(await page.getByRole('radio', { name: 'Approve and issue the badge' }).isChecked(), true, 'Space chooses approve')
    await tabTo(t, page, 'form button[type="submit"]')
    const answer = await submitWith(page, 'Enter')
    t.equal(answer.status(), 303)
    t.equal(page.url(), `${origin}/review?done=approved`)
    t.equal(await page.getByRole('status').innerText(), 'Approved: the badge was issued to the learner.')
    t.equal(await page.locator('ul.queue li').count(), 0, 'the submission is no longer listed')
    t.match(await page.locator('main').innerText(), 'Nothing is waiting for review.')
    await assertAccessible(t, page, 'the queue after approving')
  })

  await t.test('the badge issued carries the levels chosen and the files, and verifies', async (t) => {
    const decided = (await app.inject({ method: 'GET', url: `/v1/submissions/${submission.id}`, headers: lms })).json()
    t.match(decided, { status: 'approved', credentialId: String, approvals: { count: 1, required: 1 } })
    t.match(decided.reviews, [{ decision: 'approve', comment: COMMENT }])
    const res = await app.inject({ method: 'GET', url: `/v1/credentials/${decided.credentialId}`, headers: lms })
    t.equal(res.statusCode, 200, res.body)
    const { credential } = res.json()
    t.same(credential.credentialSubject.result.map((r: Json) => [r.resultDescription, r.achievedLevel]),
      [[PLANNING.id, PLANNING.exemplary], [FEEDBACK.id, FEEDBACK.adequate]], 'the results name the levels chosen in the page')
    const evidenceIds = credential.evidence.map((e: Json) => e.id)
    for (const file of submission.files) t.ok(evidenceIds.includes(file.url), `the evidence lists ${file.name} by its URL`)
    t.same(credential.evidence.map((e: Json) => e.name), ['Lesson plan', 'lesson-plan.pdf', 'exit-tickets.png'])
    const verified = await app.inject({ method: 'POST', url: '/verify', payload: { credential } })
    t.equal(verified.statusCode, 200, verified.body)
    t.equal(verified.json().verified, true, 'POST /verify: verified')
  })

  await t.test('a second approval, from a tab left open, finds the submission decided', async (t) => {
    await tabTo(t, stale, '#decision')
    await stale.keyboard.press('Space')
    await tabTo(t, stale, 'form button[type="submit"]')
    const answer = await submitWith(stale, 'Enter')
    t.equal(answer.status(), 409, 'refused: decided meanwhile')
    t.equal(await stale.locator('main form button[type="submit"]').count(), 0, 'no decision form any more')
    t.match(await stale.locator('main p.status').innerText(), 'This submission was approved.')
    await stale.close()
    await page.goto(reviewUrl)
    t.match(await page.locator('main p.status').innerText(), 'This submission was approved.', 'the page is read-only')
    t.equal(await page.locator('main textarea').count(), 0)
    const reviews = (await app.inject({ method: 'GET', url: `/v1/submissions/${submission.id}`, headers: lms })).json().reviews
    t.equal(reviews.length, 1, 'still one decision')
  })

  await t.test('signing out by keyboard ends the session; the used link offers a new one', async (t) => {
    const session = (await context.cookies()).find((c) => c.name === 'lanyard_review')!.value
    await page.goto(`${origin}/review`)
    await tabTo(t, page, 'button.secondary')
    t.equal(await page.evaluate(() => document.activeElement!.textContent), 'Sign out')
    const answer = await submitWith(page, 'Enter')
    t.equal(answer.status(), 303)
    t.equal(page.url(), `${origin}/review/sign-in`)
    t.equal(await page.locator('h1').innerText(), 'Sign in to review evidence')
    t.equal((await context.cookies()).find((c) => c.name === 'lanyard_review'), undefined, 'the cookie is cleared')
    await assertAccessible(t, page, 'the sign-in page')

    const replayed = await fetch(`${origin}/review`, { headers: { cookie: `lanyard_review=${session}` }, redirect: 'manual' })
    t.equal(replayed.status, 303, 'the old cookie no longer opens the queue')
    t.equal(replayed.headers.get('location'), '/review/sign-in')

    const again = await page.goto(link)
    t.equal(again?.status(), 410, 'the link worked once')
    t.equal(await page.locator('h1').innerText(), 'This sign-in link cannot be used')
    t.match(await page.locator('main .alert').innerText(), 'This sign-in link was already used: each link works once.')
    t.equal(await page.getByLabel('Email address').count(), 1, 'with the form that emails a new link')
    await assertAccessible(t, page, 'the used link\'s page')
    t.same(refused, [], 'the Content-Security-Policy refused nothing')
  })
  await context.close()
})
