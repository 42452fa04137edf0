import { Writable } from 'node:stream'
import Fastify, { type FastifyServerOptions } from 'fastify'
import t, { type Test } from 'tap'
import { buildApp } from '../src/app.js'
import { hashToken } from '../src/api-keys/tokens.js'
import { loadConfig } from '../src/config.js'
import { createKeyring } from '../src/crypto/keyring.js'
import { loggerOptions, redactedUrl } from '../src/http/logging.js'
import { ADMIN_TOKEN, admin, bearer, createApiKey, createIssuer, onEachDatabase, TEST_MASTER_KEY, type TestDatabase } from './helpers/app.js'
import { createAchievement } from './helpers/credentials.js'

const EMAIL = 'Grace.Hopper@Example.EDU'

/** An app logging at info into memory, as production logs (LOG_LEVEL=info). */
async function loggingApp(t: Test, database: TestDatabase) {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''))
      callback()
    }
  })
  const config = loadConfig({ PUBLIC_URL: 'https://badges.example.edu', LOG_LEVEL: 'info', DATA_DIR: '/nonexistent' })
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
