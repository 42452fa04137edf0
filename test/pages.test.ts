// The HTML pages, called directly: the public badge page and the verify page, fed hand-built verification reports.
import t, { type Test } from 'tap'
import { credentialPage, escapeHtml, type CredentialPageModel } from '../src/pages/credential-page.js'
import { verifyFormPage, verifyResultPage } from '../src/pages/verify-page.js'
import type { Check, EndorsementReport, ReportSummary, VerificationReport } from '../src/verify/report.js'

type Json = Record<string, any>

const HOSTILE = '<script>alert(1)</script>'
const ESCAPED = '&lt;script&gt;alert(1)&lt;/script&gt;'
const PUBLIC_URL = 'https://badges.example'
const URL_OF = `${PUBLIC_URL}/credentials/0b5e2c1a-6f0e-4c8a-9d2b-3e4f5a6b7c8d`
const CREDENTIAL_ID = 'urn:uuid:6a1f7c52-2b8e-4c1e-9a43-0d6c5e7b8f21'
const EMAIL = 'pat@example.org'
const HASH = 'sha256$0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0'

const PASSED: Check[] = [
  { check: 'format', status: 'passed', message: 'An OB 3.0 credential' },
  { check: 'proof', status: 'passed', message: 'Signed with eddsa-rdfc-2022' },
  { check: 'validity', status: 'passed', message: 'Within its validity period' },
  { check: 'status', status: 'passed', message: 'Not revoked' }
]

function credentialOf(fields: Json = {}, achievement: Json = {}, subject: Json = {}): Json {
  return {
    '@context': ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
    id: CREDENTIAL_ID,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: { id: 'did:web:badges.example', type: ['Profile'], name: 'Northwind College', url: 'https://northwind.example/' },
    validFrom: '2025-11-25T09:30:00Z',
    validUntil: '2026-11-25T00:00:00Z',
    credentialSubject: {
      type: ['AchievementSubject'],
      name: 'Pat Doe',
      identifier: [{ type: 'IdentityObject', identityType: 'emailAddress', hashed: true, identityHash: HASH, salt: 'pepper' }],
      achievement: {
        id: 'https://badges.example/achievements/welding',
        type: ['Achievement'],
        name: 'Safe Welding',
        description: 'Welds steel safely.',
        criteria: { id: 'https://northwind.example/criteria/welding', narrative: 'Pass the practical.\nPass the theory.' },
        ...achievement
      },
      ...subject
    },
    ...fields
  }
}

/** The summary the pipeline would derive from the credential (its shape, not its code: the pages must not depend on how). */
function summaryOf(credential: Json): ReportSummary {
  const first = Array.isArray(credential.credentialSubject) ? credential.credentialSubject[0] : credential.credentialSubject
  const subject = typeof first === 'object' ? first : undefined
  return {
    issuer: { id: credential.issuer?.id ?? null, name: credential.issuer?.name ?? null },
    achievement: subject?.achievement ? { name: subject.achievement.name ?? null } : null,
    recipient: subject ? { ...(subject.name && { name: subject.name }), ...(subject.identifier && { hashedIdentifier: true }) } : null,
    validFrom: credential.validFrom ?? null,
    validUntil: credential.validUntil ?? null
  }
}

function reportOf(credential: Json, checks: Check[] = PASSED, fields: Partial<VerificationReport> = {}): VerificationReport {
  return { verified: checks.every((c) => c.status !== 'failed'), format: 'eddsa-rdfc-2022', credential, summary: summaryOf(credential), checks, ...fields }
}

const replaced = (check: Check): Check[] => PASSED.map((c) => (c.check === check.check ? check : c))
const REVOKED = replaced({ check: 'status', status: 'failed', message: 'Revoked by its issuer: left the course' })
const EXPIRED = replaced({ check: 'validity', status: 'failed', message: 'Expired on 2026-11-25T00:00:00Z' })
const NOT_YET = replaced({ check: 'validity', status: 'failed', message: 'Not valid yet: valid from 2099-01-01T00:00:00Z' })
const SUSPENDED = replaced({ check: 'status', status: 'failed', message: 'Suspended by its issuer' })
const FORGED = replaced({ check: 'proof', status: 'failed', message: 'The signature does not match the credential' })

