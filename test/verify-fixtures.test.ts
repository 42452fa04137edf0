// The official 1EdTech validator's OB 3.0 fixtures, verified through POST /verify: each gets the validator's verdict,
// and the broken ones fail at the check the validator names (its OB30Tests expectations).
import t from 'tap'
import { buildTestApp, openTestDatabase } from './helpers/app.js'
import { fixtureBytes, fixtureText, fixtureWeb } from './helpers/fixture-web.js'

type Outcome = { verified: boolean; failing?: string[]; warnings?: string[] }

/** fixture → verified, the checks that must fail, and the checks that must warn. */
const EXPECTED: Record<string, Outcome> = {
  'simple.json': { verified: true },
  'simple.1ob': { verified: true },
  'simple-did-key-method.json': { verified: true, warnings: ['issuer'] },
  'simple-did-web-method.json': { verified: true },
  'simple-multiple-proofs.json': { verified: true },
  'simple-context-alias.json': { verified: true },
  'simple-context-version.json': { verified: true, warnings: ['format'] },
  'simple-eddsa-2022.json': { verified: true, warnings: ['format', 'schema', 'proof'] },
  'simple_v1.json': { verified: true, warnings: ['format', 'schema'] },
  'endorsement-valid.json': { verified: true },
  'simple-err-context.json': { verified: false, failing: ['format'] },
  'simple-err-type.json': { verified: false, failing: ['format', 'proof'] },
  'simple-err-issuer.json': { verified: false, failing: ['schema', 'issuer'] },
  'simple-err-credential-subject-type.json': { verified: false, failing: ['format', 'schema', 'proof'] },
  'simple-err-credential-subject-identifier-type.json': { verified: false, failing: ['format', 'schema', 'proof'] },
  'simple-err-credential-subject-result-type.json': { verified: false, failing: ['format', 'schema', 'proof'] },
  'simple-err-credential-subject-achievement-result-description-type.json': { verified: false, failing: ['format', 'schema', 'proof'] },
  'simple-err-credential-subject-profile-type.json': { verified: false, failing: ['format', 'schema', 'proof'] },
  'simple-err-evidence-type.json': { verified: false, failing: ['format', 'schema', 'proof'] },
  'simple-err-issuer-type.json': { verified: false, failing: ['format', 'schema', 'proof'] },
  'simple-err-issuer-parentorg-type.json': { verified: false, failing: ['format', 'schema', 'proof'] },
  'simple-err-issuer-otheridentifier-type.json': { verified: false, failing: ['format', 'schema', 'proof'] },
  'simple-err-proof-method.json': { verified: false, failing: ['proof'] },
  'simple-err-proof-method-no-scheme.json': { verified: false, failing: ['proof'] },
  'simple-err-proof-method-unknown-scheme.json': { verified: false, failing: ['proof'] },
  'simple-err-proof-method-unknown-did-method.json': { verified: false, failing: ['proof'] },
  'simple-err-proof-value.json': { verified: false, failing: ['proof'] },
  'simple-err-expired.json': { verified: false, failing: ['validity'] },
  'simple-err-issued.json': { verified: false, failing: ['schema', 'validity'] },
  'simple-noproof.json': { verified: false, failing: ['schema', 'proof'], warnings: ['format'] },
  'credential-status-revoked.json': { verified: false, failing: ['status'], warnings: ['format', 'schema'] },
  'endorsement-err-schema-status-refresh.json': { verified: false, failing: ['proof', 'status'], warnings: ['format', 'schema'] },
  'bit-string-list/credential-status-revoked.json': { verified: false, failing: ['status'] },
  'bit-string-list/credential-status-revoked-blank-nodes.json': { verified: false, failing: ['status'] },
  // The validator fails complete*.json on a schema reference it cannot load; here the revocation list cannot be reached.
  'complete.json': { verified: false, failing: ['status'], warnings: ['endorsements'] },
  'complete_v1.json': { verified: false, failing: ['format', 'schema', 'proof', 'validity', 'status'], warnings: ['endorsements'] },
  'simple.jwt': { verified: false, failing: ['format'] },
  'velocity.jwt': { verified: false, failing: ['format'] }
}

