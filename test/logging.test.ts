import { Writable } from 'node:stream'
import Fastify, { type FastifyServerOptions } from 'fastify'
import t, { type Test } from 'tap'
import { buildApp } from '../src/app.js'
import { hashToken } from '../src/api-keys/tokens.js'
import { loadConfig } from '../src/config.js'
import { createKeyring } from '../src/crypto/keyring.js'
import { loggerOptions, redactedUrl, scrubSecrets } from '../src/http/logging.js'
import { ADMIN_TOKEN, admin, bearer, createApiKey, createIssuer, onEachDatabase, TEST_MASTER_KEY, type TestDatabase } from './helpers/app.js'
import { createAchievement } from './helpers/credentials.js'
import { freePort } from './helpers/net.js'
import { startSmtpServer } from './helpers/smtp.js'
import { getJson, keyProof, lcwExchange, lcwParameters, newHolder, offerOf, oid4vciToken, post, requestCredential, walletKey } from './helpers/wallet.js'

const EMAIL = 'Grace.Hopper@Example.EDU'

/** An app logging into memory at info, as production logs (LOG_LEVEL=info), or at another level. */
async function loggingApp(t: Test, database: TestDatabase, env: Record<string, string> = {}) {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''))
      callback()
    }
  })
  const config = loadConfig({ PUBLIC_URL: 'https://badges.example.edu', LOG_LEVEL: 'info', DATA_DIR: '/nonexistent', ...env })
  const app = await buildApp({
    config, db: database.db, keyring: createKeyring(TEST_MASTER_KEY), adminTokenHash: hashToken(ADMIN_TOKEN),
    logger: { ...(loggerOptions(config) as Exclude<FastifyServerOptions['logger'], boolean | undefined>), stream }
  })
  t.teardown(() => app.close())
  await app.ready()
  return { app, lines }
}

