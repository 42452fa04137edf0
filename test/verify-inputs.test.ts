// What POST /verify accepts, and what it refuses: every input form, verify-by-URL behind the SSRF guard, and a
// thousand malformed inputs that must get a 400 or a report — never a 500, never a hang.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { networkFetcher } from '../src/verify/documents.js'
import { DEFAULT_FETCH_POLICY } from '../src/http/guarded-fetch.js'
import { admin, assertProblem, buildTestApp, createIssuer, openTestDatabase } from './helpers/app.js'
import { createAchievement } from './helpers/credentials.js'
import { fixtureBytes, fixtureText, fixtureWeb } from './helpers/fixture-web.js'
import { buildLoggedApp, errorLines } from './helpers/logged-app.js'

type Json = Record<string, any>

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

function multipart(field: string, filename: string, type: string, content: Buffer): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----lanyard${randomBytes(8).toString('hex')}`
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`),
    content,
    Buffer.from(`\r\n--${boundary}--\r\n`)
  ])
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

t.test('input forms', async (t) => {
  const web = fixtureWeb()
  const { app } = await buildTestApp(t, await openTestDatabase(t, 'pglite'), { fetchDocument: web.fetch })
  const verify = (payload: unknown, headers: Record<string, string> = {}) => app.inject({ method: 'POST', url: '/verify', headers, payload: payload as string })
  const simple = JSON.parse(fixtureText('simple.json'))

  await t.test('the credential itself, or wrapped as credential / jwt', async (t) => {
    for (const body of [simple, { credential: simple }, { credential: JSON.stringify(simple) }]) {
      const res = await verify(body)
      t.equal(res.statusCode, 200)
      t.equal(res.json().verified, true)
    }
    const issuer = await createIssuer(app)
    const badge = await createAchievement(app, issuer.id)
    const issued = (await app.inject({ method: 'POST', url: '/v1/credentials', headers: admin, payload: { achievementId: badge.id, recipient: { email: 'a@example.com' }, format: 'vc-jwt' } })).json()
    for (const [payload, headers] of [[{ jwt: issued.jwt }, {}], [issued.jwt, { 'content-type': 'text/plain' }], [issued.jwt, { 'content-type': 'application/jwt' }], [{ credential: issued.jwt }, {}]] as const) {
      const res = await verify(payload, headers)
      t.equal(res.statusCode, 200, res.body)
      t.match(res.json(), { verified: true, format: 'vc-jwt' })
    }
  })

  await t.test('a URL, fetched and content-negotiated (fixture web)', async (t) => {
    const url = 'https://raw.githubusercontent.com/1EdTech/digital-credentials-public-validator/refs/heads/main/inspector-vc/src/test/resources/ob30/bit-string-list/testlist'
    const res = await verify({ url })
    t.equal(res.statusCode, 200)
    t.match(res.json(), { verified: true, credential: { type: ['VerifiableCredential', 'BitstringStatusListCredential'] } })
    assertProblem(t, await verify({ url: 'https://nowhere.example/badge.json' }), 400, 'not-a-credential')
  })

  await t.test('baked images as the body or as a multipart upload', async (t) => {
    const png = fixtureBytes('simple-json.png')
    t.equal((await verify(png, { 'content-type': 'image/png' })).json().verified, true)
    const upload = multipart('file', 'badge.png', 'image/png', png)
    const res = await verify(upload.payload, upload.headers)
    t.equal(res.statusCode, 200, res.body)
    t.equal(res.json().verified, true)
    const svg = multipart('file', 'badge.svg', 'image/svg+xml', fixtureBytes('simple-jwt.svg'))
    t.equal((await verify(svg.payload, svg.headers)).json().format, 'vc-jwt')
    const json = multipart('file', 'badge.json', 'application/json', Buffer.from(JSON.stringify(simple)))
    t.equal((await verify(json.payload, json.headers)).json().verified, true, 'a JSON file upload works too')
    const noFile = multipart('other', 'x.txt', 'text/plain', Buffer.from('x'))
    const missing = await verify(noFile.payload.toString().replace('filename="x.txt"', ''), noFile.headers)
    assertProblem(t, missing, 400, 'validation-failed')
  })

  await t.test('form fields: a pasted credential, a URL, an email to check; bad ones are 400s', async (t) => {
    const form = (fields: Record<string, string>) => {
      const boundary = `----lanyard${randomBytes(8).toString('hex')}`
      const payload = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`).join('') + `--${boundary}--\r\n`
      return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
    }
    const pasted = form({ credential: JSON.stringify(simple), email: '' })
    t.equal((await verify(pasted.payload, pasted.headers)).json().verified, true)
    const url = 'https://raw.githubusercontent.com/1EdTech/digital-credentials-public-validator/refs/heads/main/inspector-vc/src/test/resources/ob30/bit-string-list/testlist'
    const byUrl = form({ credential: '', url })
    t.equal((await verify(byUrl.payload, byUrl.headers)).json().verified, true)
    const withEmail = form({ credential: JSON.stringify(simple), email: 'ada@example.com' })
    t.match((await verify(withEmail.payload, withEmail.headers)).json().checks.at(-1), { check: 'recipient', status: 'failed' })
    const badEmail = form({ credential: JSON.stringify(simple), email: 'not-an-email' })
    t.match(assertProblem(t, await verify(badEmail.payload, badEmail.headers), 400, 'validation-failed').errors, [{ pointer: '/email' }])
    const badUrl = form({ url: 'ftp://example.com/x' })
    t.match(assertProblem(t, await verify(badUrl.payload, badUrl.headers), 400, 'validation-failed').errors, [{ pointer: '/url' }])
  })

  await t.test('a browser gets pages: the result, or the form again with the reason; a too-large upload is still a 413 problem', async (t) => {
    const html = { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8' }
    const upload = multipart('file', 'badge.png', 'image/png', fixtureBytes('simple-json.png'))
    const ok = await verify(upload.payload, { ...upload.headers, ...html })
    t.equal(ok.statusCode, 200)
    t.match(ok.headers['content-type'], /^text\/html/)
    t.match(ok.body, />Verified</)
    const junk = multipart('file', 'x.png', 'image/png', Buffer.from('GIF89a'))
    const bad = await verify(junk.payload, { ...junk.headers, ...html })
    t.equal(bad.statusCode, 400)
    t.match(bad.body, /role="alert"/)
    t.match(bad.body, /not a PNG or SVG/)
    const huge = multipart('file', 'big.png', 'image/png', Buffer.alloc(1_100_000, 1))
    const tooLarge = await verify(huge.payload, { ...huge.headers, ...html })
    t.equal(tooLarge.statusCode, 413)
    t.match(tooLarge.headers['content-type'], /problem\+json/)
    t.equal(tooLarge.json().code, 'body-too-large', 'with a code of its own')
  })

  await t.test('not a credential: 400 problems that say why', async (t) => {
    const cases: [unknown, Record<string, string>, RegExp][] = [
      [{ hello: 'world' }, {}, /not a credential/],
      ['just some words', { 'content-type': 'text/plain' }, /JSON or as a compact VC-JWT/],
      ['{"broken": ', { 'content-type': 'text/plain' }, /not valid JSON/],
      [Buffer.from('GIF89a....'), { 'content-type': 'image/png' }, /not a PNG or SVG/],
      [fixtureBytes('simple-json.png').subarray(0, 200), { 'content-type': 'image/png' }, /./],
      [Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"></svg>'), { 'content-type': 'image/svg+xml' }, /./],
      [{ credential: simple, url: 'https://example.com/b' }, {}, /exactly one of credential, jwt or url/],
      [{ url: 'ftp://example.com/b' }, {}, /http/],
      [{ credential: simple, recipient: { email: 'not-an-email' } }, {}, /email/],
      [`${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"iss":"x"}').toString('base64url')}.`, { 'content-type': 'text/plain' }, /does not carry a verifiable credential/]
    ]
    for (const [payload, headers, detail] of cases) {
      const res = await verify(payload, headers)
      t.match(res.statusCode, 400, `${JSON.stringify(payload).slice(0, 60)} → 400`)
      t.match(res.json().detail, detail)
    }
    const res = await verify('<x/>', { 'content-type': 'application/xml' })
    assertProblem(t, res, 415, 'unsupported-media-type')
  })
})

