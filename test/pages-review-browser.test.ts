// The reviewers' pages in Debian's Chromium, served as Lanyard serves pages (a CSP with no script): axe-core finds no serious
// or critical violation in any state, and a reviewer signs in, decides and signs out with the keyboard alone.
import { existsSync } from 'node:fs'
import { createServer, type IncomingMessage } from 'node:http'
import { chromium, type Page } from 'playwright-core'
import t, { type Test } from 'tap'
import type { ResultDescription } from '../src/db/schema.js'
import { reviewQueuePage, reviewSignInPage, submissionReviewPage, type SubmissionReviewPageModel } from '../src/pages/review-pages.js'
import { assertAccessible } from './helpers/axe.js'
import { freePort } from './helpers/net.js'

// As in helpers/browser.ts, which would also load the whole app: these pages need no app, only a server of pages.
const CHROMIUM = '/usr/bin/chromium'
const withoutChromium = existsSync(CHROMIUM) ? false : `no ${CHROMIUM}: .ci/run installs Debian's chromium`

const CSRF = 'csrf-token-123'
const XSS = '<img src=x onerror=alert(1)>'
const CSP = "default-src 'self'; form-action 'self'; script-src 'self'; script-src-attr 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"

const level = (id: string, name: string, description?: string, points?: string) => ({ id, type: ['RubricCriterionLevel'] as ['RubricCriterionLevel'], name, description, points })
const RUBRICS: ResultDescription[] = [
  {
    id: 'urn:uuid:technique', type: ['ResultDescription'], name: 'Technique', resultType: 'RubricCriterionLevel', requiredLevel: 'tech-2',
    rubricCriterionLevel: [level('tech-1', 'Novice', 'Needs guidance', '1'), level('tech-2', 'Competent', 'Works alone', '2'), level('tech-3', 'Expert', undefined, '3')]
  },
  { id: 'urn:uuid:safety', type: ['ResultDescription'], name: 'Safety', resultType: 'RubricCriterionLevel', rubricCriterionLevel: [level('safe-1', 'Unsafe'), level('safe-2', 'Safe')] }
]

function submissionModel(origin: string, overrides: Partial<SubmissionReviewPageModel> = {}): SubmissionReviewPageModel {
  return {
    publicUrl: origin, csrfToken: CSRF, action: `${origin}/review/submissions/s1`,
    submission: {
      achievementName: 'Safe Welding', issuerName: 'Riverside College', criteriaNarrative: 'Weld a joint.\nWear the mask.',
      learner: { label: XSS }, version: 2, submittedAt: new Date('2030-05-13T10:00:00Z'),
      evidence: [{ name: 'Welding video', narrative: 'Filmed at the workshop.', url: 'https://video.example.edu/1', genre: 'Video' }, { name: 'Odd link', url: 'javascript:alert(2)' }],
      files: [{ name: 'photo.png', url: `${origin}/files/f1`, contentType: 'image/png', size: 204_800 }],
      history: [{ version: 1, decision: 'revise', comment: 'Show the second joint.', reviewer: 'Bob Reviewer', decidedAt: new Date('2030-05-01T09:00:00Z') }],
      approvals: { count: 0, required: 1 }
    },
    rubrics: RUBRICS,
    ...overrides
  }
}