function modelOf(credential: Json = credentialOf(), checks: Check[] = PASSED, images: CredentialPageModel['images'] = {
  png: `${URL_OF}/badge.png`, svg: `${URL_OF}/badge.svg`
}): CredentialPageModel {
  return { url: URL_OF, publicUrl: PUBLIC_URL, credential, report: reportOf(credential, checks), images }
}

const pageOf = (...args: Parameters<typeof modelOf>) => credentialPage(modelOf(...args))

const unescape = (text: string) => text.replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) =>
  ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': '\'' })[name]!)

/** The status word: the text of the `.word` element. */
const statusOf = (html: string) => /<span class="word">([^<]*)<\/span>/.exec(html)?.[1]

const meta = (html: string, key: string) => new RegExp(`<meta (?:property|name)="${key}" content="([^"]*)">`).exec(html)?.[1]

function linkedIn(html: string): URL | undefined {
  const href = /href="(https:\/\/www\.linkedin\.com\/[^"]*)"/.exec(html)?.[1]
  return href === undefined ? undefined : new URL(unescape(href))
}

/** Every <a>'s href and text. */
const links = (html: string) => [...html.matchAll(/<a href="([^"]*)"[^>]*>([^<]*)<\/a>/g)].map(([, href, label]) => ({ href: unescape(href!), label: label! }))

/** Each fragment appears in the page, named in the assertion so a failure says which. */
function includesAll(t: Test, html: string, fragments: string[]) {
  for (const fragment of fragments) t.ok(html.includes(fragment), fragment)
}

t.test('escapeHtml turns every markup character into text, and stays exported from the badge page module', async (t) => {
  t.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;')
})

t.test('the badge page shows the badge, what was achieved, who issued it, to whom and when', async (t) => {
  const html = pageOf()
  t.match(html, /^<!doctype html>\n<html lang="en">/)
  t.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/)
  t.equal(html.match(/<h1[ >]/g)?.length, 1, 'one h1')
  for (const landmark of ['header', 'main', 'footer']) t.match(html, new RegExp(`<${landmark}>[\\s\\S]*</${landmark}>`), landmark)
  t.ok(html.includes(`<img class="badge" src="${URL_OF}/badge.png" alt="Badge: Safe Welding">`), 'the baked PNG, with alt text')
  t.ok(html.includes('<h1>Safe Welding</h1>'))
  t.ok(html.includes('<p>Welds steel safely.</p>'))
  t.ok(html.includes('<p class="narrative">Pass the practical.\nPass the theory.</p>'), 'the criteria narrative')
  t.ok(html.includes('<a href="https://northwind.example/criteria/welding">'), 'the criteria page')
  t.ok(html.includes('<dt>Issued by</dt><dd><a href="https://northwind.example/">Northwind College</a></dd>'), 'the issuer, linked to its homepage')
  t.ok(html.includes('<dt>Awarded to</dt><dd>Pat Doe</dd>'))
  t.ok(html.includes('<dt>Issued</dt><dd><time datetime="2025-11-25T09:30:00.000Z">25 November 2025</time></dd>'))
  t.ok(html.includes('<dt>Valid until</dt><dd><time datetime="2026-11-25T00:00:00.000Z">25 November 2026</time></dd>'))
  t.ok(html.includes(`<a href="${PUBLIC_URL}/verify">Verify a badge</a>`), 'the footer links to the verify page')
  t.notMatch(html, /<script/i, 'no scripts at all: the Content-Security-Policy forbids them')
})

t.test('the badge page links to the signed credential and the baked downloads', async (t) => {
  const html = pageOf()
  t.ok(html.includes(`<a href="${URL_OF}" type="application/ld+json">View the signed credential (JSON)</a>`))
  t.ok(html.includes(`<a href="${URL_OF}/badge.png" download>Download the badge image (PNG)</a>`))
  t.ok(html.includes(`<a href="${URL_OF}/badge.svg" download>Download the badge image (SVG)</a>`))
  t.ok(html.includes(`<link rel="alternate" type="application/ld+json" href="${URL_OF}">`))
})

t.test('a badge without a baked PNG shows and shares the SVG, and offers no PNG download', async (t) => {
  const html = pageOf(undefined, undefined, { png: null, svg: `${URL_OF}/badge.svg` })
  t.ok(html.includes(`<img class="badge" src="${URL_OF}/badge.svg" alt="Badge: Safe Welding">`))
  t.equal(meta(html, 'og:image'), `${URL_OF}/badge.svg`)
  t.equal(meta(html, 'twitter:image'), `${URL_OF}/badge.svg`)
  t.notMatch(html, /PNG/)
})

