// Every credential Lanyard issues verifies through POST /verify, in every format, for did:web and did:key issuers; any
// single changed field breaks the proof; expiry, revocation and a wrong recipient fail the check that names them.
import t from 'tap'
import { admin, buildTestApp, createIssuer, onEachDatabase } from './helpers/app.js'
import { createAchievement } from './helpers/credentials.js'

type Variant = { format: string; jwtAlg?: string }
type Json = Record<string, any>

const WEB_VARIANTS: Variant[] = [
  { format: 'eddsa-rdfc-2022' }, { format: 'Ed25519Signature2020' },
  { format: 'vc-jwt' }, { format: 'vc-jwt', jwtAlg: 'ES256' }, { format: 'vc-jwt', jwtAlg: 'EdDSA' }
]
const KEY_VARIANTS: Variant[] = [{ format: 'eddsa-rdfc-2022' }, { format: 'Ed25519Signature2020' }, { format: 'vc-jwt', jwtAlg: 'EdDSA' }]

const label = (v: Variant) => (v.jwtAlg === undefined ? v.format : `${v.format} ${v.jwtAlg}`)

/** Every leaf of a JSON document, as a path, except the @context entries (changing those is a format failure, tested apart). */
function leafPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((item, index) => leafPaths(item, [...path, index]))
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).filter(([key]) => key !== '@context').flatMap(([key, item]) => leafPaths(item, [...path, key]))
  }
  return [path]
}

/** A copy with the leaf at `path` changed: strings get a character more, numbers one more, booleans flipped. */
function tampered(document: Json, path: (string | number)[]): Json {
  const copy = structuredClone(document)
  let node: any = copy
  for (const key of path.slice(0, -1)) node = node[key]
  const last = path.at(-1)!
  const value = node[last]
  node[last] = typeof value === 'string' ? `${value}x` : typeof value === 'number' ? value + 1 : !value
  return copy
}

function jwtWithPayload(jwt: string, payload: Json): string {
  const [header, , signature] = jwt.split('.')
  return [header, Buffer.from(JSON.stringify(payload)).toString('base64url'), signature].join('.')
}

const check = (report: Json, name: string) => report.checks.find((c: Json) => c.check === name)