/** Every page state at its own path; every POST is kept, answered with the page the lead's routes would show next. */
function pages(origin: string): Record<string, string> {
  const queue = (notice?: string) => reviewQueuePage({
    publicUrl: origin, csrfToken: CSRF, reviewer: { email: 'bob@example.edu', name: 'Bob Reviewer' }, notice,
    items: [
      { id: 's1', url: `${origin}/review/submissions/s1`, achievementName: 'Safe Welding', issuerName: 'Riverside College', learnerName: XSS, version: 2, submittedAt: new Date('2030-05-13T10:00:00Z'), approvals: { count: 0, required: 1 } },
      { id: 's2', url: `${origin}/review/submissions/s2`, achievementName: 'Safe Welding', issuerName: 'Riverside College', learnerName: null, version: 1, submittedAt: new Date('2030-05-14T10:00:00Z'), approvals: { count: 1, required: 2 } }
    ]
  })
  return {
    '/review/sign-in': reviewSignInPage({ publicUrl: origin, kind: 'request' }),
    '/review/sign-in?error': reviewSignInPage({ publicUrl: origin, kind: 'request', error: 'Enter an email address, like name@example.edu' }),
    'POST /review/sign-in': reviewSignInPage({ publicUrl: origin, kind: 'request', sent: true }),
    '/review/sign-in/t0ken': reviewSignInPage({ publicUrl: origin, kind: 'confirm', action: `${origin}/review/sign-in/t0ken` }),
    '/review/sign-in/old': reviewSignInPage({ publicUrl: origin, kind: 'closed', reason: 'expired' }),
    'POST /review/sign-in/t0ken': queue(),
    '/review': queue('Approved: the badge was issued'),
    '/review?empty': reviewQueuePage({ publicUrl: origin, csrfToken: CSRF, reviewer: { email: 'bob@example.edu', name: null }, items: [] }),
    '/review/submissions/s1': submissionReviewPage(submissionModel(origin)),
    '/review/submissions/s1?errors': submissionReviewPage(submissionModel(origin, {
      values: { decision: 'approve', levels: { 1: 'safe-2' } },
      errors: [{ field: 'level-0', message: 'Choose a level for Technique' }, { field: 'comment', message: 'Say what you saw in the evidence' }]
    })),
    '/review/submissions/s1?read-only': submissionReviewPage(submissionModel(origin, { readOnly: { reason: 'This submission is your own: another reviewer decides it.' } })),
    'POST /review/submissions/s1': queue('Approved: the badge was issued'),
    'POST /review/sign-out': reviewSignInPage({ publicUrl: origin, kind: 'request' })
  }
}

async function body(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString()
}

async function serve(t: Test) {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const routes = pages(origin)
  const posts: { path: string; type: string | undefined; form: URLSearchParams }[] = []
  const server = createServer(async (request, response) => {
    const key = request.method === 'POST' ? `POST ${request.url}` : request.url!
    if (request.method === 'POST') posts.push({ path: request.url!, type: request.headers['content-type'], form: new URLSearchParams(await body(request)) })
    const html = routes[key]
    response.writeHead(html === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP })
    response.end(html ?? 'not found')
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  return { origin, posts }
}

async function openBrowser(t: Test): Promise<Page> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  page.on('dialog', async (dialog) => {
    t.fail(`a script ran: ${dialog.message()}`)
    await dialog.dismiss()
  })
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) t.fail(`the CSP refused something: ${message.text()}`)
  })
  return page
}

/** Presses Tab until the focused element matches, as a keyboard user would; fails after too many presses. */
async function tabTo(t: Test, page: Page, selector: string): Promise<void> {
  for (let presses = 0; presses < 40; presses++) {
    await page.keyboard.press('Tab')
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return
  }
  t.fail(`Tab never reached ${selector}`)
}

/** Presses a key that submits a form, and waits for the page its POST answers with. */
async function submitWith(page: Page, key: string): Promise<void> {
  const answered = page.waitForResponse((response) => response.request().method() === 'POST')
  await page.keyboard.press(key)
  await answered
  await page.waitForLoadState()
}

const focusOutline = (page: Page) => page.evaluate(() => {
  const style = getComputedStyle(document.activeElement!)
  return `${style.outlineStyle} ${style.outlineWidth}`
})

t.test('every state of the review pages passes axe-core', { skip: withoutChromium }, async (t) => {
  const { origin } = await serve(t)
  const page = await openBrowser(t)
  for (const path of Object.keys(pages(origin)).filter((key) => !key.startsWith('POST '))) {
    const response = await page.goto(`${origin}${path}`)
    t.equal(response?.status(), 200, path)
    t.equal(await page.locator('h1').count(), 1, `${path}: one h1`)
    t.equal(await page.locator('main script, main img').count(), 0, `${path}: names stay text`)
    await assertAccessible(t, page, path)
  }
})