t.test('a multipart body without a boundary, or cut short, is a 400 problem naming it (for a browser, the form again), never a 500', async (t) => {
  const logged = await buildLoggedApp(t, await openTestDatabase(t, 'pglite'))
  const verify = (payload: string, headers: Record<string, string>) => logged.app.inject({ method: 'POST', url: '/verify', headers, payload })
  const field = (boundary: string) => `--${boundary}\r\nContent-Disposition: form-data; name="credential"\r\n\r\n{}\r\n--${boundary}--\r\n`
  const noBoundary: [string, string][] = [
    ['no boundary', 'multipart/form-data'],
    ['an empty boundary', 'multipart/form-data; boundary='],
    ['a boundary longer than RFC 2046\'s 70 characters', `multipart/form-data; boundary=${'b'.repeat(300)}`]
  ]
  for (const [label, contentType] of noBoundary) {
    const body = assertProblem(t, await verify(field('b'.repeat(300)), { 'content-type': contentType }), 400, 'invalid-multipart')
    t.same(body.errors, [{ pointer: '/content-type', message: 'needs a boundary parameter of 1–70 characters', in: 'headers' }], label)
    t.match(body.detail, /boundary/)
  }
  const quoted = await verify(field('a b'), { 'content-type': 'multipart/form-data; boundary="a b"; charset=utf-8' })
  t.equal(quoted.statusCode, 400)
  t.match(quoted.json(), { code: 'not-a-credential' }, 'a quoted boundary, then another parameter, frames the form: its field is read')

  const cutShort = `--x\r\nContent-Disposition: form-data; name="file"; filename="badge.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG`
  const truncated = assertProblem(t, await verify(cutShort, { 'content-type': 'multipart/form-data; boundary=x' }), 400, 'invalid-multipart')
  t.match(truncated, { detail: /closing boundary/, errors: [{ pointer: '', in: 'body' }] }, 'a file part the body ends inside')

  const page = await verify('hello', { 'content-type': 'multipart/form-data', accept: 'text/html' })
  t.equal(page.statusCode, 400)
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.body, /role="alert"[^]*boundary/, 'a browser gets the form again, saying what is wrong')
  t.same(errorLines(logged), [], 'nothing logged as an error')
})