await onEachDatabase(t, async (t, database) => {
  const { app, lines } = await loggingApp(t, database)
  const issuer = await createIssuer(app)
  const badge = await createAchievement(app, issuer.id)
  const { key } = await createApiKey(app, issuer.id)

  await t.test('a learner\'s email address and the bearer tokens never reach the log', async (t) => {
    lines.length = 0
    const issued = await app.inject({
      method: 'POST', url: '/v1/credentials', headers: bearer(key),
      payload: { achievementId: badge.id, recipient: { email: EMAIL, name: 'Grace Hopper' } }
    })
    t.equal(issued.statusCode, 201, issued.body)
    const listed = await app.inject({ method: 'GET', url: `/v1/credentials?limit=5&email=${encodeURIComponent(EMAIL)}`, headers: bearer(key) })
    t.equal(listed.statusCode, 200)
    t.equal(listed.json().items.length, 1)
    const bare = await app.inject({ method: 'GET', url: `/v1/credentials?email=${EMAIL}&limit=5`, headers: admin })
    t.equal(bare.json().items.length, 1)
    const page = await app.inject({ method: 'GET', url: `/credentials/${issued.json().id}`, headers: { accept: 'text/html' } })
    t.equal(page.statusCode, 200)
    const invalid = await app.inject({
      method: 'POST', url: '/v1/credentials', headers: bearer(key),
      payload: { achievementId: 'not-a-uuid', recipient: { email: EMAIL, did: 'did:example:grace' }, colour: EMAIL }
    })
    t.equal(invalid.statusCode, 400)
    const badQuery = await app.inject({ method: 'GET', url: `/v1/credentials?email=${encodeURIComponent(EMAIL)}&status=suspended`, headers: admin })
    t.equal(badQuery.statusCode, 400)

    t.ok(lines.length >= 12, `the requests were logged (${lines.length} lines)`)
    const log = lines.join('\n')
    for (const secret of [EMAIL, EMAIL.toLowerCase(), encodeURIComponent(EMAIL), encodeURIComponent(EMAIL).toLowerCase(), 'grace.hopper']) {
      t.notOk(log.toLowerCase().includes(secret.toLowerCase()), `the log does not contain ${secret}`)
    }
    t.notOk(log.includes(key), 'the API key is not logged')
    t.notOk(log.includes(key.slice(-16)), 'nor any tail of it')
    t.notOk(log.includes(ADMIN_TOKEN), 'the admin token is not logged')

    const requests = lines.map((line) => JSON.parse(line)).filter((entry) => entry.req !== undefined)
    const listings = requests.filter((entry) => entry.req.url.startsWith('/v1/credentials?'))
    t.same(listings.map((entry) => entry.req.url), [
      '/v1/credentials?limit=5&email=[redacted]',
      '/v1/credentials?email=[redacted]&limit=5',
      '/v1/credentials?email=[redacted]&status=suspended'
    ], 'the email filter is logged as [redacted]')
    t.ok(requests.every((entry) => entry.req.headers === undefined), 'request headers are not logged')
    t.ok(requests.some((entry) => entry.req.url === `/credentials/${issued.json().id}`), 'the public page request is logged')
    t.ok(lines.every((line) => JSON.parse(line).level <= 30), 'nothing above info: bad input is not an error')
  })

  await t.test('no secret Lanyard hands out reaches the log at any level, through every flow that carries one', async (t) => {
    const port = await freePort()
    const origin = `http://127.0.0.1:${port}`
    const smtp = await startSmtpServer(t)
    const { app: traced, lines: traces } = await loggingApp(t, database, { PUBLIC_URL: origin, LOG_LEVEL: 'trace', LANYARD_ALLOW_PRIVATE_FETCH: 'true', LANYARD_SMTP_URL: smtp.url })
    await traced.listen({ host: '127.0.0.1', port })
    const college = await createIssuer(traced)
    const achievement = await createAchievement(traced, college.id)
    const { key: apiKey } = await createApiKey(traced, college.id)
    // A webhook whose receiver is not there: its secret is handed out, and every issue below makes a delivery attempt that fails.
    const hook = await traced.inject({ method: 'POST', url: '/v1/webhooks', headers: bearer(apiKey), payload: { url: 'http://127.0.0.1:9/lanyard', events: ['credential.issued'] } })
    t.equal(hook.statusCode, 201, hook.body)
    const issue = async () => {
      const res = await traced.inject({ method: 'POST', url: '/v1/credentials', headers: bearer(apiKey), payload: { achievementId: achievement.id, recipient: { email: 'lin.wei@example.edu' } } })
      t.equal(res.statusCode, 201, res.body)
      const claim = await traced.inject({ method: 'POST', url: `/v1/credentials/${res.json().id}/claims`, headers: bearer(apiKey), payload: { txCode: true } })
      t.equal(claim.statusCode, 201, claim.body)
      return claim.json()
    }
    const secrets: Record<string, string> = { apiKey, adminToken: ADMIN_TOKEN, webhookSecret: hook.json().secret, webhookKey: hook.json().secret.slice('whsec_'.length) }

    // The claim page, its offer by reference, and the LCW exchange, over real HTTP.
    const lcwClaim = await issue()
    const token = new URL(lcwClaim.claimUrl).pathname.split('/')[2]!
    const { vcRequestUrl, challenge } = lcwParameters(lcwClaim.lcwDeepLink)
    Object.assign(secrets, { claimToken: token, exchangeId: vcRequestUrl.split('/').pop()!, challenge })
    t.equal((await fetch(lcwClaim.claimUrl, { headers: { accept: 'text/html' } })).status, 200)
    await getJson(`${lcwClaim.claimUrl}/offer`)
    const exchanged = await lcwExchange(lcwClaim.lcwDeepLink, await newHolder())
    t.equal(exchanged.reply.status, 200, JSON.stringify(exchanged.reply.body))
    // Used and mistyped links, and an undecodable one: each logs the URL it was asked for.
    t.equal((await fetch(lcwClaim.claimUrl, { headers: { accept: 'text/html' } })).status, 410)
    t.equal((await fetch(`${lcwClaim.claimUrl}/nope`)).status, 404)
    t.equal((await fetch(`${lcwClaim.claimUrl}%C0`)).status, 400)
    t.equal((await fetch(`${origin}/claim/${token}${'x'.repeat(100)}`)).status, 414)

    // OID4VCI: the pre-authorized code and tx_code, the access token and the nonce.
    const oidClaim = await issue()
    const offer = await offerOf(oidClaim.credentialOfferUri)
    Object.assign(secrets, {
      claimToken2: new URL(oidClaim.claimUrl).pathname.split('/')[2]!,
      preAuthorizedCode: offer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']['pre-authorized_code']
    })
    const wrongCode = await post(`${origin}/oid4vci/token`, { grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': secrets.preAuthorizedCode!, tx_code: '000000' === oidClaim.txCode ? '111111' : '000000' }, { 'content-type': 'application/x-www-form-urlencoded' })
    t.equal(wrongCode.status, 400)
    const { session } = await oid4vciToken(oidClaim.credentialOffer, oidClaim.txCode)
    Object.assign(secrets, { accessToken: session!.accessToken, nonce: session!.nonce })
    const walletKeyPair = await walletKey('EdDSA')
    const delivered = await requestCredential(session!, { credential_configuration_id: 'OpenBadgeCredential_jwt_vc_json', proofs: { jwt: [await keyProof(walletKeyPair, origin, session!.nonce)] } })
    t.equal(delivered.status, 200, JSON.stringify(delivered.body))
    t.equal((await requestCredential(session!, { credential_configuration_id: 'OpenBadgeCredential_jwt_vc_json' })).status, 401, 'a used access token')
    // Secrets where a client should not put them: the query string, and the headers of requests Node cannot parse.
    t.equal((await fetch(`${origin}/health?access_token=${session!.accessToken}&code=${secrets.preAuthorizedCode}`)).status, 200)
    t.equal((await fetch(`${origin}/v1/issuers`, { headers: { authorization: `Bearer ${apiKey}`, 'x-padding': 'p'.repeat(20_000) } })).status, 431)

    // A reviewer's invitation: the single-use sign-in link (by GET and by POST), the session cookie and its CSRF token.
    const invited = await traced.inject({ method: 'POST', url: `/v1/achievements/${achievement.id}/reviewers`, headers: bearer(apiKey), payload: { email: 'rosa@example.edu' } })
    t.equal(invited.statusCode, 201, invited.body)
    const signInUrl = /https?:\/\/\S+\/review\/sign-in\/[A-Za-z0-9_-]+/.exec((await smtp.next()).text!)![0]
    t.equal((await fetch(signInUrl)).status, 200)
    const signedIn = await fetch(signInUrl, { method: 'POST', redirect: 'manual' })
    t.equal(signedIn.status, 303)
    const reviewSession = /lanyard_review=([^;]+)/.exec(signedIn.headers.get('set-cookie')!)![1]!
    const queue = await (await fetch(`${origin}/review`, { headers: { cookie: `lanyard_review=${reviewSession}` } })).text()
    Object.assign(secrets, { signInToken: signInUrl.split('/').pop()!, reviewSession, reviewCsrf: /name="csrf" value="([^"]+)"/.exec(queue)![1]! })
    t.equal((await fetch(`${origin}/review/sign-out`, { method: 'POST', redirect: 'manual', headers: { cookie: `lanyard_review=${reviewSession}`, 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${secrets.reviewCsrf}` })).status, 303)

    // The dispatcher attempts in the background, and this file's first app shares the database: its dispatcher may make the
    // attempt, and log it in its own log. Both logs are read.
    const attempted = () => [...traces, ...lines].some((line) => JSON.parse(line).msg === 'webhook delivery attempt')
    for (const deadline = Date.now() + 20_000; !attempted() && Date.now() < deadline;) await new Promise((resolve) => setTimeout(resolve, 50))
    t.ok(attempted(), 'the webhook deliveries were attempted, and logged')
    t.ok(traces.length > 40, `the flows were logged (${traces.length} lines)`)
    t.ok(traces.some((line) => JSON.parse(line).level < 30), 'below info too (the unreadable request, at debug)')
    const log = [...traces, ...lines].join('\n')
    for (const [name, secret] of Object.entries(secrets)) {
      t.notOk(log.includes(secret), `the ${name} is not in the log`)
      t.notOk(log.includes(secret.slice(-16)), `nor the tail of the ${name}`)
    }
    t.notMatch(log, new RegExp(`(?<![\\d.])${oidClaim.txCode}(?![\\d.])`), 'nor the transaction code')
    const urls = traces.map((line) => JSON.parse(line).req?.url).filter((url) => url !== undefined)
    t.ok(urls.includes('/claim/[redacted]') && urls.includes('/claim/[redacted]/offer') && urls.includes('/exchanges/[redacted]'), 'the secret paths are logged redacted')
    t.ok(urls.includes('/review/sign-in/[redacted]'), 'the reviewer\'s sign-in link too')
    t.ok(urls.includes('/health?access_token=[redacted]&code=[redacted]'), 'and the secret query parameters')
  })

  await t.test('an email filter whose name is percent-encoded (%65mail=) is still the email filter, and its address is not logged', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/v1/credentials?%65mail=not-an-address', headers: admin })
    t.match(res.json().errors, [{ pointer: '/email' }], 'the route reads %65mail as email')
    lines.length = 0
    const listed = await app.inject({ method: 'GET', url: `/v1/credentials?%65mail=${encodeURIComponent(EMAIL)}`, headers: admin })
    t.equal(listed.json().items.length, 1, 'and filters by it')
    t.ok(lines.length > 0)
    t.notOk(lines.join('\n').toLowerCase().includes('grace.hopper'), 'the address is not logged')
  })
})

t.test('redactedUrl hides every email query parameter, in any letter case, and nothing else', async (t) => {
  const cases: [string, string][] = [
    ['/v1/credentials?email=grace%40example.edu', '/v1/credentials?email=[redacted]'],
    ['/v1/credentials?limit=2&email=grace@example.edu', '/v1/credentials?limit=2&email=[redacted]'],
    ['/v1/credentials?email=grace@example.edu&limit=2', '/v1/credentials?email=[redacted]&limit=2'],
    ['/v1/credentials?EMAIL=GRACE@EXAMPLE.EDU&status=active', '/v1/credentials?EMAIL=[redacted]&status=active'],
    ['/v1/credentials?Email=a@b.c&email=d@e.f', '/v1/credentials?Email=[redacted]&email=[redacted]'],
    ['/v1/credentials?email=', '/v1/credentials?email=[redacted]'],
    ['/v1/credentials?email=a@b.c#top', '/v1/credentials?email=[redacted]#top'],
    ['/v1/credentials?limit=2&cursor=01a2', '/v1/credentials?limit=2&cursor=01a2'],
    ['/v1/credentials?workemail=a@b.c', '/v1/credentials?workemail=a@b.c'],
    ['/credentials/01a2147b-74d9-765f-929f-3f37eb298163', '/credentials/01a2147b-74d9-765f-929f-3f37eb298163'],
    ['/email=a@b.c', '/email=a@b.c']
  ]
  for (const [url, expected] of cases) t.equal(redactedUrl(url), expected, url)
})

t.test('redactedUrl hides the claim token and the exchange id in paths, and OAuth secrets in queries', async (t) => {
  const cases: [string, string][] = [
    ['/claim/abc', '/claim/[redacted]'],
    ['/claim/abc/offer', '/claim/[redacted]/offer'],
    ['/claim/abc?x=1', '/claim/[redacted]?x=1'],
    ['/exchanges/abc', '/exchanges/[redacted]'],
    ['//Claim/abc/x', '//Claim/[redacted]/x'],
    ['/claim', '/claim'],
    ['/v1/credentials/01a2/claims', '/v1/credentials/01a2/claims'],
    ['/oid4vci/token?pre-authorized_code=a&tx_code=1&user_pin=2&grant_type=g', '/oid4vci/token?pre-authorized_code=[redacted]&tx_code=[redacted]&user_pin=[redacted]&grant_type=g'],
    ['/x?access_token=a&refresh_token=b&nonce=c&c_nonce=d&challenge=e&code_verifier=f&client_secret=g&token=h', '/x?access_token=[redacted]&refresh_token=[redacted]&nonce=[redacted]&c_nonce=[redacted]&challenge=[redacted]&code_verifier=[redacted]&client_secret=[redacted]&token=[redacted]'],
    ['/x?credential_offer_uri=https%3A%2F%2Fh%2Fclaim%2Fabc%2Foffer&credential_offer=%7B%7D&state=s', '/x?credential_offer_uri=[redacted]&credential_offer=[redacted]&state=s']
  ]
  for (const [url, expected] of cases) t.equal(redactedUrl(url), expected, url)
})

t.test('every line written is scrubbed of the shapes of Lanyard\'s secrets, whatever put them there', async (t) => {
  const secret = 'Yq3v9mZ0bL7cW1xN4tR8kP2sD6fH5jG0aE3uQ9iO7yT'
  t.equal(secret.length, 43)
  t.equal(scrubSecrets(`{"msg":"claim ${secret} used","key":"lny_AbC123_${secret}","admin":"lny_admin_${secret}"}`),
    '{"msg":"claim [redacted] used","key":"[redacted]","admin":"[redacted]"}')
  const kept = '{"id":"01a2147b-74d9-765f-929f-3f37eb298163","hash":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}'
  t.equal(scrubSecrets(kept), kept, 'ids and hex hashes (other lengths) stay')
  t.equal(scrubSecrets(`x${secret}y`), `x${secret}y`, 'a 43-character run inside a longer one is not a secret of ours')
})

t.test('redactedUrl also hides an email parameter whose name is percent-encoded', async (t) => {
  t.equal(redactedUrl('/v1/credentials?%65mail=grace%40example.edu'), '/v1/credentials?%65mail=[redacted]')
  t.equal(redactedUrl('/v1/credentials?limit=2&%45MAIL=grace%40example.edu'), '/v1/credentials?limit=2&%45MAIL=[redacted]')
  t.equal(redactedUrl('/v1/credentials?%zzmail=x'), '/v1/credentials?%zzmail=x', 'a malformed escape is left alone')
})

t.test('a database error is logged without the row values PostgreSQL quotes in it', async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done() } })
  const app = Fastify({ logger: { ...(loggerOptions({ LOG_LEVEL: 'info' }) as Exclude<FastifyServerOptions['logger'], boolean | undefined>), stream } })
  t.teardown(() => app.close())
  const logger = app.log
  const error = Object.assign(new Error('duplicate key value violates unique constraint "recipients_identity"'), {
    code: '23505', detail: 'Key (issuer_id, identity_type, identity)=(…, email, grace@example.edu) already exists.', where: 'grace@example.edu'
  })
  logger.error({ err: error }, 'request failed')
  t.equal(lines.length, 1)
  t.notOk(lines[0]!.includes('grace@example.edu'))
  t.match(JSON.parse(lines[0]!).err, { code: '23505', detail: '[redacted]', message: /duplicate key/ })
})
