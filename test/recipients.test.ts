import t from 'tap'
import { admin, bearer, buildTestApp, createApiKey, createIssuer, onEachDatabase } from './helpers/app.js'
import { createAchievement } from './helpers/credentials.js'

await onEachDatabase(t, async (t, database) => {
  const { app } = await buildTestApp(t, database)
  const issuer = await createIssuer(app)
  const other = await createIssuer(app)
  const badge = await createAchievement(app, issuer.id)
  const issue = (recipient: Record<string, string | undefined>) => app.inject({
    method: 'POST', url: '/v1/credentials', headers: admin, payload: { achievementId: badge.id, recipient, format: 'vc-jwt', jwtAlg: 'EdDSA' }
  })
  for (const recipient of [
    { email: 'Lin@Example.com', name: 'Lin', externalId: 'moodle-7' }, { email: 'lin@example.com' }, { did: 'did:example:kai' }, { url: 'https://sam.example.net/' }
  ]) t.equal((await issue(recipient)).statusCode, 201)
  const list = (query = '', headers = admin) => app.inject({ method: 'GET', url: `/v1/issuers/${issuer.id}/recipients${query}`, headers })

  await t.test('an issuer\'s recipients are one row per person, however many badges', async (t) => {
    const { items, nextCursor } = (await list()).json()
    t.equal(nextCursor, null)
    t.same(items.map((r: { identityType: string; identity: string }) => `${r.identityType}:${r.identity}`),
      ['email:lin@example.com', 'did:did:example:kai', 'url:https://sam.example.net/'])
    t.match(items[0], { issuerId: issuer.id, name: 'Lin', externalId: 'moodle-7' })
  })

  await t.test('they can be found by email (any case) or by the LMS\'s id, and paged', async (t) => {
    t.same((await list('?email=LIN@example.COM')).json().items.map((r: { name: string }) => r.name), ['Lin'])
    t.same((await list('?externalId=moodle-7')).json().items.length, 1)
    t.same((await list('?externalId=nobody')).json().items, [])
    const first = (await list('?limit=2')).json()
    const second = (await list(`?limit=2&cursor=${first.nextCursor}`)).json()
    t.equal(first.items.length + second.items.length, 3)
    t.equal(second.nextCursor, null)
  })

  await t.test('another tenant\'s recipients are a 404, and bad queries a 400', async (t) => {
    const { key } = await createApiKey(app, other.id)
    t.equal((await list('', bearer(key))).statusCode, 404)
    const bad = await list('?email=nope')
    t.equal(bad.statusCode, 400)
    t.match(bad.json().errors, [{ pointer: '/email', in: 'querystring' }])
  })
})
