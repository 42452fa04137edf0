import type { FastifyInstance, InjectOptions } from 'fastify'
import { connect, createServer, type Socket } from 'node:net'
import t, { type Test } from 'tap'
import { buildApp } from '../src/app.js'
import { clientErrorHandler } from '../src/http/errors.js'
import { loadConfig } from '../src/config.js'
import { createKeyring } from '../src/crypto/keyring.js'
import { openDatabase } from '../src/db/database.js'
import { hashToken } from '../src/api-keys/tokens.js'
import { ADMIN_TOKEN, admin, buildTestApp, createIssuer, onEachDatabase, openTestDatabase, TEST_MASTER_KEY } from './helpers/app.js'

const MISSING = '00000000-0000-4000-8000-000000000000'

/** A problem body as CONTRACT.md fixes it, and nothing that looks like internals. */
function assertProblem(t: Test, res: Awaited<ReturnType<FastifyInstance['inject']>>, status: number, label: string) {
  t.equal(res.statusCode, status, `${label}: status`)
  t.match(res.headers['content-type'], /^application\/problem\+json/, `${label}: problem+json`)
  const body = res.json()
  t.match(body, { type: /^urn:lanyard:problem:/, title: String, status, detail: String }, `${label}: problem members`)
  t.notMatch(res.body, /\bat .+\.(ts|js):\d+|node_modules|stack/i, `${label}: no stack trace`)
  return body
}

