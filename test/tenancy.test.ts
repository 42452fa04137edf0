import t from 'tap'
import { admin, bearer, buildTestApp, createApiKey, createIssuer, onEachDatabase } from './helpers/app.js'

await onEachDatabase(t, async (t, database) => {
  const { app } = await buildTestApp(t, database)
  const alpha = await createIssuer(app, { name: 'Alpha Academy' })
  const beta = await createIssuer(app, { name: 'Beta Bootcamp' })
  const alphaKey = await createApiKey(app, alpha.id)
  const betaKey = await createApiKey(app, beta.id)

  /** Every issuer-scoped admin route, for a given issuer id. */
  const issuerRoutes = (id: string) => [
    { method: 'GET' as const, url: `/v1/issuers/${id}` },
    { method: 'PATCH' as const, url: `/v1/issuers/${id}`, payload: { name: 'Taken over' } },
    { method: 'GET' as const, url: `/v1/issuers/${id}/keys` },
    { method: 'POST' as const, url: `/v1/issuers/${id}/keys/rotate` },
    { method: 'GET' as const, url: `/v1/audit-events?issuerId=${id}` }
  ]

  await t.test('an API key sees its own issuer', async (t) => {
    for (const route of issuerRoutes(alpha.id)) {
      const res = await app.inject({ ...route, headers: bearer(alphaKey.key) })
      t.equal(res.statusCode, 200, `${route.method} ${route.url}`)
    }
  })

  await t.test('an API key gets 404 for every route of another issuer, and changes nothing', async (t) => {
    for (const [key, other] of [[alphaKey, beta], [betaKey, alpha]] as const) {
      const before = (await app.inject({ method: 'GET', url: `/v1/issuers/${other.id}`, headers: admin })).json()
      for (const route of issuerRoutes(other.id)) {
        const res = await app.inject({ ...route, headers: bearer(key.key) })
        t.equal(res.statusCode, 404, `${route.method} ${route.url}`)
        t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
        t.match(res.json(), { status: 404, code: 'not-found', detail: 'issuer was not found' }, 'indistinguishable from a missing issuer')
      }
      const after = (await app.inject({ method: 'GET', url: `/v1/issuers/${other.id}`, headers: admin })).json()
      t.same(after, before, 'the other issuer is untouched')
    }
  })

  await t.test('an API key lists only its own issuer and its own audit events', async (t) => {
    const list = (await app.inject({ method: 'GET', url: '/v1/issuers', headers: bearer(betaKey.key) })).json()
    t.same(list.items.map((i: { id: string }) => i.id), [beta.id])
    const events = (await app.inject({ method: 'GET', url: '/v1/audit-events', headers: bearer(betaKey.key) })).json()
    t.ok(events.items.length > 0)
    t.ok(events.items.every((e: { issuerId: string }) => e.issuerId === beta.id), 'no other issuer\'s events')
  })

  await t.test('API keys cannot create issuers or manage API keys', async (t) => {
    const attempts = [
      { method: 'POST' as const, url: '/v1/issuers', payload: { name: 'Rogue', url: 'https://rogue.example' } },
      { method: 'POST' as const, url: '/v1/api-keys', payload: { issuerId: alpha.id } },
      { method: 'GET' as const, url: '/v1/api-keys' },
      { method: 'DELETE' as const, url: `/v1/api-keys/${betaKey.id}` }
    ]
    for (const attempt of attempts) {
      const res = await app.inject({ ...attempt, headers: bearer(alphaKey.key) })
      t.equal(res.statusCode, 403, `${attempt.method} ${attempt.url}`)
      t.equal(res.json().code, 'admin-only')
    }
  })

  await t.test('no token, a malformed header or a wrong token answers 401', async (t) => {
    for (const headers of [{}, { authorization: 'Basic abc' }, { authorization: 'Bearer' }, bearer('lny_nope_nope'), bearer(`${alphaKey.key}x`)]) {
      const res = await app.inject({ method: 'GET', url: '/v1/issuers', headers })
      t.equal(res.statusCode, 401, JSON.stringify(headers))
      t.match(res.json(), { type: 'urn:lanyard:problem:unauthorized', status: 401 })
      t.match(res.headers['www-authenticate'], /^Bearer/)
    }
  })

  await t.test('an API key is shown once, stored as a hash, and stops working when revoked', async (t) => {
    const key = await createApiKey(app, alpha.id)
    t.match(key.key, /^lny_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}$/)
    const rows = await database.db.selectFrom('api_keys').selectAll().where('id', '=', key.id).execute()
    // The secret is all after the second underscore (it may hold underscores itself: base64url).
    t.notOk(JSON.stringify(rows).includes(key.key.split('_').slice(2).join('_')), 'the secret is not in the database')
    const listed = (await app.inject({ method: 'GET', url: `/v1/api-keys?issuerId=${alpha.id}`, headers: admin })).json()
    const entry = listed.items.find((k: { id: string }) => k.id === key.id)
    t.match(entry, { prefix: key.key.split('_').slice(0, 2).join('_'), revokedAt: null })
    t.notOk('key' in entry, 'lists never show the secret')

    t.equal((await app.inject({ method: 'GET', url: '/v1/issuers', headers: bearer(key.key) })).statusCode, 200)
    const revoked = await app.inject({ method: 'DELETE', url: `/v1/api-keys/${key.id}`, headers: admin })
    t.equal(revoked.statusCode, 200)
    t.type(revoked.json().revokedAt, 'string')
    const again = await app.inject({ method: 'DELETE', url: `/v1/api-keys/${key.id}`, headers: admin })
    t.equal(again.statusCode, 200, 'revoking twice is harmless')
    t.equal(again.json().revokedAt, revoked.json().revokedAt, 'and keeps the first revocation time')
    t.equal((await app.inject({ method: 'GET', url: '/v1/issuers', headers: bearer(key.key) })).statusCode, 401)
  })

  await t.test('the admin pages through API keys', async (t) => {
    const seen = []
    let cursor: string | null = null
    do {
      const url: string = `/v1/api-keys?limit=1${cursor ? `&cursor=${cursor}` : ''}`
      const page = (await app.inject({ method: 'GET', url, headers: admin })).json()
      t.ok(page.items.length <= 1)
      seen.push(...page.items.map((k: { id: string }) => k.id))
      cursor = page.nextCursor
    } while (cursor !== null)
    t.ok(seen.includes(alphaKey.id) && seen.includes(betaKey.id))
    t.equal(new Set(seen).size, seen.length, 'no key twice')
  })

  await t.test('an API key for a missing issuer is refused with a pointer to the field', async (t) => {
    const res = await app.inject({ method: 'POST', url: '/v1/api-keys', headers: admin, payload: { issuerId: '00000000-0000-4000-8000-000000000000' } })
    t.equal(res.statusCode, 422)
    t.match(res.json(), { code: 'unknown-issuer', errors: [{ pointer: '/issuerId' }] })
    t.equal((await app.inject({ method: 'DELETE', url: '/v1/api-keys/00000000-0000-4000-8000-000000000000', headers: admin })).statusCode, 404)
  })
})
