// One rule before every route's schema: no key or string a request sends may hold what PostgreSQL cannot store (U+0000,
// a lone UTF-16 surrogate). Each is a 400 naming the field, on every route at once, and nothing is written.
import type { InjectOptions } from 'fastify'
import { sql } from 'kysely'
import t from 'tap'
import { unstorable, unstorableFields } from '../src/http/validation.js'
import { admin, assertProblem, buildTestApp, createApiKey, createIssuer, onEachDatabase } from './helpers/app.js'
import { createAchievement } from './helpers/credentials.js'

const NUL = '\u0000'
const LONE_HIGH = '\ud800'
const LONE_LOW = '\udc00'

await onEachDatabase(t, async (t, database) => {
  const { app, db } = await buildTestApp(t, database)
  const issuer = await createIssuer(app)
  const badge = await createAchievement(app, issuer.id)
  const issued = await app.inject({ method: 'POST', url: '/v1/credentials', headers: admin, payload: { achievementId: badge.id, recipient: { email: 'ada@example.com' } } })
  t.equal(issued.statusCode, 201, issued.body)
  const credentialId = issued.json().id as string

  const rowCounts = async () => {
    const { rows } = await sql<Record<string, string>>`select
      (select count(*) from issuers) as issuers, (select count(*) from api_keys) as api_keys,
      (select count(*) from achievements) as achievements, (select count(*) from credentials) as credentials,
      (select count(*) from audit_events) as audit_events, (select count(*) from credentials where revoked_at is not null) as revoked`.execute(db)
    return rows[0]
  }
  const vcApiCredential = (subject: Record<string, unknown>) => ({
    credential: {
      '@context': ['https://www.w3.org/ns/credentials/v2', { name: 'https://schema.org/name' }],
      type: ['VerifiableCredential'], issuer: issuer.did, validFrom: '2025-01-01T00:00:00Z',
      credentialSubject: { id: 'did:example:learner', ...subject }
    }
  })

  const cases: [label: string, request: InjectOptions, pointer: string, where: string][] = [
    ['issuer name', { method: 'POST', url: '/v1/issuers', payload: { name: `North${NUL}wind`, url: 'https://x.example' } }, '/name', 'body'],
    ['issuer description', { method: 'POST', url: '/v1/issuers', payload: { name: 'N', url: 'https://x.example', description: `a${NUL}` } }, '/description', 'body'],
    ['issuer url', { method: 'POST', url: '/v1/issuers', payload: { name: 'N', url: `https://x.example/${NUL}` } }, '/url', 'body'],
    ['issuer name, lone surrogate', { method: 'PATCH', url: `/v1/issuers/${issuer.id}`, payload: { name: `North${LONE_HIGH}wind` } }, '/name', 'body'],
    ['issuer description, lone low surrogate', { method: 'PATCH', url: `/v1/issuers/${issuer.id}`, payload: { description: `${LONE_LOW}x` } }, '/description', 'body'],
    ['API key name', { method: 'POST', url: '/v1/api-keys', payload: { issuerId: issuer.id, name: `LMS${NUL}` } }, '/name', 'body'],
    ['achievement tag', { method: 'POST', url: `/v1/issuers/${issuer.id}/achievements`, payload: { name: 'B', description: 'd', criteria: { narrative: 'n' }, tags: ['ok', `t${NUL}`] } }, '/tags/1', 'body'],
    ['achievement tag, lone surrogate (PostgreSQL jsonb refuses it)', { method: 'POST', url: `/v1/issuers/${issuer.id}/achievements`, payload: { name: 'B', description: 'd', criteria: { narrative: 'n' }, tags: [`a${LONE_LOW}`] } }, '/tags/0', 'body'],
    ['achievement alignment', {
      method: 'POST', url: `/v1/issuers/${issuer.id}/achievements`,
      payload: { name: 'B', description: 'd', criteria: { narrative: 'n' }, alignments: [{ targetName: `Std${NUL}`, targetUrl: 'https://standards.example/1' }] }
    }, '/alignments/0/targetName', 'body'],
    ['recipient name', { method: 'POST', url: '/v1/credentials', payload: { achievementId: badge.id, recipient: { email: 'b@example.com', name: `B${NUL}` } } }, '/recipient/name', 'body'],
    ['revocation reason', { method: 'POST', url: `/v1/credentials/${credentialId}/revoke`, payload: { reason: `fraud${NUL}` } }, '/reason', 'body'],
    ['VC-API credential field', { method: 'POST', url: '/credentials/issue', payload: vcApiCredential({ name: `Pat${NUL}` }) }, '/credential/credentialSubject/name', 'body'],
    ['VC-API credential key', { method: 'POST', url: '/credentials/issue', payload: vcApiCredential({ [`na${NUL}me`]: 'Pat' }) }, `/credential/credentialSubject/na${NUL}me`, 'body'],
    ['query parameter', { method: 'GET', url: '/v1/credentials?email=a%00b%40example.com' }, '/email', 'querystring'],
    ['path parameter', { method: 'GET', url: '/issuers/%00' }, '/id', 'params']
  ]

  await t.test('a NUL or a lone surrogate in any stored field is a 400 naming the field, and nothing is written', async (t) => {
    const before = await rowCounts()
    for (const [label, request, pointer, where] of cases) {
      const res = await app.inject({ ...request, headers: { ...admin, ...request.headers } })
      const body = assertProblem(t, res, 400, 'validation-failed')
      t.same(body.errors.map((error: { pointer: string; in: string }) => [error.pointer, error.in]), [[pointer, where]], `${label}: names ${JSON.stringify(pointer)}`)
      t.match(body.errors[0].message, /NUL character|lone UTF-16 surrogate/, `${label}: says why`)
    }
    t.same(await rowCounts(), before, 'no row was written')
  })

  await t.test('a date-time before year 1, which PostgreSQL cannot store, is a 400 naming the field', async (t) => {
    const before = await rowCounts()
    for (const validFrom of ['0000-06-01T00:00:00Z', '0001-01-01T00:30:00+01:00']) {
      const res = await app.inject({ method: 'POST', url: '/v1/credentials', headers: admin, payload: { achievementId: badge.id, recipient: { email: 'b@example.com' }, validFrom } })
      const body = assertProblem(t, res, 400, 'validation-failed')
      t.match(body.errors, [{ pointer: '/validFrom', message: /from year 1/ }], validFrom)
    }
    t.same(await rowCounts(), before, 'no row was written')
  })

  await t.test('the same rule answers the OAuth endpoints in their own error shape', async (t) => {
    const res = await app.inject({
      method: 'POST', url: '/oid4vci/token', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=a%00b`
    })
    t.equal(res.statusCode, 400)
    t.match(res.json(), { error: 'invalid_request', error_description: /pre-authorized_code.*NUL/ })
  })

  await t.test('text with well-formed non-ASCII (accents, CJK, emoji as surrogate pairs) is stored as sent', async (t) => {
    const name = 'Zoë 学校 🎓'
    const res = await app.inject({ method: 'PATCH', url: `/v1/issuers/${issuer.id}`, headers: admin, payload: { name } })
    t.equal(res.statusCode, 200, res.body)
    t.equal(res.json().name, name)
    const { key } = await createApiKey(app, issuer.id)
    t.ok(key, 'and the app is healthy after the refusals')
  })
})

t.test('unstorableFields names each field in the order it was sent, keys too, at most 20', async (t) => {
  t.same(unstorableFields({ a: 'ok', b: `x${NUL}`, c: [1, `${LONE_HIGH}`, { [`k${NUL}`]: 'v' }] }).map((f) => f.path), [['b'], ['c', 1], ['c', 2, `k${NUL}`]])
  t.equal(unstorableFields(Array.from({ length: 100 }, () => NUL)).length, 20)
  t.same(unstorableFields({ a: 1, b: null, c: true, d: 'fine', e: '🎓' }), [])
  t.equal(unstorable('\ud83c\udf93'), undefined, 'a surrogate pair is well formed')
  t.match(unstorable(`${LONE_HIGH}a`), /lone UTF-16 surrogate/)
  t.match(unstorable(`a${LONE_LOW}`), /lone UTF-16 surrogate/)
})

t.test('a body nested deeper than the call stack is walked without overflowing it', async (t) => {
  let deep: unknown = `bottom${NUL}`
  for (let i = 0; i < 200_000; i++) deep = [deep]
  const [found] = unstorableFields(deep)
  t.equal(found!.path.length, 200_000)
})
