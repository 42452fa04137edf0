// The reviewers' pages as pure functions: what each state says, the forms they post, and that every given string stays text.
import t from 'tap'
import type { ResultDescription } from '../src/db/schema.js'
import {
  reviewQueuePage, reviewSignInPage, submissionReviewPage, type ReviewQueueItem, type SubmissionReviewPageModel
} from '../src/pages/review-pages.js'

const PUBLIC = 'https://badges.example.edu'
const XSS = '<img src=x onerror=alert(1)>'
const ESCAPED = '&lt;img src=x onerror=alert(1)&gt;'
const CSRF = 'csrf-t0ken_"&'
const CSRF_INPUT = '<input type="hidden" name="csrf" value="csrf-t0ken_&quot;&amp;">'
const SUBMITTED = new Date('2030-05-13T10:00:00Z')

const forms = (html: string) => html.match(/<form[\s\S]*?<\/form>/g) ?? []
const ids = (html: string) => new Set([...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]))

function rubric(name: string, levels: [id: string, name: string, description?: string, points?: string][], requiredLevel?: string): ResultDescription {
  return {
    id: `urn:uuid:${name}`, type: ['ResultDescription'], name, resultType: 'RubricCriterionLevel', requiredLevel,
    rubricCriterionLevel: levels.map(([id, levelName, description, points]) => ({ id, type: ['RubricCriterionLevel'], name: levelName, description, points }))
  }
}

const RUBRICS = [
  rubric('Technique', [['tech-1', 'Novice', 'Needs guidance', '1'], ['tech-2', 'Competent', undefined, '3'], ['tech-3', 'Expert', 'Teaches others']], 'tech-2'),
  rubric('Safety', [['safe-1', 'Unsafe'], ['safe-2', 'Safe']])
]

function submission(overrides: Partial<SubmissionReviewPageModel> = {}, details: Partial<SubmissionReviewPageModel['submission']> = {}): string {
  return submissionReviewPage({
    publicUrl: PUBLIC, csrfToken: CSRF, action: `${PUBLIC}/review/submissions/s1`,
    submission: {
      achievementName: 'Safe Welding', issuerName: 'Riverside College', criteriaNarrative: 'Weld a joint.\nWear the mask.',
      learner: { label: 'Ada Lovelace (ada@example.edu)' }, version: 2, submittedAt: SUBMITTED,
      evidence: [
        { name: 'Welding video', narrative: 'Filmed at the workshop.\nTwo joints.', url: 'https://video.example.edu/1', genre: 'Video' },
        { name: 'Odd link', url: 'javascript:alert(2)' },
        { name: 'Just a name' }
      ],
      files: [
        { name: 'log.txt', url: `${PUBLIC}/review/submissions/s1/files/f1`, contentType: 'text/plain', size: 900 },
        { name: 'photo.png', url: `${PUBLIC}/review/submissions/s1/files/f2`, contentType: 'image/png', size: 1536 },
        { name: 'film.mp4', url: `${PUBLIC}/review/submissions/s1/files/f3`, contentType: 'video/mp4', size: 25 * 1024 * 1024 }
      ],
      history: [
        { version: 1, decision: 'revise', comment: 'Show the second joint.', reviewer: 'Bob Reviewer', decidedAt: new Date('2030-05-01T09:00:00Z') },
        { version: 1, decision: 'approve', comment: null, reviewer: 'cy@example.edu', decidedAt: new Date('2030-05-02T09:00:00Z') },
        { version: 1, decision: 'reject', comment: 'No.', reviewer: 'Dee', decidedAt: new Date('2030-05-03T09:00:00Z') }
      ],
      approvals: { count: 1, required: 2 },
      ...details
    },
    rubrics: RUBRICS,
    ...overrides
  })
}