t.test('a reviewer signs in, decides and signs out with the keyboard alone', { skip: withoutChromium }, async (t) => {
  const { origin, posts } = await serve(t)
  const page = await openBrowser(t)

  await page.goto(`${origin}/review/sign-in`)
  await tabTo(t, page, '#email')
  t.equal(await focusOutline(page), 'solid 3px', 'the focused field shows it')
  await page.keyboard.type('bob@example.edu')
  await submitWith(page, 'Enter')
  t.equal(await page.getByRole('status').innerText(), 'If that address belongs to a reviewer, a link is on its way.')
  t.match(posts.at(-1), { path: '/review/sign-in', type: 'application/x-www-form-urlencoded' })
  t.equal(posts.at(-1)!.form.get('email'), 'bob@example.edu')

  await page.goto(`${origin}/review/sign-in/t0ken`)
  await tabTo(t, page, 'button')
  t.equal(await focusOutline(page), 'solid 3px', 'the focused button shows it')
  await submitWith(page, 'Enter')
  t.equal(posts.at(-1)!.path, '/review/sign-in/t0ken', 'the link is used by the button\'s POST')
  t.equal(await page.locator('h1').innerText(), 'Submissions to review')

  await page.goto(`${origin}/review`)
  await tabTo(t, page, `a[href="${origin}/review/submissions/s1"]`)
  t.equal(await page.evaluate(() => document.activeElement!.textContent), `Safe Welding from ${XSS}`)
  await page.keyboard.press('Enter')
  await page.waitForURL(`${origin}/review/submissions/s1`)

  await tabTo(t, page, '#level-0')
  t.equal(await focusOutline(page), 'solid 3px', 'the focused radio shows it')
  await page.keyboard.press('ArrowDown') // Competent: arrows choose within a group
  await page.keyboard.press('Tab')
  t.equal(await page.evaluate(() => document.activeElement!.id), 'level-1', 'Tab moves to the next group')
  await page.keyboard.press('ArrowDown')
  await tabTo(t, page, '#decision')
  await page.keyboard.press('Space')
  await tabTo(t, page, '#comment')
  await page.keyboard.type('Clean joints, mask on throughout.')
  await tabTo(t, page, 'button[type="submit"]')
  await submitWith(page, 'Enter')
  const decision = posts.at(-1)!
  t.match(decision, { path: '/review/submissions/s1', type: 'application/x-www-form-urlencoded' })
  t.same([...decision.form], [['csrf', CSRF], ['level-0', 'tech-2'], ['level-1', 'safe-2'], ['decision', 'approve'], ['comment', 'Clean joints, mask on throughout.']])
  t.equal(await page.getByRole('status').innerText(), 'Approved: the badge was issued')

  await tabTo(t, page, 'button.secondary')
  await submitWith(page, 'Space')
  t.same([...posts.at(-1)!.form], [['csrf', CSRF]], 'signing out carries the CSRF token')
})

t.test('the error summary\'s links take the keyboard to each field', { skip: withoutChromium }, async (t) => {
  const { origin } = await serve(t)
  const page = await openBrowser(t)
  await page.goto(`${origin}/review/submissions/s1?errors`)
  t.same(await page.getByRole('alert').locator('a').allInnerTexts(), ['Choose a level for Technique', 'Say what you saw in the evidence'])
  await tabTo(t, page, 'a[href="#comment"]')
  await page.keyboard.press('Enter')
  t.equal(await page.evaluate(() => document.activeElement!.id), 'comment', 'the link focuses the comment')
  t.equal(await page.getByLabel('Comment').getAttribute('aria-invalid'), 'true')
  t.equal(await page.getByRole('radio', { name: 'Approve and issue the badge' }).isChecked(), true, 'the choice is kept')
  t.equal(await page.getByRole('radio', { name: 'Safe', exact: true }).isChecked(), true)
  t.equal(await page.getByRole('group', { name: /^Technique/ }).getAttribute('aria-describedby'), 'level-0-error')
})
