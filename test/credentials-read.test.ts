import { Writable } from 'node:stream'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { PNG } from 'pngjs'
import t, { type Test } from 'tap'
import { hashToken } from '../src/api-keys/tokens.js'
import { buildApp } from '../src/app.js'
import { extractBakedCredential } from '../src/baking/extract.js'
import { loadConfig } from '../src/config.js'
import { createKeyring } from '../src/crypto/keyring.js'
import {
  ADMIN_TOKEN, admin, bearer, buildTestApp, createApiKey, createIssuer, onEachDatabase, assertProblem, TEST_MASTER_KEY, type TestDatabase
} from './helpers/app.js'
import { createAchievement } from './helpers/credentials.js'
import { solidPngDataUri } from './helpers/png.js'
import { forgePng, overlongItxtPng, pngDataUri } from './helpers/png-forge.js'

const MISSING = '00000000-0000-4000-8000-000000000000'
const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'
const HOSTILE = '<script>alert(1)</script> & Co'

type Reply = Awaited<ReturnType<FastifyInstance['inject']>>
type View = { id: string; status: string; credential: Record<string, any>; jwt?: string; [field: string]: unknown }


/** A second app on the same database whose warnings are kept, as JSON lines. */
async function warningApp(t: Test, database: TestDatabase) {
  const lines: Record<string, any>[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line)))
      callback()
    }
  })
  const config = loadConfig({ PUBLIC_URL: 'https://badges.example.edu', LOG_LEVEL: 'warn', DATA_DIR: '/nonexistent' })
  const app = await buildApp({
    config, db: database.db, keyring: createKeyring(TEST_MASTER_KEY), adminTokenHash: hashToken(ADMIN_TOKEN), logger: { level: 'warn', stream }
  })
  t.teardown(() => app.close())
  await app.ready()
  return { app, lines }
}

const ids = (items: { id: string }[]) => items.map((item) => item.id)
const sorted = (values: string[]) => [...values].sort()