t.test('the sign-in page asks for an email address', async (t) => {
  const html = reviewSignInPage({ publicUrl: PUBLIC, kind: 'request' })
  t.match(html, '<h1>Sign in to review evidence</h1>')
  t.match(html, `<form method="post" action="${PUBLIC}/review/sign-in">`)
  t.match(html, '<label for="email">Email address</label>')
  t.match(html, /<input id="email" name="email" type="email" autocomplete="email" spellcheck="false" required>/)
  t.match(html, '<button type="submit">Email me a sign-in link</button>')
  t.notMatch(html, 'role="status"')
  t.notMatch(html, 'role="alert"')
  t.match(html, '<meta name="robots" content="noindex">')
})

t.test('after a request the sign-in page says a link may be on its way, whoever asked', async (t) => {
  const html = reviewSignInPage({ publicUrl: PUBLIC, kind: 'request', sent: true })
  t.match(html, '<div class="status" role="status"><p>If that address belongs to a reviewer, a link is on its way.</p></div>')
  t.equal(forms(html).length, 1, 'the form stays, to ask again')
})

t.test('a bad address is shown beside the field and in a summary linking to it', async (t) => {
  const html = reviewSignInPage({ publicUrl: PUBLIC, kind: 'request', error: `Enter an email address ${XSS}` })
  t.match(html, `<div class="alert" role="alert">\n<h2>There is a problem</h2>\n<ul>\n<li><a href="#email">Enter an email address ${ESCAPED}</a></li>`)
  t.match(html, `<p class="error-message" id="email-error">Error: Enter an email address ${ESCAPED}</p>`)
  t.match(html, 'required aria-invalid="true" aria-describedby="email-error">')
  t.notMatch(html, '<img')
})

t.test('the confirm page signs in only through its button, posting to the escaped link', async (t) => {
  const action = `${PUBLIC}/review/sign-in/t0k"en<&>`
  const html = reviewSignInPage({ publicUrl: PUBLIC, kind: 'confirm', action })
  t.match(html, '<h1>Sign in to review</h1>')
  t.match(html, `<form method="post" action="${PUBLIC}/review/sign-in/t0k&quot;en&lt;&amp;&gt;">\n<button type="submit">Sign in to review</button>\n</form>`)
  t.notMatch(html, 't0k"en')
  t.match(html, 'a mail scanner that opens the link cannot')
})

t.test('a link that cannot be used says why and offers a new one', async (t) => {
  const said = { used: 'was already used: each link works once', expired: 'has expired', unknown: 'is not one we know' } as const
  for (const reason of ['used', 'expired', 'unknown'] as const) {
    const html = reviewSignInPage({ publicUrl: PUBLIC, kind: 'closed', reason })
    t.match(html, '<h1>This sign-in link cannot be used</h1>', reason)
    t.match(html, `<p class="alert">This sign-in link ${said[reason]}`, reason)
    t.match(html, '<h2>Email me a new link</h2>', reason)
    t.match(forms(html)[0], `action="${PUBLIC}/review/sign-in"`, reason)
  }
})

const item = (overrides: Partial<ReviewQueueItem> = {}): ReviewQueueItem => ({
  id: 's1', url: `${PUBLIC}/review/submissions/s1`, achievementName: 'Safe Welding', issuerName: 'Riverside College',
  learnerName: 'Ada Lovelace', version: 1, submittedAt: SUBMITTED, approvals: { count: 0, required: 1 }, ...overrides
})