t.test('a signed badge whose JSON-LD cannot expand is a 200 report whose format check names the rule, on the proof threads and in-process', async (t) => {
  const database = await openTestDatabase(t, 'pglite')
  const web = fixtureWeb()
  const threads = await buildLoggedApp(t, database, { fetchDocument: web.fetch })
  const inProcess = await buildLoggedApp(t, database, { fetchDocument: web.fetch, env: { LANYARD_SIGNING_THREADS: '0' } })
  const simple = JSON.parse(fixtureText('simple.json'))
  const cases: [string, Json, RegExp][] = [
    ['an embedded context redefining a protected term', { ...simple, credentialSubject: { ...simple.credentialSubject, '@context': { id: 'https://example.org/vocab#id' } } }, /protected term redefinition "id"/],
    ['a subject type with a number in it', { ...simple, credentialSubject: { ...simple.credentialSubject, type: ['AchievementSubject', 5] } }, /invalid type value \["AchievementSubject",5\]/]
  ]
  for (const [label, credential, rule] of cases) {
    const reports = []
    for (const logged of [threads, inProcess]) {
      const res = await logged.app.inject({ method: 'POST', url: '/verify', payload: credential })
      t.equal(res.statusCode, 200, `${label}: ${res.body.slice(0, 200)}`)
      const report = res.json()
      t.equal(report.verified, false)
      t.match(report.checks.find((c: Json) => c.check === 'format'), { status: 'failed', message: new RegExp(`^Not valid JSON-LD: ${rule.source}`) }, label)
      t.match(report.checks.find((c: Json) => c.check === 'proof'), { status: 'failed', message: rule }, `${label}: the proof could not be checked, and says why`)
      reports.push(report)
      const vcApi = await logged.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: credential } })
      t.match(assertProblem(t, vcApi, 422, 'verification-failed').errors, [{ check: 'format', message: rule }], `${label}: VC-API answers 422 for generic tooling`)
    }
    t.same(reports[0], reports[1], `${label}: the same report from the threads and in-process`)
  }
  t.same([...errorLines(threads), ...errorLines(inProcess)], [], 'nothing logged as an error')
})