await onEachDatabase(t, async (t, database) => {
  const { app, db } = await buildTestApp(t, database)
  const northwind = await createIssuer(app, { name: 'Northwind College' })
  const southport = await createIssuer(app, { name: 'Southport Institute' })
  const welding = await createAchievement(app, northwind.id, { name: 'Safe Welding' })
  const firstAid = await createAchievement(app, northwind.id, { name: 'First Aid' })
  const sailing = await createAchievement(app, southport.id, { name: 'Dinghy Sailing' })

  const get = (url: string, headers: InjectOptions['headers'] = admin) => app.inject({ method: 'GET', url, headers })
  const list = async (query: string, headers: InjectOptions['headers'] = admin) => {
    const res = await get(`/v1/credentials?${query}`, headers)
    if (res.statusCode !== 200) throw new Error(`GET /v1/credentials?${query} answered ${res.statusCode}: ${res.body}`)
    return res.json() as { items: View[]; nextCursor: string | null }
  }
  const issue = async (achievementId: string, recipient: Record<string, string>, extra: Record<string, unknown> = {}): Promise<View> => {
    const res = await app.inject({
      method: 'POST', url: '/v1/credentials', headers: admin,
      payload: { achievementId, recipient, format: 'vc-jwt', jwtAlg: 'EdDSA', ...extra }
    })
    if (res.statusCode !== 201) throw new Error(`issuing answered ${res.statusCode}: ${res.body}`)
    return res.json()
  }

  // Northwind's five credentials, and one of Southport's for the same learner.
  const adaWelding = await issue(welding.id, { email: 'ada@example.com', name: 'Ada Lovelace' })
  const adaExpired = await issue(welding.id, { email: 'ADA@Example.com' }, { validFrom: '2020-01-01T00:00:00Z', validUntil: '2021-01-01T00:00:00Z' })
  const adaFirstAid = await issue(firstAid.id, { email: 'ada@example.com' })
  const bobFirstAid = await issue(firstAid.id, { email: 'bob@example.com' }, { format: 'eddsa-rdfc-2022', jwtAlg: undefined })
  const carolWelding = await issue(welding.id, { did: 'did:example:carol' }, { validUntil: '2099-01-01T00:00:00Z' })
  const adaSailing = await issue(sailing.id, { email: 'ada@example.com' })
  const northwindIds = ids([adaWelding, adaExpired, adaFirstAid, bobFirstAid, carolWelding])

  await t.test('the list filters by issuer, by achievement and by recipient email in any letter case', async (t) => {
    t.same(sorted(ids((await list(`issuerId=${northwind.id}`)).items)), sorted(northwindIds))
    t.same(ids((await list(`issuerId=${southport.id}`)).items), [adaSailing.id])
    t.same(sorted(ids((await list(`achievementId=${welding.id}`)).items)), sorted([adaWelding.id, adaExpired.id, carolWelding.id]))
    t.same(sorted(ids((await list('email=ADA%40EXAMPLE.COM')).items)), sorted([adaWelding.id, adaExpired.id, adaFirstAid.id, adaSailing.id]),
      'the admin sees the learner\'s credentials from every issuer')
    t.same(ids((await list('email=bob%40example.com')).items), [bobFirstAid.id])
    t.same((await list('email=nobody%40example.com')).items, [])
    t.same((await list(`achievementId=${MISSING}`)).items, [])
  })

  await t.test('status filter: expired is past its validUntil, revoked shows when and why', async (t) => {
    await db.updateTable('credentials').set({ status: 'revoked', revoked_at: new Date(), revocation_reason: 'issued in error' })
      .where('id', '=', adaFirstAid.id).execute()
    const scope = `issuerId=${northwind.id}`
    t.same(ids((await list(`${scope}&status=revoked`)).items), [adaFirstAid.id])
    t.same(ids((await list(`${scope}&status=expired`)).items), [adaExpired.id])
    t.same(sorted(ids((await list(`${scope}&status=active`)).items)), sorted([adaWelding.id, bobFirstAid.id, carolWelding.id]))

    const revoked = (await get(`/v1/credentials/${adaFirstAid.id}`)).json()
    t.match(revoked, { status: 'revoked', revocationReason: 'issued in error', revokedAt: String })
    t.ok(Date.now() - Date.parse(revoked.revokedAt) < 60_000, 'revokedAt is the time of revocation')
    t.match((await get(`/v1/credentials/${adaExpired.id}`)).json(), { status: 'expired', revokedAt: null, validUntil: '2021-01-01T00:00:00.000Z' })
    t.match((await get(`/v1/credentials/${carolWelding.id}`)).json(), { status: 'active', revokedAt: null, revocationReason: null })
  })

  await t.test('filters combine: issuer, achievement, email and status together narrow to what matches them all', async (t) => {
    const query = `issuerId=${northwind.id}&achievementId=${welding.id}&email=Ada%40example.com`
    t.same(sorted(ids((await list(query)).items)), sorted([adaWelding.id, adaExpired.id]))
    t.same(ids((await list(`${query}&status=active`)).items), [adaWelding.id])
    t.same(ids((await list(`${query}&status=expired`)).items), [adaExpired.id])
    t.same((await list(`${query}&status=revoked`)).items, [])
    t.same((await list(`issuerId=${southport.id}&achievementId=${welding.id}`)).items, [], 'another issuer\'s achievement matches nothing')
  })

  await t.test('pages of 2 over 5 credentials continue by cursor and end with nextCursor null', async (t) => {
    const seen: string[] = []
    const sizes: number[] = []
    let cursor: string | null = ''
    while (cursor !== null) {
      const page = await list(`issuerId=${northwind.id}&limit=2${cursor === '' ? '' : `&cursor=${cursor}`}`)
      sizes.push(page.items.length)
      seen.push(...ids(page.items))
      if (page.nextCursor !== null) t.equal(page.nextCursor, page.items[page.items.length - 1]!.id, 'the cursor is the last id on the page')
      cursor = page.nextCursor
    }
    t.same(sizes, [2, 2, 1])
    t.same(seen, sorted(northwindIds), 'every credential once, in id order')
    const exact = await list(`issuerId=${northwind.id}&limit=5`)
    t.equal(exact.items.length, 5)
    t.equal(exact.nextCursor, null, 'a page that holds the rest exactly has no next page')
  })

  await t.test('limit must be 1 to 200: 0 and 201 answer 400 pointing at limit', async (t) => {
    for (const limit of ['0', '201', '-1', '2.5', 'ten']) {
      const body = assertProblem(t, await get(`/v1/credentials?limit=${limit}`), 400, 'validation-failed')
      t.match(body.errors, [{ pointer: '/limit', in: 'querystring' }], `limit=${limit}`)
    }
    t.equal((await list('limit=200')).items.length, 6)
    t.equal((await list('limit=1')).items.length, 1)
  })

  await t.test('bad query values answer 400 with a pointer for each', async (t) => {
    const cases: [string, string[]][] = [
      ['issuerId=northwind', ['/issuerId']],
      ['achievementId=42', ['/achievementId']],
      ['email=not-an-email', ['/email']],
      ['status=suspended', ['/status']],
      ['cursor=page-2', ['/cursor']],
      ['status=ACTIVE&email=ada&issuerId=x', ['/email', '/issuerId', '/status']]
    ]
    for (const [query, pointers] of cases) {
      const body = assertProblem(t, await get(`/v1/credentials?${query}`), 400, 'validation-failed')
      t.same(sorted(body.errors.map((e: { pointer: string }) => e.pointer)), pointers, query)
      t.ok(body.errors.every((e: { in: string }) => e.in === 'querystring'))
    }
  })

  await t.test('an API key lists only its issuer\'s credentials; asking for another issuer gives an empty page', async (t) => {
    const { key } = await createApiKey(app, northwind.id)
    t.same(sorted(ids((await list('', bearer(key))).items)), sorted(northwindIds))
    t.same(sorted(ids((await list(`issuerId=${northwind.id}`, bearer(key))).items)), sorted(northwindIds))
    t.same(await list(`issuerId=${southport.id}`, bearer(key)), { items: [], nextCursor: null })
    t.same(sorted(ids((await list('email=ada%40example.com', bearer(key))).items)), sorted([adaWelding.id, adaExpired.id, adaFirstAid.id]),
      'the same learner\'s credentials from another issuer stay hidden')
    t.same((await list(`achievementId=${sailing.id}`, bearer(key))).items, [])
  })

  await t.test('an API key reading another issuer\'s credential gets 404, as for one that does not exist', async (t) => {
    const { key } = await createApiKey(app, northwind.id)
    const foreign = assertProblem(t, await get(`/v1/credentials/${adaSailing.id}`, bearer(key)), 404, 'not-found')
    const missing = assertProblem(t, await get(`/v1/credentials/${MISSING}`, bearer(key)), 404, 'not-found')
    t.equal(foreign.detail, missing.detail, 'nothing tells the two apart')
    t.equal((await get(`/v1/credentials/${adaWelding.id}`, bearer(key))).statusCode, 200)
  })

  await t.test('list items carry the signed credential, and the JWT for vc-jwt, exactly as the issue reply did', async (t) => {
    const items = new Map((await list(`issuerId=${northwind.id}`)).items.map((item) => [item.id, item]))
    for (const issued of [adaWelding, bobFirstAid, carolWelding, adaExpired]) t.same(items.get(issued.id), issued, `${issued.id} ${issued.format}`)
    t.type(adaWelding.jwt, 'string')
    t.notOk('jwt' in bobFirstAid, 'a Data Integrity credential has no jwt')
    t.match(bobFirstAid.credential, { proof: { type: 'DataIntegrityProof', cryptosuite: 'eddsa-rdfc-2022' } })
  })

  await t.test('GET /v1/credentials/:id gives the same view as the issue reply', async (t) => {
    for (const issued of [adaWelding, bobFirstAid, carolWelding]) {
      const res = await get(`/v1/credentials/${issued.id}`)
      t.equal(res.statusCode, 200)
      t.same(res.json(), issued)
    }
  })

  await t.test('GET /v1/credentials/:id: an unknown id is 404, one that is not a UUID is 400', async (t) => {
    assertProblem(t, await get(`/v1/credentials/${MISSING}`), 404, 'not-found')
    const body = assertProblem(t, await get('/v1/credentials/not-a-uuid'), 400, 'validation-failed')
    t.match(body.errors, [{ pointer: '/id', in: 'params' }])
    t.equal((await get(`/v1/credentials/${adaWelding.id}`, {})).statusCode, 401, 'reading needs a bearer token')
  })

  // ---- the public URL ------------------------------------------------------------------------------------------------

  const hostileIssuer = await createIssuer(app, { name: `Smith ${HOSTILE} College` })
  const hostileBadge = await createAchievement(app, hostileIssuer.id, { name: `Welding ${HOSTILE}`, description: `Joins metal ${HOSTILE}` })
  const dataIntegrity = await issue(hostileBadge.id, { did: 'did:example:hostile', name: `Pat ${HOSTILE}` }, { format: 'eddsa-rdfc-2022', jwtAlg: undefined })
  const jwtIssued = await issue(hostileBadge.id, { did: 'did:example:hostile', name: `Pat ${HOSTILE}` }, { validUntil: '2099-12-31T00:00:00Z' })
  const stored = async (id: string) => (await db.selectFrom('credentials').select('signed').where('id', '=', id).executeTakeFirstOrThrow()).signed
  const publicGet = (id: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url: `/credentials/${id}`, headers })

  await t.test('the public URL with no Accept, or */*, answers application/json with the stored bytes', async (t) => {
    for (const headers of [{}, { accept: '*/*' }, { accept: 'application/json' }] as Record<string, string>[]) {
      const res = await publicGet(dataIntegrity.id, headers)
      t.equal(res.statusCode, 200)
      t.match(res.headers['content-type'], /^application\/json(;|$)/, JSON.stringify(headers))
      t.equal(res.body, await stored(dataIntegrity.id), 'byte for byte')
      t.same(res.json(), dataIntegrity.credential)
    }
  })

  await t.test('application/ld+json and application/vc+ld+json are answered with that type and the same bytes', async (t) => {
    for (const accept of ['application/ld+json', 'application/vc+ld+json']) {
      const res = await publicGet(dataIntegrity.id, { accept })
      t.equal(res.statusCode, 200)
      t.equal(res.headers['content-type']?.toString().split(';')[0], accept)
      t.equal(res.body, await stored(dataIntegrity.id))
    }
  })

  await t.test('a browser gets an HTML page naming the achievement, issuer and recipient, with their text escaped', async (t) => {
    for (const issued of [dataIntegrity, jwtIssued]) {
      const res = await publicGet(issued.id, { accept: BROWSER })
      t.equal(res.statusCode, 200)
      t.match(res.headers['content-type'], /^text\/html; charset=utf-8/)
      t.equal(res.headers['cache-control'], 'no-store', 'live status: never cached')
      const escaped = '&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co'
      t.match(res.body, new RegExp(`<h1[^>]*>Welding ${escaped.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}</h1>`), 'the achievement name is the heading')
      t.ok(res.body.includes(`Smith ${escaped} College`), 'the issuer name is shown')
      t.ok(res.body.includes(`Pat ${escaped}`), 'the recipient name is shown')
      t.ok(res.body.includes(`Joins metal ${escaped}`), 'the description is shown')
      t.notOk(/<script/i.test(res.body), 'no raw <script> anywhere')
      t.notOk(res.body.includes('& Co'), 'no raw ampersand from the names')
      t.match(res.body, />Verified</, 'verified, live')
    }
    t.match((await publicGet(jwtIssued.id, { accept: 'text/html' })).body, /<time datetime="2099-12-31T00:00:00.000Z">31 December 2099<\/time>/)
  })

  await t.test('the HTML page shows the baked PNG when the achievement has a PNG image, else the baked SVG', async (t) => {
    const pictured = await createAchievement(app, northwind.id, { name: 'Pictured', image: { id: solidPngDataUri() } })
    const withPng = await issue(pictured.id, { email: 'ada@example.com' })
    const pngPage = (await publicGet(withPng.id, { accept: BROWSER })).body
    t.ok(pngPage.includes(`src="${withPng.credential.id}/badge.png"`), 'the PNG badge')
    t.equal((await app.inject({ method: 'GET', url: `/credentials/${withPng.id}/badge.png` })).statusCode, 200, 'which exists')
    const svgPage = (await publicGet(dataIntegrity.id, { accept: BROWSER })).body
    t.notOk(svgPage.includes('badge.png'), 'no PNG to link to')
    t.ok(svgPage.includes(`src="${dataIntegrity.credential.id}/badge.svg"`), 'the SVG badge')
  })

  await t.test('a stored image that cannot be baked (a row from before uploads were checked) still gives a 200 badge carrying the credential', async (t) => {
    const { app: logged, lines } = await warningApp(t, database)
    const badge = (id: string, kind: 'png' | 'svg') => logged.inject({ method: 'GET', url: `/credentials/${id}/badge.${kind}` })
    const sound = forgePng()
    const achievement = await createAchievement(app, northwind.id, { name: 'Old Row', image: { id: pngDataUri(sound) } })
    const issued = await issue(achievement.id, { email: 'old-row@example.com' })

    const baked = await badge(issued.id, 'png')
    t.equal(baked.statusCode, 200, 'a sound PNG bakes')
    t.same(PNG.sync.read(baked.rawPayload).data, PNG.sync.read(sound).data, 'into the stored image itself')
    t.equal(extractBakedCredential(baked.rawPayload).text, issued.jwt)
    t.same(lines, [], 'nothing to warn about')

    // Written straight to the table, past the API's check, as a row stored before the check would hold it.
    await db.updateTable('achievements').set({ image_data: overlongItxtPng() }).where('id', '=', achievement.id).execute()
    const png = await badge(issued.id, 'png')
    t.equal(png.statusCode, 200, 'badge.png answers 200')
    t.equal(png.headers['content-type'], 'image/png')
    const decoded = PNG.sync.read(png.rawPayload)
    t.same([decoded.width, decoded.height], [400, 400], 'the generated badge, which decodes')
    t.equal(extractBakedCredential(png.rawPayload).text, issued.jwt, 'and carries the credential')
    const svg = await badge(issued.id, 'svg')
    t.equal(svg.statusCode, 200, svg.body)
    t.notMatch(svg.body, /data:image\/png/, 'the damaged PNG is not wrapped into the SVG')
    t.match(svg.body, /Old Row/, 'the generated SVG badge names the achievement')
    t.equal(extractBakedCredential(svg.rawPayload).text, issued.jwt)
    t.equal(lines.length, 2, 'each fallback is logged')
    for (const line of lines) {
      t.match(line, {
        level: 40, msg: /stored image cannot be baked; baking the generated badge instead/, achievementId: achievement.id, credentialId: issued.id,
        err: { message: /iTXt chunk claims 50000000 bytes but only 28 remain/ }
      })
    }

    const truncated = Buffer.from(overlongItxtPng().subarray(0, 20))
    await db.updateTable('achievements').set({ image_data: truncated }).where('id', '=', achievement.id).execute()
    t.equal((await badge(issued.id, 'svg')).statusCode, 200, 'a PNG too short to hold its header')
    t.equal((await badge(issued.id, 'png')).statusCode, 200)

    await db.updateTable('achievements').set({ image_media_type: 'image/svg+xml', image_data: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><g>') })
      .where('id', '=', achievement.id).execute()
    const unparsable = await badge(issued.id, 'svg')
    t.equal(unparsable.statusCode, 200, 'an SVG that does not parse')
    t.match(unparsable.body, /Old Row/, 'gives way to the generated badge')
    t.equal(extractBakedCredential(unparsable.rawPayload).text, issued.jwt)
    t.match(lines.at(-1), { level: 40, err: { message: /not usable XML/ } })
    assertProblem(t, await badge(issued.id, 'png'), 404, 'no-png-badge')
  })

  await t.test('the HTML page of a revoked or expired credential says so', async (t) => {
    const revoked = await issue(welding.id, { did: 'did:example:revoked' })
    const res = await app.inject({ method: 'POST', url: `/v1/credentials/${revoked.id}/revoke`, headers: admin, payload: { reason: 'test' } })
    t.equal(res.statusCode, 200)
    for (const [id, word] of [[revoked.id, 'Revoked'], [adaExpired.id, 'Expired']] as const) {
      const page = await publicGet(id, { accept: BROWSER })
      t.equal(page.statusCode, 200)
      t.match(page.body, new RegExp(`>${word}<`), word)
      t.notMatch(page.body, />Verified</)
    }
  })

  await t.test('a VC-JWT credential is the compact JWS for application/vc+jwt and application/jwt', async (t) => {
    for (const accept of ['application/vc+jwt', 'application/jwt', 'application/jwt, application/json;q=0.5']) {
      const res = await publicGet(jwtIssued.id, { accept })
      t.equal(res.statusCode, 200)
      t.equal(res.headers['content-type']?.toString().split(';')[0], accept.split(',')[0])
      t.equal(res.body, jwtIssued.jwt)
      t.equal(res.body, await stored(jwtIssued.id))
    }
  })

  await t.test('a VC-JWT credential asked for as JSON is an EnvelopedVerifiableCredential carrying the JWT', async (t) => {
    for (const headers of [{ accept: 'application/json' }, {}, { accept: 'application/ld+json' }] as Record<string, string>[]) {
      const res = await publicGet(jwtIssued.id, headers)
      t.equal(res.statusCode, 200)
      t.same(res.json(), {
        '@context': ['https://www.w3.org/ns/credentials/v2'],
        id: `data:application/vc+jwt,${jwtIssued.jwt}`,
        type: 'EnvelopedVerifiableCredential'
      }, JSON.stringify(headers))
    }
  })

  await t.test('a Data Integrity credential asked for only as application/vc+jwt answers 406', async (t) => {
    const body = assertProblem(t, await publicGet(dataIntegrity.id, { accept: 'application/vc+jwt' }), 406, 'not-acceptable')
    t.match(body.detail, /application\/ld\+json/)
    t.notMatch(body.detail, /vc\+jwt/, 'it does not offer a JWT it does not have')
    const jwtOnly = assertProblem(t, await publicGet(jwtIssued.id, { accept: 'image/png' }), 406, 'not-acceptable')
    t.match(jwtOnly.detail, /application\/vc\+jwt/, 'a VC-JWT credential offers its JWT')
  })

  await t.test('the public URL of an unknown credential is a 404 problem, of a non-UUID a 400', async (t) => {
    for (const accept of ['application/json', BROWSER]) assertProblem(t, await publicGet(MISSING, { accept }), 404, 'not-found')
    assertProblem(t, await publicGet('nope'), 400, 'validation-failed')
  })

  await t.test('every negotiated answer says Vary: Accept', async (t) => {
    for (const [id, accept] of [[dataIntegrity.id, 'application/json'], [dataIntegrity.id, BROWSER], [jwtIssued.id, 'application/vc+jwt'], [jwtIssued.id, '*/*']] as const) {
      const res = await publicGet(id, { accept })
      t.match(res.headers.vary, /\bAccept\b/i, accept)
    }
  })

  await t.test('other origins may fetch the public credential (CORS *), not the admin API', async (t) => {
    const origin = 'https://wallet.example.org'
    const res = await publicGet(dataIntegrity.id, { origin })
    t.equal(res.statusCode, 200)
    t.equal(res.headers['access-control-allow-origin'], '*')
    const preflight = await app.inject({
      method: 'OPTIONS', url: `/credentials/${dataIntegrity.id}`, headers: { origin, 'access-control-request-method': 'GET' }
    })
    t.equal(preflight.headers['access-control-allow-origin'], '*')
    const adminApi = await get(`/v1/credentials/${dataIntegrity.id}`, { ...admin, origin })
    t.equal(adminApi.statusCode, 200)
    t.notOk(adminApi.headers['access-control-allow-origin'], 'the admin API is not opened to other origins')
  })
})