t.test('the status word says what a person needs to know, in words, with the checks behind "How this was checked"', async (t) => {
  const cases: [string, Check[], string, string][] = [
    ['verified', PASSED, 'Verified', 'status-verified'],
    ['revoked', REVOKED, 'Revoked', 'status-revoked'],
    ['expired', EXPIRED, 'Expired', 'status-expired'],
    ['not yet valid', NOT_YET, 'Not yet valid', 'status-not-yet-valid'],
    ['suspended', SUSPENDED, 'Not verified', 'status-not-verified'],
    ['forged', FORGED, 'Not verified', 'status-not-verified']
  ]
  for (const [name, checks, word, className] of cases) {
    const html = pageOf(undefined, checks)
    t.equal(statusOf(html), word, name)
    t.ok(html.includes(`<div class="status ${className}">`), `${name}: coloured as well`)
    const details = /<details>\n<summary>How this was checked<\/summary>\n([\s\S]*?)<\/details>/.exec(html)?.[1] ?? ''
    for (const check of checks) t.ok(details.includes(escapeHtml(check.message)), `${name}: ${check.check} is listed`)
  }
  const revoked = pageOf(undefined, REVOKED)
  t.ok(revoked.includes('<li><strong>Revocation status</strong>: <span class="check-status check-failed">Failed</span>. Revoked by its issuer: left the course</li>'),
    'each check by name, its status as text, and its message')
})

t.test('a revoked check that did not fail, or an expiry message on another check, does not decide the word', async (t) => {
  const warned = replaced({ check: 'status', status: 'warning', message: 'Revoked list could not be refreshed' })
  t.equal(statusOf(pageOf(undefined, warned)), 'Verified')
  const misplaced = replaced({ check: 'proof', status: 'failed', message: 'Expired key' })
  t.equal(statusOf(pageOf(undefined, misplaced)), 'Not verified')
})