t.test('verify-by-URL behind the guard', async (t) => {
  await t.test('refuses loopback, private and link-local addresses, and plain http', async (t) => {
    const { app } = await buildTestApp(t, await openTestDatabase(t, 'pglite'))
    for (const url of ['https://127.0.0.1/badge.json', 'https://10.0.0.7/badge.json', 'https://169.254.169.254/latest/meta-data/', 'https://[::1]/badge.json', 'https://localhost/badge.json', 'http://example.com/badge.json']) {
      const res = await app.inject({ method: 'POST', url: '/verify', payload: { url } })
      const body = assertProblem(t, res, 400, 'not-a-credential')
      t.match(body.detail, url.startsWith('http:') ? /https/ : /private/, url)
    }
  })

  await t.test('refuses a redirect into a private address', async (t) => {
    const { server, url } = await listen((_req, res) => { res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end() })
    t.teardown(() => server.close())
    // Only the test server's address is let through, as a public host would be; everything else keeps the default rule.
    const fetchDocument = networkFetcher({ ...DEFAULT_FETCH_POLICY, allowHttp: true, isAllowedAddress: (address) => address === '127.0.0.1' })
    const { app } = await buildTestApp(t, await openTestDatabase(t, 'pglite'), { fetchDocument })
    const res = await app.inject({ method: 'POST', url: '/verify', payload: { url: `${url}/badge.json` } })
    t.match(assertProblem(t, res, 400, 'not-a-credential').detail, /169\.254\.169\.254.*private/)
  })

  await t.test('gives up on a server that never answers, and lets go of the connection', async (t) => {
    let closed = false
    const { server, url } = await listen((req) => { req.socket.on('close', () => { closed = true }) })
    t.teardown(() => server.close())
    const { app } = await buildTestApp(t, await openTestDatabase(t, 'pglite'), { env: { LANYARD_ALLOW_PRIVATE_FETCH: 'true', LANYARD_FETCH_TIMEOUT_MS: '300' } })
    const started = Date.now()
    const res = await app.inject({ method: 'POST', url: '/verify', payload: { url: `${url}/slow.json` } })
    t.match(assertProblem(t, res, 400, 'not-a-credential').detail, /within 300 ms/)
    t.ok(Date.now() - started < 3000, `answered in ${Date.now() - started} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
    t.ok(closed, 'the socket was closed')
  })

  await t.test('with private fetching allowed, a local badge URL is fetched and verified', async (t) => {
    const body = fixtureText('simple.json')
    const { server, url } = await listen((_req, res) => { res.writeHead(200, { 'content-type': 'application/ld+json' }).end(body) })
    t.teardown(() => server.close())
    const { app } = await buildTestApp(t, await openTestDatabase(t, 'pglite'), { env: { LANYARD_ALLOW_PRIVATE_FETCH: 'true' } })
    const res = await app.inject({ method: 'POST', url: '/verify', payload: { url: `${url}/simple.json` } })
    t.equal(res.statusCode, 200)
    t.match(res.json().checks.find((c: Json) => c.check === 'proof'), { status: 'failed', message: /could not fetch/i }, 'its key host is not reachable: a failed proof, not a pass')
  })
})

t.test('1,000 malformed inputs: only 400s or reports', async (t) => {
  const web = fixtureWeb()
  const { app } = await buildTestApp(t, await openTestDatabase(t, 'pglite'), { fetchDocument: web.fetch, env: { PUBLIC_RATE_LIMIT: '100000' } })
  const simpleText = fixtureText('simple.json')
  const simple = JSON.parse(simpleText)
  const png = fixtureBytes('simple-json.png')
  // Seeded, so every run (and its coverage) is the same: mulberry32.
  let seed = 0x5eed
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
  const random = (n: number) => Math.floor(next() * n)
  const randomBuffer = (n: number) => Buffer.from(Array.from({ length: n }, () => random(256)))
  const junkValues = [null, 0, -1, 1e308, true, '', 'x'.repeat(5000), [], {}, [null], { '@context': 5 }, 'did:web:[::1]', 'https://127.0.0.1/x']

  const inputs: { payload: unknown; headers: Record<string, string> }[] = []
  for (let i = 0; i < 250; i++) inputs.push({ payload: simpleText.slice(0, random(simpleText.length)), headers: { 'content-type': 'application/json' } })
  for (let i = 0; i < 150; i++) {
    const bytes = Buffer.from(png)
    for (let j = 0; j < 1 + random(20); j++) bytes[8 + random(bytes.length - 8)] = random(256)
    inputs.push({ payload: i % 3 === 0 ? randomBuffer(random(4000)) : i % 3 === 1 ? bytes : bytes.subarray(0, random(bytes.length)), headers: { 'content-type': 'image/png' } })
  }
  for (let i = 0; i < 150; i++) {
    const header = [{ alg: 'none' }, { alg: 'HS256' }, { alg: 'RS256', jwk: { kty: 'RSA', n: 'AQAB', e: 'AQAB' } }, { alg: 'EdDSA', kid: 'https://10.0.0.1/k' }, { alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256', d: 'x' } }][i % 5]
    const payload = i % 2 === 0 ? { vc: simple } : { ...simple, iss: 'x', nbf: 'soon' }
    const jwt = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${randomBuffer(random(64)).toString('base64url')}`
    inputs.push({ payload: jwt, headers: { 'content-type': 'application/vc+jwt' } })
  }
  for (let i = 0; i < 300; i++) {
    const mutated = structuredClone(simple)
    const paths: (string | number)[][] = [['issuer'], ['credentialSubject'], ['proof'], ['proof', 0], ['proof', 0, 'verificationMethod'], ['validFrom'], ['type'], ['@context'], ['@context', 1], ['credentialSubject', 'achievement'], ['credentialStatus'], ['endorsement'], ['issuer', 'id'], ['proof', 0, 'cryptosuite']]
    const path = paths[i % paths.length]!
    let node = mutated
    for (const key of path.slice(0, -1)) node = node[key] ?? (node[key] = {})
    node[path.at(-1)!] = junkValues[random(junkValues.length)]
    inputs.push({ payload: mutated, headers: {} })
  }
  for (let i = 0; i < 150; i++) {
    const depth = 50 + random(20_000)
    const nested = i % 2 === 0 ? '['.repeat(depth) + ']'.repeat(depth) : `{"credential":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`
    inputs.push({ payload: i % 3 === 0 ? `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"credentialSubject":${'['.repeat(depth)}${']'.repeat(depth)}}` : nested, headers: { 'content-type': 'application/json' } })
  }
  t.equal(inputs.length, 1000)

  const statuses = new Map<number, number>()
  const started = Date.now()
  for (const input of inputs) {
    const res = await app.inject({ method: 'POST', url: '/verify', headers: input.headers, payload: input.payload as string })
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    if (res.statusCode !== 200 && res.statusCode !== 400) t.fail(`${res.statusCode} for ${String(input.payload).slice(0, 80)}: ${res.body.slice(0, 200)}`)
  }
  t.same([...statuses.keys()].sort(), [...statuses.keys()].filter((s) => s === 200 || s === 400).sort(), `statuses: ${JSON.stringify([...statuses])}`)
  t.ok(Date.now() - started < 120_000, `all answered in ${Date.now() - started} ms`)
})