t.test('the queue lists each submission as a link naming the badge and the learner', async (t) => {
  const html = reviewQueuePage({
    publicUrl: PUBLIC, csrfToken: CSRF, reviewer: { email: 'bob@example.edu', name: 'Bob Reviewer' }, notice: 'Approved: the badge was issued',
    items: [item(), item({ id: 's2', url: `${PUBLIC}/review/submissions/s2`, learnerName: null, version: 3, approvals: { count: 1, required: 2 } })]
  })
  t.match(html, '<h1>Submissions to review</h1>')
  t.match(html, '<div class="status" role="status"><p>Approved: the badge was issued</p></div>')
  t.match(html, '<p>Signed in as Bob Reviewer (bob@example.edu).</p>')
  t.match(html, `<a href="${PUBLIC}/review/submissions/s1">Safe Welding from Ada Lovelace</a>`)
  t.match(html, `<a href="${PUBLIC}/review/submissions/s2">Safe Welding from a learner</a>`)
  t.match(html, 'Issued by Riverside College · version 3 · submitted <time datetime="2030-05-13T10:00:00.000Z">Mon, 13 May 2030 10:00:00 GMT</time> · 1 of 2 approvals')
  t.notMatch(html, 'Nothing is waiting')
  const [signOut] = forms(html)
  t.match(signOut, `<form method="post" action="${PUBLIC}/review/sign-out">\n${CSRF_INPUT}\n<button type="submit" class="secondary">Sign out</button>`)
})

t.test('an empty queue says so', async (t) => {
  const html = reviewQueuePage({ publicUrl: PUBLIC, csrfToken: CSRF, reviewer: { email: 'bob@example.edu', name: null }, items: [] })
  t.match(html, '<p>Nothing is waiting for review. New submissions appear here.</p>')
  t.match(html, '<p>Signed in as bob@example.edu.</p>')
  t.notMatch(html, 'role="status"')
  t.notMatch(html, '<ul class="queue">')
})

t.test('a submission shows the badge, the learner, the evidence, the files and earlier decisions', async (t) => {
  const html = submission()
  t.match(html, '<title>Review evidence for Safe Welding</title>')
  t.equal(html.match(/<h1>/g)?.length, 1)
  t.match(html, '<h1>Evidence for Safe Welding</h1>\n<p>A badge issued by Riverside College.</p>')
  t.match(html, '<p class="narrative">Weld a joint.\nWear the mask.</p>')
  t.match(html, '<dt>Learner</dt><dd>Ada Lovelace (ada@example.edu)</dd>')
  t.match(html, '<dt>Version</dt><dd>2</dd>')
  t.match(html, '<dt>Submitted</dt><dd><time datetime="2030-05-13T10:00:00.000Z">Mon, 13 May 2030 10:00:00 GMT</time></dd>')
  t.match(html, '<dt>Approvals so far</dt><dd>1 of 2</dd>')
  t.match(html, '<h3>Welding video</h3>\n<p class="narrative">Filmed at the workshop.\nTwo joints.</p>\n<dl><dt>Link</dt><dd><a href="https://video.example.edu/1">https://video.example.edu/1</a></dd><dt>Kind</dt><dd>Video</dd></dl>')
  t.match(html, '<h3>Odd link</h3>\n<dl><dt>Link</dt><dd>javascript:alert(2)</dd></dl>', 'a link that is not http(s) is text')
  t.notMatch(html, 'href="javascript:')
  t.match(html, '<h3>Just a name</h3>\n<h2>Files</h2>', 'an item with only a name')
  t.match(html, `<a href="${PUBLIC}/review/submissions/s1/files/f1">log.txt</a> <span class="hint">text/plain, 900 bytes</span>`)
  t.match(html, 'image/png, 1.5 KB')
  t.match(html, 'video/mp4, 25 MB')
  t.match(html, '<strong>Version 1: Revision requested</strong>\nby Bob Reviewer, <time datetime="2030-05-01T09:00:00.000Z">')
  t.match(html, '<blockquote><p class="narrative">Show the second joint.</p></blockquote>')
  t.match(html, '<strong>Version 1: Approved</strong>\nby cy@example.edu, <time datetime="2030-05-02T09:00:00.000Z">Thu, 02 May 2030 09:00:00 GMT</time></p>\n</li>')
  t.match(html, '<strong>Version 1: Rejected</strong>')
  t.match(html, `<a href="${PUBLIC}/review">Back to the submissions to review</a>`)
})