t.test('hostile text from a credential or a report shows as text on both pages, never as markup', async (t) => {
  const credential = credentialOf(
    { issuer: { id: 'did:web:badges.example', name: HOSTILE, url: 'https://northwind.example/' } },
    { name: HOSTILE, description: HOSTILE, criteria: { narrative: HOSTILE } },
    { name: HOSTILE })
  const checks = PASSED.map((check) => ({ ...check, message: HOSTILE }))
  const endorsements: EndorsementReport[] = [{ id: null, issuer: { id: null, name: HOSTILE }, verified: true, checks }]
  const pages = {
    badge: credentialPage(modelOf(credential, checks)),
    result: verifyResultPage(reportOf(credential, checks, { endorsements }))
  }
  for (const [name, html] of Object.entries(pages)) {
    t.notMatch(html, /<script/i, `${name}: no <script> element`)
    t.notMatch(html, /alert\(1\)<\//, `${name}: no closing tag from the probe`)
  }
  const badge = pages.badge
  t.ok(badge.includes(`<h1>${ESCAPED}</h1>`), 'achievement name')
  t.ok(badge.includes(`alt="Badge: ${ESCAPED}"`), 'alt text')
  t.ok(badge.includes(`<title>${ESCAPED}</title>`), 'title')
  t.ok(badge.includes(`<p>${ESCAPED}</p>`), 'description')
  t.ok(badge.includes(`<p class="narrative">${ESCAPED}</p>`), 'criteria')
  t.ok(badge.includes(`<dd><a href="https://northwind.example/">${ESCAPED}</a></dd>`), 'issuer name')
  t.ok(badge.includes(`<dt>Awarded to</dt><dd>${ESCAPED}</dd>`), 'recipient name')
  t.equal(badge.split(`</span>. ${ESCAPED}</li>`).length - 1, checks.length, 'every check message')
  const result = pages.result
  t.ok(result.includes(`<dt>Achievement</dt><dd>${ESCAPED}</dd>`), 'result: achievement name')
  t.ok(result.includes(`<h3>Endorsed by ${ESCAPED}</h3>`), 'result: endorser')
  t.equal(result.split(`</span>. ${ESCAPED}</li>`).length - 1, checks.length * 2, 'result: every check message, the endorsement\'s too')
})

t.test('the Open Graph and Twitter tags describe the badge, escaped', async (t) => {
  const html = pageOf()
  t.equal(meta(html, 'og:type'), 'website')
  t.equal(meta(html, 'og:title'), 'Safe Welding')
  t.equal(meta(html, 'og:description'), 'Welds steel safely.')
  t.equal(meta(html, 'og:url'), URL_OF)
  t.equal(meta(html, 'og:image'), `${URL_OF}/badge.png`)
  t.equal(meta(html, 'twitter:card'), 'summary')
  t.equal(meta(html, 'twitter:title'), 'Safe Welding')
  t.equal(meta(html, 'twitter:description'), 'Welds steel safely.')
  t.equal(meta(html, 'twitter:image'), `${URL_OF}/badge.png`)

  const quoted = `"><script>alert(1)</script>`
  const hostile = pageOf(credentialOf({}, { name: quoted, description: quoted }))
  t.equal(meta(hostile, 'og:title'), escapeHtml(quoted), 'the quote cannot close the attribute')
  t.equal(meta(hostile, 'twitter:description'), escapeHtml(quoted))
  t.notMatch(hostile, /<script/i)
})

t.test('a badge without a description is shared as its name and issuer', async (t) => {
  t.equal(meta(pageOf(credentialOf({}, { description: undefined })), 'og:description'), 'Safe Welding: an Open Badge issued by Northwind College')
  const unnamedIssuer = credentialOf({ issuer: { id: 'did:web:badges.example' } }, { description: undefined })
  t.equal(meta(pageOf(unnamedIssuer), 'og:description'), 'Safe Welding: an Open Badge')
})

t.test('"Add to LinkedIn profile" fills in the certification form', async (t) => {
  const url = linkedIn(pageOf())!
  t.equal(url.origin + url.pathname, 'https://www.linkedin.com/profile/add')
  t.same(Object.fromEntries(url.searchParams), {
    startTask: 'CERTIFICATION_NAME',
    name: 'Safe Welding',
    organizationName: 'Northwind College',
    issueYear: '2025',
    issueMonth: '11',
    expirationYear: '2026',
    expirationMonth: '11',
    certUrl: URL_OF,
    certId: CREDENTIAL_ID
  })
  t.ok(links(pageOf()).some((l) => l.label === 'Add to LinkedIn profile'))
})

t.test('the LinkedIn link encodes awkward names and leaves out what the badge does not state', async (t) => {
  const awkward = credentialOf({ validUntil: undefined, validFrom: '2025-01-31T23:59:59Z', issuer: { id: 'did:web:badges.example', name: 'R&D "Labs" #1' } },
    { name: 'C++ & Rust? 100%' })
  const url = linkedIn(pageOf(awkward))!
  t.equal(url.searchParams.get('name'), 'C++ & Rust? 100%')
  t.equal(url.searchParams.get('organizationName'), 'R&D "Labs" #1')
  t.equal(url.searchParams.get('issueMonth'), '1', 'January is 1, in UTC')
  t.notOk(url.searchParams.has('expirationYear'), 'no expiry')
  t.notOk(url.searchParams.has('expirationMonth'))

  const bare = credentialOf({ id: undefined, validFrom: 'sometime', validUntil: undefined, issuer: { id: 'did:web:badges.example' } })
  const params = linkedIn(pageOf(bare))!.searchParams
  t.same([...params.keys()], ['startTask', 'name', 'certUrl'], 'no issuer name, no readable date, no credential id')
})

t.test('a badge that does not check out is not offered for a LinkedIn profile', async (t) => {
  for (const checks of [REVOKED, EXPIRED, FORGED]) t.equal(linkedIn(pageOf(undefined, checks)), undefined)
})

t.test('the page never shows the recipient\'s email, its hash or the subject\'s identifier', async (t) => {
  const credential = credentialOf({}, {}, { id: `mailto:${EMAIL}`, identifier: [{ type: 'IdentityObject', identityType: 'emailAddress', hashed: false, identityHash: EMAIL }] })
  for (const html of [pageOf(credential), pageOf(), verifyResultPage(reportOf(credential)), verifyResultPage(reportOf(credentialOf()))]) {
    t.notOk(html.includes(EMAIL), 'no email')
    t.notOk(html.includes(HASH), 'no identity hash')
    t.notOk(html.includes('pepper'), 'no salt')
    t.notOk(html.includes('mailto:'), 'no subject id')
  }
})

t.test('only http(s) URLs from a credential become links', async (t) => {
  const cases = ['javascript:alert(1)', 'JavaScript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'not a url', 42]
  for (const url of cases) {
    const credential = credentialOf({ issuer: { id: 'did:web:badges.example', name: 'Northwind College', url } },
      { criteria: { id: url, narrative: 'Pass the practical.' } })
    for (const html of [pageOf(credential), verifyResultPage(reportOf(credential))]) {
      t.ok(html.includes('<dt>Issued by</dt><dd>Northwind College</dd>'), `${String(url)}: the issuer name is text`)
      t.notOk(links(html).some((l) => !/^(https?:|\/)/.test(l.href)), `${String(url)}: every link is http(s) or our own`)
      t.notMatch(html, /javascript:/i)
    }
  }
  const http = pageOf(credentialOf({ issuer: { id: 'did:web:badges.example', name: 'Northwind College', url: 'http://northwind.example' } }))
  t.ok(http.includes('<a href="http://northwind.example/">Northwind College</a>'), 'plain http is a link too')
})

t.test('what a credential leaves out, the page leaves out', async (t) => {
  const bare = credentialOf({ issuer: 'did:web:badges.example', validUntil: undefined, credentialSubject: [{ type: ['AchievementSubject'] }] })
  const html = pageOf(bare)
  t.ok(html.includes('<title>Open Badge</title>'), 'no achievement: a generic title')
  t.ok(html.includes('<h1>Open Badge</h1>'))
  t.ok(html.includes('alt="Badge: Open Badge"'))
  t.notMatch(html, /Criteria/)
  t.ok(html.includes('<dt>Awarded to</dt><dd>the holder of this badge</dd>'), 'an unnamed recipient')
  t.notMatch(html, /Valid until/)

  const noCriteriaLink = pageOf(credentialOf({}, { criteria: { narrative: 'Pass.' } }))
  t.ok(noCriteriaLink.includes('<h2>Criteria</h2>\n<p class="narrative">Pass.</p>\n<details>'))
  const onlyCriteriaLink = pageOf(credentialOf({}, { criteria: { id: 'https://northwind.example/c' } }))
  t.ok(onlyCriteriaLink.includes('<h2>Criteria</h2>\n<p><a href="https://northwind.example/c">The full criteria for this badge</a></p>\n<details>'))
  t.notMatch(pageOf(credentialOf({}, { criteria: 'Pass.' })), /Criteria/, 'criteria that are not an object')
  t.notMatch(pageOf(credentialOf({ credentialSubject: 'did:example:pat' })), /<dt>Awarded to/, 'a subject that is not an object')
})

t.test('a date the credential states badly is shown as given, not invented', async (t) => {
  const html = pageOf(credentialOf({ validFrom: 'last <Tuesday>' }))
  t.ok(html.includes('<dt>Issued</dt><dd>last &lt;Tuesday&gt;</dd>'))
})

t.test('the verify form has a labelled control for each way in, and one Verify button', async (t) => {
  const html = verifyFormPage()
  t.ok(html.includes('<form method="post" action="/verify" enctype="multipart/form-data">'))
  const controls = [...html.matchAll(/<(input|textarea)\b([^>]*)>/g)].map(([, tag, attributes]) => ({ tag, attributes: attributes! }))
  t.same(controls.map((c) => /name="([^"]+)"/.exec(c.attributes)?.[1]), ['credential', 'url', 'file', 'email'])
  for (const { attributes } of controls) {
    const id = /id="([^"]+)"/.exec(attributes)?.[1]
    t.ok(id !== undefined && html.includes(`<label for="${id}">`), `${id} has a label`)
    const hint = /aria-describedby="([^"]+)"/.exec(attributes)?.[1]
    t.ok(hint !== undefined && html.includes(`id="${hint}"`), `${id} has its hint`)
  }
  t.match(html, /<input id="url" name="url" type="url"/)
  t.match(html, /<input id="file" name="file" type="file" accept="\.png,\.svg,\.json,\.jwt,image\/png,image\/svg\+xml"/)
  t.match(html, /<input id="email" name="email" type="email"/)
  t.ok(html.includes('<label for="email">Check it was issued to this email</label>'))
  t.equal(html.match(/<button/g)?.length, 1)
  t.ok(html.includes('<button type="submit">Verify</button>'))
  t.equal(html.match(/<h1[ >]/g)?.length, 1)
  t.notMatch(html, /role="alert"/, 'no error box until there is an error')
  t.notMatch(html, /<script/i)
})