await onEachDatabase(t, async (t, database) => {
  const { app, db } = await buildTestApp(t, database, { env: { BODY_LIMIT: '10000' } })
  const issuer = await createIssuer(app)
  const countRows = async () => ({
    issuers: (await db.selectFrom('issuers').select(db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n,
    keys: (await db.selectFrom('issuer_keys').select(db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n,
    apiKeys: (await db.selectFrom('api_keys').select(db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n,
    events: (await db.selectFrom('audit_events').select(db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n
  })

  const badRequests: [label: string, request: InjectOptions, status: number, pointers?: string[]][] = [
    ['issuer: empty object', { method: 'POST', url: '/v1/issuers', payload: {} }, 400, ['/name', '/url']],
    ['issuer: wrong types', { method: 'POST', url: '/v1/issuers', payload: { name: 5, url: true } }, 400, ['/name', '/url']],
    ['issuer: not an http URL', { method: 'POST', url: '/v1/issuers', payload: { name: 'X', url: 'javascript:alert(1)' } }, 400, ['/url']],
    ['issuer: bad email', { method: 'POST', url: '/v1/issuers', payload: { name: 'X', url: 'https://x.example', email: 'nope' } }, 400, ['/email']],
    ['issuer: unknown DID method', { method: 'POST', url: '/v1/issuers', payload: { name: 'X', url: 'https://x.example', did: 'ion' } }, 400, ['/did']],
    ['issuer: unknown field', { method: 'POST', url: '/v1/issuers', payload: { name: 'X', url: 'https://x.example', privateKey: 'z' } }, 400, ['/privateKey']],
    ['issuer: blank name', { method: 'POST', url: '/v1/issuers', payload: { name: '   ', url: 'https://x.example' } }, 400, ['/name']],
    ['issuer: array body', { method: 'POST', url: '/v1/issuers', payload: [{ name: 'X' }] }, 400],
    ['issuer: invalid JSON', { method: 'POST', url: '/v1/issuers', payload: '{"name": ', headers: { 'content-type': 'application/json' } }, 400],
    ['issuer: empty JSON body', { method: 'POST', url: '/v1/issuers', payload: '', headers: { 'content-type': 'application/json' } }, 400],
    ['issuer: not JSON', { method: 'POST', url: '/v1/issuers', payload: 'name=X', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415],
    ['issuer: text body', { method: 'POST', url: '/v1/issuers', payload: 'hello', headers: { 'content-type': 'text/plain' } }, 415],
    ['issuer: huge body', { method: 'POST', url: '/v1/issuers', payload: { name: 'X', url: 'https://x.example', description: 'x'.repeat(20_000) } }, 413],
    ['issuer: id not a UUID', { method: 'GET', url: '/v1/issuers/42' }, 400, ['/id']],
    ['issuer: missing', { method: 'GET', url: `/v1/issuers/${MISSING}` }, 404],
    ['issuers: limit 0', { method: 'GET', url: '/v1/issuers?limit=0' }, 400, ['/limit']],
    ['issuers: limit not a number', { method: 'GET', url: '/v1/issuers?limit=lots' }, 400, ['/limit']],
    ['issuers: bad cursor', { method: 'GET', url: '/v1/issuers?cursor=abc' }, 400, ['/cursor']],
    ['patch: nothing to change', { method: 'PATCH', url: `/v1/issuers/${issuer.id}`, payload: {} }, 400],
    ['patch: cannot change DID method', { method: 'PATCH', url: `/v1/issuers/${issuer.id}`, payload: { did: 'key' } }, 400, ['/did']],
    ['patch: name null', { method: 'PATCH', url: `/v1/issuers/${issuer.id}`, payload: { name: null } }, 400, ['/name']],
    ['patch: missing issuer', { method: 'PATCH', url: `/v1/issuers/${MISSING}`, payload: { name: 'X' } }, 404],
    ['rotate: missing issuer', { method: 'POST', url: `/v1/issuers/${MISSING}/keys/rotate` }, 404],
    ['keys: missing issuer', { method: 'GET', url: `/v1/issuers/${MISSING}/keys` }, 404],
    ['api key: issuerId not a UUID', { method: 'POST', url: '/v1/api-keys', payload: { issuerId: 'alpha' } }, 400, ['/issuerId']],
    ['api key: missing issuerId', { method: 'POST', url: '/v1/api-keys', payload: { name: 'LMS' } }, 400, ['/issuerId']],
    ['api key: unknown field', { method: 'POST', url: '/v1/api-keys', payload: { issuerId: issuer.id, scopes: ['all'] } }, 400, ['/scopes']],
    ['api keys: bad issuerId filter', { method: 'GET', url: '/v1/api-keys?issuerId=1' }, 400, ['/issuerId']],
    ['api key revoke: id not a UUID', { method: 'DELETE', url: '/v1/api-keys/1' }, 400, ['/id']],
    ['audit: bad cursor', { method: 'GET', url: '/v1/audit-events?cursor=-1' }, 400, ['/cursor']],
    ['audit: limit too big', { method: 'GET', url: '/v1/audit-events?limit=100000' }, 400, ['/limit']],
    ['public profile: id not a UUID', { method: 'GET', url: '/issuers/not-an-id' }, 400, ['/id']],
    ['public profile: missing', { method: 'GET', url: `/issuers/${MISSING}` }, 404],
    ['DID document: missing', { method: 'GET', url: `/issuers/${MISSING}/did.json` }, 404],
    ['unknown route', { method: 'GET', url: '/v1/nothing-here' }, 404],
    ['unknown public route', { method: 'GET', url: '/no/such/page' }, 404]
  ]

  await t.test('bad input on every route answers a 4xx problem with per-field pointers, and writes nothing', async (t) => {
    const before = await countRows()
    for (const [label, request, status, pointers] of badRequests) {
      const res = await app.inject({ ...request, headers: { ...admin, ...request.headers } })
      const body = assertProblem(t, res, status, label)
      if (pointers) {
        t.same(body.errors.map((e: { pointer: string }) => e.pointer).sort(), [...pointers].sort(), `${label}: pointers`)
        t.ok(body.errors.every((e: { message: string }) => e.message.length > 0), `${label}: each error says what is wrong`)
      }
    }
    t.same(await countRows(), before, 'no row was written by any bad request')
  })

  await t.test('problems carry the request id, which the caller may set', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/v1/issuers/42', headers: { ...admin, 'x-request-id': 'lms-req-123' } })
    t.equal(res.headers['x-request-id'], 'lms-req-123')
    t.equal(res.json().requestId, 'lms-req-123')
  })
})

/** Sends raw bytes to a listening app and reads the whole answer (the server closes the connection). */
async function rawExchange(port: number, request: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request))
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')))
  })
  const [head, ...rest] = raw.split('\r\n\r\n')
  const [statusLine, ...headerLines] = head!.split('\r\n')
  const headers = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]))
  return { status: Number(statusLine!.split(' ')[1]), headers, body: rest.join('\r\n\r\n') }
}

t.test('what Fastify and Node refuse before any route runs is a problem too', async (t) => {
  const database = await openTestDatabase(t, 'pglite')
  const { app } = await buildTestApp(t, database)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  const refusals: [label: string, request: string, status: number, code: string][] = [
    ['an overlong UTF-8 escape in the path', 'GET /issuers/%C0%AE HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad-url'],
    ['a UTF-16 surrogate as UTF-8 in the path', 'GET /issuers/%ED%A0%80 HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad-url'],
    ['a path parameter over 100 characters', `GET /issuers/${'a'.repeat(101)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414, 'uri-too-long'],
    ['a NUL byte in a header', 'GET /health HTTP/1.1\r\nHost: x\r\nX-Note: a\u0000b\r\n\r\n', 400, 'bad-http-request'],
    ['headers over 16 KiB', `GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: ${'p'.repeat(20_000)}\r\n\r\n`, 431, 'headers-too-large'],
    ['a request line that is not HTTP', 'HELLO THERE\r\n\r\n', 400, 'bad-http-request'],
    ['both Content-Length and chunked', 'POST /verify HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'bad-http-request'],
    ['HTTP/1.1 without Host', 'GET /health HTTP/1.1\r\n\r\n', 400, 'missing-host'],
    ['an Expect other than 100-continue', 'GET /health HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n', 417, 'expectation-failed']
  ]
  for (const [label, request, status, code] of refusals) {
    const res = await rawExchange(port, request)
    t.equal(res.status, status, `${label}: ${res.body}`)
    t.match(res.headers['content-type'], /^application\/problem\+json/, `${label}: problem+json`)
    t.match(JSON.parse(res.body), { type: `urn:lanyard:problem:${code}`, title: String, status, detail: String, code }, `${label}: the problem`)
  }
  t.equal((await rawExchange(port, 'GET /health HTTP/1.0\r\n\r\n')).status, 200, 'HTTP/1.0 needs no Host')
  for (const headers of [{}, { origin: 'https://lms.example.edu' }, { 'access-control-request-method': 'GET' }]) {
    const options = await app.inject({ method: 'OPTIONS', url: '/health', headers })
    t.equal(options.statusCode, 204, `OPTIONS without a whole CORS preflight (${Object.keys(headers).join(', ') || 'no headers'}) is plain OPTIONS, not a text/plain 400`)
  }
  t.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200, 'and the server is healthy after')
})

t.test('a request Node gives up on (timeout, reset, a socket already closing) is answered as far as the socket allows', async (t) => {
  const database = await openTestDatabase(t, 'pglite')
  const { app } = await buildTestApp(t, database)
  // A real socket pair on loopback: what the handler writes to the server side, the client side reads.
  const received: string[] = []
  const serverSide: Socket[] = []
  const server = createServer((socket) => serverSide.push(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const answerTo = async (error: NodeJS.ErrnoException, prepare: (socket: Socket) => void = () => {}) => {
    const client = connect((server.address() as { port: number }).port, '127.0.0.1')
    const chunks: Buffer[] = []
    client.on('data', (chunk: Buffer) => chunks.push(chunk))
    const closed = new Promise((resolve) => client.on('close', resolve))
    while (serverSide.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    const socket = serverSide.pop()!
    prepare(socket)
    clientErrorHandler.call(app, error, socket)
    if (!socket.destroyed) socket.destroy()
    await closed
    received.push(Buffer.concat(chunks).toString('utf8'))
    return received.at(-1)!
  }
  const coded = (code?: string) => Object.assign(new Error('client error'), code === undefined ? {} : { code })

  t.match(await answerTo(coded('ERR_HTTP_REQUEST_TIMEOUT')), /^HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*"code":"request-timeout"/)
  t.match(await answerTo(coded()), /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*\(unparseable\)/, 'an error without a code')
  t.equal(await answerTo(coded('ECONNRESET')), '', 'a reset connection gets nothing')
  t.equal(await answerTo(coded('HPE_INVALID_METHOD'), (socket) => socket.destroy()), '', 'nor a destroyed one')
  t.equal(await answerTo(coded('HPE_INVALID_METHOD'), (socket) => socket.end()), '', 'nor one that can no longer be written')
})

t.test('public routes are rate limited with a 429 problem and Retry-After', async (t) => {
  const database = await openTestDatabase(t, 'pglite')
  const { app } = await buildTestApp(t, database, { env: { PUBLIC_RATE_LIMIT: '3' } })
  const statuses = []
  for (let i = 0; i < 4; i++) statuses.push((await app.inject({ method: 'GET', url: `/issuers/${MISSING}` })).statusCode)
  t.same(statuses, [404, 404, 404, 429])
  const limited = await app.inject({ method: 'GET', url: `/issuers/${MISSING}` })
  assertProblem(t, limited, 429, 'rate limited')
  t.ok(Number(limited.headers['retry-after']) > 0, 'says when to retry')
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200, 'health is not rate limited')
})

t.test('health answers ok, and 503 when the database is unreachable', async (t) => {
  const database = await openTestDatabase(t, 'pglite')
  const { app } = await buildTestApp(t, database)
  const ok = await app.inject({ method: 'GET', url: '/health' })
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { status: 'ok', database: 'ok' })

  const { db: unreachable } = await openDatabase({ url: 'postgres://lanyard:nopassword@127.0.0.1:1/none' })
  t.teardown(() => unreachable.destroy())
  const down = await buildApp({
    config: loadConfig({ LOG_LEVEL: 'silent' }), db: unreachable, keyring: createKeyring(TEST_MASTER_KEY), adminTokenHash: hashToken(ADMIN_TOKEN), logger: false
  })
  t.teardown(() => down.close())
  const res = await down.inject({ method: 'GET', url: '/health' })
  const body = assertProblem(t, res, 503, 'database down')
  t.equal(body.database, 'unreachable')

  const failed = await down.inject({ method: 'GET', url: '/v1/issuers', headers: admin })
  const problem = assertProblem(t, failed, 500, 'a request while the database is down')
  t.match(problem, { code: 'internal', requestId: String })
  t.notMatch(failed.body, /ECONNREFUSED|127\.0\.0\.1|postgres/, 'says nothing about internals')
})