t.test('a bare submission leaves out what it does not have', async (t) => {
  const html = submission({ rubrics: [] }, { criteriaNarrative: undefined, evidence: [], files: [], history: [] })
  t.notMatch(html, 'What the badge asks')
  t.match(html, '<p>The learner gave no evidence items.</p>')
  t.notMatch(html, '<h2>Files</h2>')
  t.notMatch(html, '<h2>Earlier decisions</h2>')
  t.notMatch(html, 'against each rubric')
  t.equal(html.match(/<fieldset/g)?.length, 1, 'only the decision')
  t.notMatch(html, /<input[^>]* checked/)
  t.notMatch(html, 'role="alert"')
  t.match(html, '<textarea id="comment" name="comment" aria-describedby="comment-hint">\n</textarea>')
})

t.test('the decision form has a radio group per rubric, then the decision and a comment', async (t) => {
  const html = submission()
  const [form = ''] = forms(html)
  t.equal(forms(html).length, 1)
  t.match(form, `<form method="post" action="${PUBLIC}/review/submissions/s1">\n${CSRF_INPUT}\n`)
  t.match(form, '<legend>Technique <span class="hint">Required level: Competent</span></legend>')
  t.match(form, '<legend>Safety</legend>')
  t.match(form, '<input type="radio" id="level-0" name="level-0" value="tech-1" aria-describedby="level-0-hint">\n<div><label for="level-0">Novice</label><span class="hint" id="level-0-hint">Needs guidance · 1 point</span></div>')
  t.match(form, '<input type="radio" id="level-0-2" name="level-0" value="tech-2" aria-describedby="level-0-2-hint">\n<div><label for="level-0-2">Competent</label><span class="hint" id="level-0-2-hint">3 points</span>')
  t.match(form, '<span class="hint" id="level-0-3-hint">Teaches others</span>')
  t.match(form, '<input type="radio" id="level-1" name="level-1" value="safe-1">\n<div><label for="level-1">Unsafe</label></div>')
  t.match(form, '<input type="radio" id="level-1-2" name="level-1" value="safe-2">')
  t.match(form, /<legend>Decision<\/legend>[\s\S]*value="approve">\n<div><label for="decision">Approve and issue the badge<\/label>[\s\S]*value="revise">\n<div><label for="decision-2">Ask for a revision<\/label>[\s\S]*value="reject">\n<div><label for="decision-3">Reject<\/label>/)
  t.match(form, '<label for="comment">Comment</label>')
  t.match(form, '<button type="submit">Submit decision</button>')
  t.ok(form.indexOf('<legend>Technique') < form.indexOf('<legend>Decision'), 'rubrics first')
  t.notMatch(html, /tabindex="[1-9]/)
})

t.test('a form sent back with errors keeps what was chosen and points at each problem', async (t) => {
  const html = submission({
    values: { decision: 'revise', comment: '\nFirst line kept.\n</textarea><b>', levels: { 1: 'safe-2' } },
    errors: [
      { field: 'level-0', message: 'Choose a level for Technique' },
      { field: 'decision', message: 'Choose a decision' },
      { field: 'comment', message: 'Say what is missing' },
      { field: 'comment', message: 'Keep it under 5,000 characters' }
    ]
  })
  const summary = html.match(/<div class="alert" role="alert">[\s\S]*?<\/div>/)![0]
  t.ok(html.indexOf(summary) < html.indexOf('<h1>'), 'the summary comes first')
  const targets = [...summary.matchAll(/href="#([^"]+)"/g)].map((m) => m[1])
  t.same(targets, ['level-0', 'decision', 'comment', 'comment'])
  const known = ids(html)
  for (const target of targets) t.ok(known.has(target), `#${target} is a field`)
  t.match(html, '<fieldset aria-describedby="level-0-error">\n<legend>Technique')
  t.match(html, '<p class="error-message" id="level-0-error">Error: Choose a level for Technique</p>')
  t.match(html, '<fieldset aria-describedby="decision-error">\n<legend>Decision</legend>\n<p class="error-message" id="decision-error">Error: Choose a decision</p>')
  t.match(html, '<p class="error-message" id="comment-error">Error: Say what is missing Error: Keep it under 5,000 characters</p>')
  t.match(html, '<textarea id="comment" name="comment" aria-invalid="true" aria-describedby="comment-hint comment-error">\n\nFirst line kept.\n&lt;/textarea&gt;&lt;b&gt;</textarea>')
  t.match(html, 'value="revise" checked>')
  t.match(html, 'value="safe-2" checked>')
  t.equal(html.match(/<input[^>]* checked/g)?.length, 2, 'nothing else is chosen')
  t.match(html, '<fieldset>\n<legend>Safety</legend>', 'a group without an error has no description')
})

t.test('a read-only submission shows why instead of the form', async (t) => {
  const html = submission({ readOnly: { reason: 'You already decided on this version.' }, errors: [{ field: 'decision', message: 'Choose a decision' }] })
  t.equal(forms(html).length, 0)
  t.match(html, '<h2>Your decision</h2>\n<p class="status">You already decided on this version.</p>')
  t.notMatch(html, 'role="alert"')
  t.notMatch(html, 'name="csrf"')
})

t.test('every string of every model stays text', async (t) => {
  const pages = [
    reviewSignInPage({ publicUrl: PUBLIC, kind: 'request', error: XSS }),
    reviewSignInPage({ publicUrl: PUBLIC, kind: 'confirm', action: XSS }),
    reviewQueuePage({
      publicUrl: PUBLIC, csrfToken: XSS, reviewer: { email: XSS, name: XSS }, notice: XSS,
      items: [item({ url: XSS, achievementName: XSS, issuerName: XSS, learnerName: XSS })]
    }),
    submission({
      csrfToken: XSS, action: XSS,
      rubrics: [rubric(XSS, [[XSS, XSS, XSS, XSS], ['b', 'B']], XSS)],
      values: { comment: XSS, levels: { 0: XSS } },
      errors: [{ field: 'comment', message: XSS }, { field: 'level-0', message: XSS }]
    }, {
      achievementName: XSS, issuerName: XSS, criteriaNarrative: XSS, learner: { label: XSS },
      evidence: [{ name: XSS, narrative: XSS, url: XSS, genre: XSS }, { name: 'Linked', url: `https://x.example.edu/?q=${XSS}` }],
      files: [{ name: XSS, url: XSS, contentType: XSS, size: 1 }],
      history: [{ version: 1, decision: 'revise', comment: XSS, reviewer: XSS, decidedAt: SUBMITTED }]
    }),
    submission({ readOnly: { reason: XSS } })
  ]
  for (const [i, html] of pages.entries()) {
    t.notMatch(html, '<img', `page ${i}: no element made of a string`)
    t.notMatch(html, /<script/i, `page ${i}: no script`)
    t.match(html, ESCAPED, `page ${i}: the string is shown`)
  }
  t.match(pages[3], `<title>Review evidence for ${ESCAPED}</title>`)
  t.match(pages[3], 'value="&lt;img src=x onerror=alert(1)&gt;" checked', 'a chosen level id, escaped')
  t.match(pages[3], '<a href="https://x.example.edu/?q=%3Cimg%20src=x%20onerror=alert(1)%3E">')
})

t.test('no page has a script', async (t) => {
  for (const html of [
    reviewSignInPage({ publicUrl: PUBLIC, kind: 'request', sent: true }),
    reviewSignInPage({ publicUrl: PUBLIC, kind: 'closed', reason: 'used' }),
    reviewQueuePage({ publicUrl: PUBLIC, csrfToken: CSRF, reviewer: { email: 'bob@example.edu', name: null }, items: [item()] }),
    submission()
  ]) {
    t.notMatch(html, /<script/i)
    t.notMatch(html, / on[a-z]+=/i, 'no inline handlers')
  }
})