t.test('a problem with the upload is shown above the form, escaped, as an alert', async (t) => {
  const html = verifyFormPage({ error: `The upload is not a PNG or SVG image ${HOSTILE}` })
  const alert = /<div class="alert" role="alert">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? ''
  t.ok(alert.includes(`The upload is not a PNG or SVG image ${ESCAPED}`))
  t.ok(html.indexOf('role="alert"') < html.indexOf('<form'), 'above the form')
  t.notMatch(html, /<script/i)
})

t.test('the verify result shows the status word, the summary, every check and a way back', async (t) => {
  const cases: [Check[], string][] = [[PASSED, 'Verified'], [REVOKED, 'Revoked'], [EXPIRED, 'Expired'], [FORGED, 'Not verified']]
  for (const [checks, word] of cases) {
    const html = verifyResultPage(reportOf(credentialOf(), checks))
    t.equal(statusOf(html), word)
    t.ok(html.includes(`<title>${word}: verification result</title>`))
    t.equal(html.split('<li><strong>').length - 1, checks.length, `${word}: every check is listed`)
  }
  const html = verifyResultPage(reportOf(credentialOf(), REVOKED))
  t.equal(html.match(/<h1[ >]/g)?.length, 1)
  includesAll(t, html, [
    '<dt>Achievement</dt><dd>Safe Welding</dd>',
    '<dt>Issued by</dt><dd><a href="https://northwind.example/">Northwind College</a></dd>',
    '<dt>Awarded to</dt><dd>Pat Doe</dd>',
    '<time datetime="2025-11-25T09:30:00.000Z">25 November 2025</time>',
    '<time datetime="2026-11-25T00:00:00.000Z">25 November 2026</time>',
    '<span class="check-status check-passed">Passed</span>. Signed with eddsa-rdfc-2022',
    '<a href="/verify">Verify another badge</a>'
  ])
  t.notMatch(html, /Endorsements/, 'no endorsements section when there are none')
})