await onEachDatabase(t, async (t, database) => {
  const { app } = await buildTestApp(t, database)
  const verify = async (payload: unknown, contentType = 'application/json') => {
    const res = await app.inject({ method: 'POST', url: '/verify', headers: { 'content-type': contentType }, payload: payload as string })
    if (res.statusCode !== 200) throw new Error(`verify answered ${res.statusCode}: ${res.body}`)
    return res.json()
  }
  const issue = async (payload: Json) => {
    const res = await app.inject({ method: 'POST', url: '/v1/credentials', headers: admin, payload })
    if (res.statusCode !== 201) throw new Error(`issue answered ${res.statusCode}: ${res.body}`)
    return res.json()
  }
  const webIssuer = await createIssuer(app)
  const keyIssuer = await createIssuer(app, { did: 'key' })
  const webBadge = await createAchievement(app, webIssuer.id)
  const keyBadge = await createAchievement(app, keyIssuer.id)

  for (const [kind, issuer, badge, variants] of [['did:web', webIssuer, webBadge, WEB_VARIANTS], ['did:key', keyIssuer, keyBadge, KEY_VARIANTS]] as const) {
    for (const variant of variants) {
      await t.test(`${kind} ${label(variant)}: verifies; every single-field change fails proof`, async (t) => {
        const issued = await issue({ achievementId: badge.id, recipient: { email: 'learner@example.com', name: 'Ada' }, ...variant })
        const report = issued.jwt === undefined ? await verify(issued.credential) : await verify(issued.jwt, 'application/vc+jwt')
        t.equal(report.verified, true, JSON.stringify(report.checks))
        t.equal(report.format, variant.format)
        t.same(report.checks.map((c: Json) => [c.check, c.status]), [
          ['format', 'passed'], ['schema', 'passed'], ['proof', 'passed'], ['issuer', 'passed'], ['validity', 'passed'], ['status', 'passed']
        ])
        t.match(report.summary, { issuer: { id: issuer.did, name: 'Test College' }, achievement: { name: 'Safe Welding' }, recipient: { name: 'Ada', hashedIdentifier: true } })

        const byUrl = await verify({ url: `https://badges.example.edu/credentials/${issued.id}` })
        t.equal(byUrl.verified, true, 'verifies by its URL, read locally')
        t.equal(byUrl.format, variant.format)

        const document: Json = issued.jwt === undefined ? issued.credential : JSON.parse(Buffer.from(issued.jwt.split('.')[1], 'base64url').toString('utf8'))
        const paths = leafPaths(document)
        t.ok(paths.length > 25, `${paths.length} fields to change`)
        for (const path of paths) {
          const changed = tampered(document, path)
          const tamperedReport = issued.jwt === undefined ? await verify(changed) : await verify(jwtWithPayload(issued.jwt, changed), 'application/vc+jwt')
          t.equal(tamperedReport.verified, false, `changing ${path.join('.')} is caught`)
          // A change that makes it no longer a credential at all (type without VerifiableCredential) is stopped by format first.
          const caughtBy = check(tamperedReport, 'proof').status === 'failed' ? 'proof' : check(tamperedReport, 'format').status === 'failed' ? 'format' : 'nothing'
          t.equal(caughtBy, path.join('.') === 'type.0' ? 'format' : 'proof', `changing ${path.join('.')} fails ${caughtBy}`)
        }
        const otherContext = structuredClone(document)
        otherContext['@context'][1] = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json'
        t.equal((issued.jwt === undefined ? await verify(otherContext) : await verify(jwtWithPayload(issued.jwt, otherContext), 'application/vc+jwt')).verified, false, 'swapping a context is caught')
      })
    }
  }

  await t.test('an expired badge fails validity, and nothing else', async (t) => {
    const issued = await issue({ achievementId: webBadge.id, recipient: { email: 'learner@example.com' }, validFrom: '2020-01-01T00:00:00Z', validUntil: '2021-01-01T00:00:00Z' })
    const report = await verify(issued.credential)
    t.equal(report.verified, false)
    t.match(check(report, 'validity'), { status: 'failed', message: 'Expired on 2021-01-01T00:00:00Z' })
    t.equal(check(report, 'proof').status, 'passed')
    t.equal(report.summary.validUntil, '2021-01-01T00:00:00Z')
  })

  await t.test('a badge that is not valid yet fails validity', async (t) => {
    const issued = await issue({ achievementId: webBadge.id, recipient: { email: 'learner@example.com' }, validFrom: '2099-01-01T00:00:00Z' })
    t.match(check(await verify(issued.credential), 'validity'), { status: 'failed', message: /^Not valid yet/ })
  })

  for (const variant of [{ format: 'eddsa-rdfc-2022' }, { format: 'vc-jwt' }]) {
    await t.test(`${label(variant)}: a revoked badge fails status; before revoking it passes`, async (t) => {
      const issued = await issue({ achievementId: webBadge.id, recipient: { email: 'learner@example.com' }, ...variant })
      const input = issued.jwt === undefined ? { credential: issued.credential } : { jwt: issued.jwt }
      t.match(check(await verify(input), 'status'), { status: 'passed', message: /^Not revoked/ })
      const revoked = await app.inject({ method: 'POST', url: `/v1/credentials/${issued.id}/revoke`, headers: admin, payload: { reason: 'issued in error' } })
      t.equal(revoked.statusCode, 200)
      const report = await verify(input)
      t.equal(report.verified, false)
      t.match(check(report, 'status'), { status: 'failed', message: 'Revoked by its issuer' })
      t.equal(check(report, 'proof').status, 'passed', 'the signature itself is still good')
    })
  }

  await t.test('the recipient check: the right email passes (any case), another fails', async (t) => {
    const issued = await issue({ achievementId: webBadge.id, recipient: { email: 'learner@example.com' } })
    for (const email of ['learner@example.com', 'Learner@Example.com']) {
      const report = await verify({ credential: issued.credential, recipient: { email } })
      t.equal(report.verified, true, email)
      t.match(check(report, 'recipient'), { status: 'passed' })
    }
    const wrong = await verify({ credential: issued.credential, recipient: { email: 'someone.else@example.com' } })
    t.equal(wrong.verified, false)
    t.match(check(wrong, 'recipient'), { status: 'failed', message: 'Not issued to someone.else@example.com' })
    t.equal(wrong.checks.at(-1).check, 'recipient', 'reported last')
  })

  await t.test('a DID recipient is checked against credentialSubject.id', async (t) => {
    const did = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK'
    const issued = await issue({ achievementId: webBadge.id, recipient: { did } })
    t.match(check(await verify({ credential: issued.credential, recipient: { id: did } }), 'recipient'), { status: 'passed' })
    t.match(check(await verify({ credential: issued.credential, recipient: { id: 'did:example:other' } }), 'recipient'), { status: 'failed' })
    t.match(check(await verify({ credential: issued.credential, recipient: { email: 'a@example.com' } }), 'recipient'), { status: 'failed', message: /does not name its recipient by email/ })
  })
})