const BAKED: Record<string, Outcome & { format: string; type: string }> = {
  'simple-json.png': { verified: true, format: 'eddsa-rdfc-2022', type: 'image/png' },
  'simple-jwt.png': { verified: true, format: 'vc-jwt', type: 'image/png' },
  'simple-jwt_v1.png': { verified: true, format: 'vc-jwt', type: 'image/png', warnings: ['format', 'schema'] },
  'simple-json.svg': { verified: true, format: 'eddsa-rdfc-2022', type: 'image/svg+xml' },
  'simple-jwt.svg': { verified: true, format: 'vc-jwt', type: 'image/svg+xml' },
  'simple-jwt_v1.svg': { verified: true, format: 'vc-jwt', type: 'image/svg+xml', warnings: ['format', 'schema'] }
}

function statuses(checks: { check: string; status: string }[], status: string): string[] {
  return checks.filter((c) => c.status === status).map((c) => c.check)
}

t.test('the 1EdTech validator fixtures get the validator\'s verdict', async (t) => {
  const web = fixtureWeb()
  const { app } = await buildTestApp(t, await openTestDatabase(t, 'pglite'), { fetchDocument: web.fetch })
  for (const [file, expected] of Object.entries(EXPECTED)) {
    const text = fixtureText(file)
    const jwt = file.endsWith('.jwt')
    const res = await app.inject({
      method: 'POST', url: '/verify',
      headers: { 'content-type': jwt ? 'application/vc+jwt' : 'application/json' },
      payload: jwt ? text.trim() : text
    })
    t.equal(res.statusCode, 200, `${file}: a report`)
    const report = res.json()
    t.equal(report.verified, expected.verified, `${file}: verified is ${expected.verified}`)
    t.same(statuses(report.checks, 'failed'), expected.failing ?? [], `${file}: fails ${JSON.stringify(expected.failing ?? [])}`)
    t.same(statuses(report.checks, 'warning'), expected.warnings ?? [], `${file}: warns ${JSON.stringify(expected.warnings ?? [])}`)
    for (const check of report.checks) t.ok(check.message.length > 10, `${file}: ${check.check} says why`)
  }
})

t.test('the baked fixtures are extracted and verified', async (t) => {
  const web = fixtureWeb()
  const { app } = await buildTestApp(t, await openTestDatabase(t, 'pglite'), { fetchDocument: web.fetch })
  for (const [file, expected] of Object.entries(BAKED)) {
    const res = await app.inject({ method: 'POST', url: '/verify', headers: { 'content-type': expected.type }, payload: fixtureBytes(file) })
    t.equal(res.statusCode, 200, `${file}: a report`)
    const report = res.json()
    t.equal(report.verified, expected.verified, `${file}: verified`)
    t.equal(report.format, expected.format, `${file}: read as ${expected.format}`)
    t.same(statuses(report.checks, 'failed'), [], `${file}: nothing fails`)
    t.same(statuses(report.checks, 'warning'), expected.warnings ?? [], `${file}: warns ${JSON.stringify(expected.warnings ?? [])}`)
    t.match(report.summary, { issuer: { id: /^https:\/\// }, achievement: { name: String } }, `${file}: summary`)
  }
})

t.test('a revoked fixture names why, and the status list was verified before it was believed', async (t) => {
  const web = fixtureWeb()
  const { app } = await buildTestApp(t, await openTestDatabase(t, 'pglite'), { fetchDocument: web.fetch })
  const res = await app.inject({ method: 'POST', url: '/verify', payload: JSON.parse(fixtureText('bit-string-list/credential-status-revoked.json')) })
  const status = res.json().checks.find((c: { check: string }) => c.check === 'status')
  t.match(status, { status: 'failed', message: 'Revoked by its issuer' })
  t.ok(web.requested.some((url) => url.endsWith('/bit-string-list/testlist')), 'the list was fetched')
  t.ok(web.requested.includes('https://1edtech.edu/issuers/565049'), 'and its signer\'s key document')
})