t.test('the verify result of something that is not a credential has no summary to show', async (t) => {
  const report: VerificationReport = {
    verified: false, format: 'none', credential: {},
    summary: { issuer: { id: null, name: null }, achievement: null, recipient: null, validFrom: null, validUntil: null },
    checks: [{ check: 'format', status: 'failed', message: 'Not a verifiable credential' }]
  }
  const html = verifyResultPage(report)
  t.equal(statusOf(html), 'Not verified')
  t.notMatch(html, /<dl>/)
  t.ok(html.includes('<span class="check-status check-failed">Failed</span>. Not a verifiable credential'))
  const named = verifyResultPage({ ...report, summary: { ...report.summary, issuer: { id: 'did:web:x.example', name: null }, achievement: { name: null } } })
  t.ok(named.includes('<dt>Issued by</dt><dd>did:web:x.example</dd>'), 'an unnamed issuer by its id')
  t.notMatch(named, /Achievement/, 'an unnamed achievement')
})

t.test('the verify result lists each endorsement with its own result and checks', async (t) => {
  const endorsements: EndorsementReport[] = [
    { id: 'urn:uuid:e1', issuer: { id: 'did:web:guild.example', name: 'Welders\' Guild' }, verified: true, checks: PASSED.slice(0, 2) },
    { id: null, issuer: { id: 'did:web:other.example', name: null }, verified: false, checks: [{ check: 'proof', status: 'failed', message: 'Bad signature' }] },
    { id: null, issuer: { id: null, name: null }, verified: true, checks: [{ check: 'status', status: 'skipped', message: 'No status' }] }
  ]
  const html = verifyResultPage(reportOf(credentialOf(), [...PASSED, { check: 'endorsements', status: 'warning', message: 'One endorsement failed' }], { endorsements }))
  includesAll(t, html, [
    '<h2>Endorsements</h2>',
    '<h3>Endorsed by Welders&#39; Guild</h3>\n<p><span class="check-status check-passed">Verified</span></p>',
    '<h3>Endorsed by did:web:other.example</h3>\n<p><span class="check-status check-failed">Not verified</span></p>',
    '<h3>Endorsed by an unnamed issuer</h3>',
    '<span class="check-status check-failed">Failed</span>. Bad signature',
    '<span class="check-status check-skipped">Skipped</span>. No status',
    '<span class="check-status check-warning">Warning</span>. One endorsement failed'
  ])
  t.notMatch(verifyResultPage(reportOf(credentialOf(), PASSED, { endorsements: [] })), /Endorsements/)
})
