// The OpenAPI fuzz test (issue 18): for every operation of the served /openapi.json, requests generated from its
// parameters and request schema — valid, mutated, and garbage, with every kind of caller and Content-Type — against an app
// with real fixtures. Every reply must be below 500; every 4xx a problem+json (or the route's documented other shape);
// nothing may be logged at error level; and the server must still issue and verify afterwards.
// FUZZ_SEED (printed) replays a run; FUZZ_RUNS sets the number of requests per database.
import { Writable } from 'node:stream'
import fc from 'fast-check'
import type { FastifyInstance, FastifyServerOptions, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { buildApp } from '../src/app.js'
import { hashToken } from '../src/api-keys/tokens.js'
import { loadConfig } from '../src/config.js'
import { createKeyring } from '../src/crypto/keyring.js'
import { loggerOptions } from '../src/http/logging.js'
import { ADMIN_TOKEN, admin, bearer, createApiKey, createIssuer, onEachDatabase, TEST_MASTER_KEY, type TestDatabase } from './helpers/app.js'
import { createAchievement } from './helpers/credentials.js'
import { anyJson, fromSchema, garbageString, mutated, percentEncoded, rawJsonBodies, type Json, type JsonSchema, type SchemaContext } from './helpers/fuzz.js'
import { newHolder, presentation } from './helpers/holder.js'
import { solidPngDataUri } from './helpers/png.js'
import { keyProof, walletKey } from './helpers/wallet.js'

const SEED = Number(process.env.FUZZ_SEED ?? 18_2026)
const RUNS = Number(process.env.FUZZ_RUNS ?? 3_000)
const PUBLIC_URL = 'https://badges.example.edu'
// Small enough that bodies just over it are cheap to build and send; big enough for every real request here.
const BODY_LIMIT = 200_000
const LIMITS = { bodyLimit: BODY_LIMIT }

// 3,000 requests per database keep the file near a minute under coverage on 2 cores (8,000 took 165 s, the suite's longest
// file); FUZZ_RUNS=20000 for a deeper run by hand. .taprc's 120 s per file is too little on a busy machine, and a fuzz run
// cut short by a timeout reports nothing useful.
t.setTimeout(360_000)
t.comment(`FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} (per database)`)

interface LogEntry {
  level: number
  msg?: string
  err?: { type?: string; message?: string }
  /** Set on the request's own log lines; background work (a webhook dispatcher, say) logs without it. */
  reqId?: string
}

/** The app as production builds it (its own logger at warn, into memory), with no network: foreign documents fail to fetch. */
async function fuzzApp(t: Test, database: TestDatabase) {
  const logged: LogEntry[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') logged.push(JSON.parse(line) as LogEntry)
      callback()
    }
  })
  const config = loadConfig({
    PUBLIC_URL, LOG_LEVEL: 'warn', DATA_DIR: '/nonexistent', PUBLIC_RATE_LIMIT: '10000000', BODY_LIMIT: String(BODY_LIMIT),
    // Generated URLs are loopback on a closed port (loopbackUrl): allowing private addresses lets webhooks be created and
    // their deliveries attempted, each refused at once, without a request leaving the machine.
    LANYARD_ALLOW_PRIVATE_FETCH: 'true'
  })
  const app = await buildApp({
    config, db: database.db, keyring: createKeyring(TEST_MASTER_KEY), adminTokenHash: hashToken(ADMIN_TOKEN),
    logger: { ...(loggerOptions(config) as Exclude<FastifyServerOptions['logger'], boolean | undefined>), stream },
    fetchDocument: async (url) => { throw new Error(`the fuzz test has no network (${url})`) }
  })
  t.teardown(() => app.close())
  await app.ready()
  return { app, logged }
}

type Reply = LightMyRequestResponse

async function expectStatus(reply: Promise<Reply>, status: number, what: string): Promise<Reply> {
  const res = await reply
  if (res.statusCode !== status) throw new Error(`${what} answered ${res.statusCode}: ${res.body.slice(0, 500)}`)
  return res
}

/** Real rows and secrets for the generators to aim at: issuers, keys, a badge, credentials in each format, claims, a wallet session. */
async function fixtures(app: FastifyInstance) {
  const issuer = await createIssuer(app, { name: 'Fuzz College' })
  const other = await createIssuer(app, { name: 'Other Institute', did: 'key' })
  const apiKey = await createApiKey(app, issuer.id)
  const otherKey = await createApiKey(app, other.id)
  const spareKey = await createApiKey(app, issuer.id)
  const badge = await createAchievement(app, issuer.id, { image: { id: solidPngDataUri(), caption: 'A blue square' } })
  const issue = async (payload: Record<string, Json>) =>
    (await expectStatus(app.inject({ method: 'POST', url: '/v1/credentials', headers: bearer(apiKey.key), payload }), 201, 'issuing a fixture')).json()
  const ldp = await issue({ achievementId: badge.id, recipient: { email: 'fuzz@example.org', name: 'Fuzz Learner' }, deliver: true })
  const legacy = await issue({ achievementId: badge.id, recipient: { did: 'did:example:learner' }, format: 'Ed25519Signature2020', deliver: true })
  const jwt = await issue({ achievementId: badge.id, recipient: { email: 'jwt@example.org' }, format: 'vc-jwt', jwtAlg: 'EdDSA', deliver: { txCode: true } })
  const png = (await expectStatus(app.inject({ method: 'GET', url: `/credentials/${ldp.id}/badge.png` }), 200, 'the baked PNG')).rawPayload
  const svg = (await expectStatus(app.inject({ method: 'GET', url: `/credentials/${ldp.id}/badge.svg` }), 200, 'the baked SVG')).body

  const claimSecrets = (claim: { claimUrl: string; lcwDeepLink: string; credentialOffer: string }) => {
    const vcRequestUrl = new URL(claim.lcwDeepLink).searchParams.get('vc_request_url')!
    const offer = JSON.parse(new URL(claim.credentialOffer).searchParams.get('credential_offer')!)
    return {
      token: claim.claimUrl.split('/').pop()!,
      exchangeId: vcRequestUrl.split('/').pop()!,
      preAuthorizedCode: offer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']['pre-authorized_code'] as string
    }
  }
  const open = claimSecrets(ldp.claim)
  const withTxCode = claimSecrets(jwt.claim)
  // Its own claim for the token endpoint: the exchange's seeds may well use the first one up before the token's run.
  const forToken = claimSecrets((await expectStatus(app.inject({ method: 'POST', url: `/v1/credentials/${ldp.id}/claims`, headers: admin, payload: {} }), 201, 'a second claim')).json())

  // One claim's code redeemed here, so the credential endpoint sees a live access token and a key proof over a fresh nonce.
  const session = claimSecrets(legacy.claim)
  const token = (await expectStatus(app.inject({
    method: 'POST', url: '/oid4vci/token',
    payload: { grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': session.preAuthorizedCode }
  }), 200, 'redeeming the fixture claim')).json()
  const nonce = (await expectStatus(app.inject({ method: 'POST', url: '/oid4vci/nonce' }), 200, 'the nonce endpoint')).json().c_nonce
  const proof = await keyProof(await walletKey('EdDSA'), PUBLIC_URL, nonce)

  // LCW's exchange: its request names the challenge and domain the holder must sign.
  const holder = await newHolder()
  const vpRequest = (await expectStatus(app.inject({ method: 'POST', url: `/exchanges/${open.exchangeId}`, payload: {} }), 200, 'the exchange')).json().verifiablePresentationRequest
  const didAuth = await presentation(holder, [], { challenge: vpRequest.challenge, domain: vpRequest.domain })
  const presented = await presentation(holder, [ldp.credential], { challenge: 'fuzz-challenge', domain: 'fuzz.example' })

  const statusListId = new URL(ldp.credential.credentialStatus.statusListCredential).pathname.split('/').pop()!
  const credentialIds = [ldp.id, legacy.id, jwt.id]
  const vcApiCredential = {
    '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiableCredential'], issuer: issuer.did,
    name: 'Library access', credentialSubject: { id: 'did:example:reader' }
  }

  /** Real values by the resource a path parameter names. */
  const ids: Record<string, string[]> = {
    issuers: [issuer.id, other.id], achievements: [badge.id], credentials: credentialIds, status: [statusListId],
    claim: [open.token, withTxCode.token, forToken.token], exchanges: [open.exchangeId, withTxCode.exchangeId], 'api-keys': [spareKey.id]
  }
  /** Known-good JSON bodies by operation: mutating these reaches far deeper than anything generated from the schema alone. */
  const seeds: Record<string, Json[]> = {
    'POST /verify': [ldp.credential, legacy.credential, { credential: ldp.credential }, { jwt: jwt.jwt }, { url: ldp.url }, { credential: ldp.credential, recipient: { email: 'fuzz@example.org' } }],
    'POST /credentials/verify': [{ verifiableCredential: ldp.credential }, { verifiableCredential: jwt.jwt }, { verifiableCredential: legacy.credential, options: { recipient: { id: 'did:example:learner' } } }],
    'POST /presentations/verify': [{ verifiablePresentation: presented, options: { challenge: 'fuzz-challenge', domain: 'fuzz.example' } }],
    'POST /exchanges/{exchangeId}': [{}, { verifiablePresentation: didAuth }, didAuth],
    'POST /oid4vci/token': [
      { grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': forToken.preAuthorizedCode },
      { grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': withTxCode.preAuthorizedCode, tx_code: '123456' }
    ],
    'POST /oid4vci/credential': [
      { credential_configuration_id: 'OpenBadgeCredential_ldp_vc', proofs: { jwt: [proof] } },
      { format: 'jwt_vc_json', proof: { proof_type: 'jwt', jwt: proof } }
    ],
    'POST /credentials/issue': [{ credential: vcApiCredential }, { credential: vcApiCredential, options: { format: 'vc-jwt', credentialStatus: { type: 'BitstringStatusListEntry' } } }],
    'POST /v1/credentials': [{ achievementId: badge.id, recipient: { email: 'seed@example.org' } }],
    'POST /v1/credentials/batch': [{ achievementId: badge.id, format: 'vc-jwt', items: [{ recipient: { email: 'one@example.org' } }, { recipient: { did: 'did:example:two' }, narrative: 'Seeded.' }] }],
    'POST /v1/credentials/revoke': [{ ids: [legacy.id], reason: 'fuzz' }],
    'POST /v1/issuers': [{ name: 'Seed College', url: 'https://seed.example.edu', did: 'key' }],
    'POST /v1/issuers/{issuerId}/achievements': [{ name: 'Seed Badge', description: 'Seeded.', criteria: { narrative: 'Be seeded.' }, image: { id: solidPngDataUri(8) } }],
    'POST /v1/api-keys': [{ issuerId: issuer.id, name: 'Seed LMS' }]
  }
  /** Raw bodies POST /verify reads besides JSON. */
  const rawSeeds: Record<string, { contentType: string; body: string | Buffer }[]> = {
    'POST /verify': [
      { contentType: 'application/vc+jwt', body: jwt.jwt }, { contentType: 'text/plain', body: jwt.jwt }, { contentType: 'image/png', body: png },
      { contentType: 'image/svg+xml', body: svg }, multipart({ file: png }), multipart({ credential: JSON.stringify(ldp.credential), email: 'fuzz@example.org' }),
      multipart({ url: ldp.url })
    ]
  }
  return {
    badge, ids, seeds, rawSeeds,
    uuids: [issuer.id, other.id, badge.id, ...credentialIds],
    known: [issuer.did, other.did, ldp.url, jwt.jwt, open.token, open.exchangeId, forToken.preAuthorizedCode, nonce, proof, `${PUBLIC_URL}/issuers/${issuer.id}`],
    auth: {
      admin: admin.authorization, 'api-key': `Bearer ${apiKey.key}`, 'other-issuer-key': `Bearer ${otherKey.key}`, 'access-token': `Bearer ${token.access_token}`,
      'unknown-key': 'Bearer lny_not-a-real-key', 'basic': 'Basic YWRtaW46YWRtaW4=', 'empty-bearer': 'Bearer '
    } as Record<string, string>
  }
}

type Fixtures = Awaited<ReturnType<typeof fixtures>>

const BOUNDARY = 'fuzzboundary'

function multipart(fields: Record<string, string | Buffer>): { contentType: string; body: Buffer } {
  const parts = Object.entries(fields).map(([name, value]) => Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\ncontent-disposition: form-data; name="${name}"${Buffer.isBuffer(value) ? `; filename="${name}.bin"\r\ncontent-type: application/octet-stream` : ''}\r\n\r\n`),
    Buffer.from(value), Buffer.from('\r\n')
  ]))
  return { contentType: `multipart/form-data; boundary=${BOUNDARY}`, body: Buffer.concat([...parts, Buffer.from(`--${BOUNDARY}--\r\n`)]) }
}

// ---- the document -------------------------------------------------------------------------------------------------

interface Parameter { in: 'path' | 'query' | 'header'; name: string; schema: JsonSchema }
interface Operation {
  key: string
  method: string
  path: string
  parameters: Parameter[]
  body?: JsonSchema
  authenticated: boolean
}

function operationsOf(document: { paths: Record<string, Record<string, any>> }): Operation[] {
  return Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({
    key: `${method.toUpperCase()} ${path}`,
    method: method.toUpperCase(),
    path,
    parameters: (operation.parameters ?? []) as Parameter[],
    body: operation.requestBody?.content?.['application/json']?.schema as JsonSchema | undefined,
    authenticated: Array.isArray(operation.security) && operation.security.length > 0
  })))
}

// ---- requests -----------------------------------------------------------------------------------------------------

/** A generated request; `auth` names the caller (the token is filled in when sent, so the reproducer stays readable). */
interface FuzzRequest {
  method: string
  url: string
  auth: string
  headers: Record<string, string>
  body?: string | Buffer
}

const MALFORMED_SEGMENTS = fc.constantFrom('%', '%zz', '%c0%af', '%e2%82', '%00', '%2f', '%252e', 'a%ZZb', '..', '.', '%ff%fe', '%u0041', `${'%41'.repeat(40)}`)

function pathSegment(real: readonly string[], allReal: readonly string[]): fc.Arbitrary<string> {
  // Failures shrink towards a real id: the reproducer then differs from a good request only where it must.
  return fc.oneof(
    { withCrossShrink: true },
    ...(real.length > 0 ? [{ weight: 5, arbitrary: fc.constantFrom(...real) }] : []),
    { weight: 1, arbitrary: fc.constantFrom(...allReal) },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 3, arbitrary: garbageString.map(percentEncoded) },
    { weight: 1, arbitrary: garbageString },
    { weight: 1, arbitrary: MALFORMED_SEGMENTS }
  )
}

/** The fixture ids a path parameter may take: by the segment before it (`/issuers/{id}`), or by its name (`{issuerId}`). */
function resourceOf(path: string, name: string): string {
  if (name === 'issuerId') return 'issuers'
  const segments = path.split('/')
  return segments[segments.indexOf(`{${name}}`) - 1] ?? ''
}

/** A parameter's value as text: from its schema, or garbage. */
function parameterValue(parameter: Parameter, context: SchemaContext): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fromSchema(parameter.schema, context).map((value) => (typeof value === 'string' ? value : JSON.stringify(value))) },
    { weight: 1, arbitrary: garbageString }
  )
}

function queryString(operation: Operation, context: SchemaContext): fc.Arbitrary<string> {
  const declared = operation.parameters.filter((p) => p.in === 'query')
  const pairs = fc.tuple(
    ...declared.map((parameter) => fc.option(parameterValue(parameter, context).map((value): [string, string] => [parameter.name, value]), { freq: 2, nil: undefined })),
    fc.array(fc.tuple(fc.oneof(fc.constantFrom(...declared.map((p) => p.name), '__proto__', 'constructor', 'a[b]', 'limit[]', ''), garbageString), garbageString), { maxLength: 2 })
  )
  const encoding = fc.constantFrom('encoded', 'encoded', 'encoded', 'raw')
  return fc.tuple(pairs, encoding).map(([all, how]) => {
    // Read, never modified: fast-check shrinks from the values it generated.
    const extras = all[all.length - 1] as [string, string][]
    const list = [...(all.slice(0, -1) as ([string, string] | undefined)[]).filter((pair) => pair !== undefined), ...extras]
    const encode = how === 'raw' ? (s: string) => s : percentEncoded
    return list.length === 0 ? '' : `?${list.map(([key, value]) => `${encode(key)}=${encode(value)}`).join('&')}`
  })
}

const ODD_CONTENT_TYPES = fc.constantFrom(
  'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', `multipart/form-data; boundary=${BOUNDARY}`, 'application/ld+json',
  'application/vc+jwt', 'image/png', 'image/svg+xml', 'application/json; charset=utf-16', 'application/json; charset=latin1', 'APPLICATION/JSON',
  'application/json;;', 'a/b/c', 'text/html', 'application/octet-stream', ''
)

/** `value` written as `contentType` says, as well as it can be: a form of its members, a multipart of its members, or text. */
function encodedAs(contentType: string, value: unknown): string | Buffer {
  const members = typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.entries(value) : [['value', value] as const]
  const text = (member: unknown) => (typeof member === 'string' ? member : JSON.stringify(member) ?? '')
  if (contentType === 'application/x-www-form-urlencoded') return new URLSearchParams(members.map(([k, v]) => [k, text(v)])).toString()
  if (contentType.startsWith('multipart/form-data; boundary=')) return multipart(Object.fromEntries(members.map(([k, v]) => [k, text(v)]))).body
  return typeof value === 'string' ? value : JSON.stringify(value) ?? ''
}

type Body = { contentType?: string; body?: string | Buffer }

/** Truncated and byte-flipped copies of raw bodies: a PNG cut short, a JWT with one wrong byte. */
function damaged(raw: fc.Arbitrary<{ contentType: string; body: string | Buffer }>): fc.Arbitrary<Body> {
  return fc.tuple(raw, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()).map(([{ contentType, body }, at, byte, cut]) => {
    const bytes = Buffer.from(body)
    if (bytes.length === 0) return { contentType, body: bytes }
    if (cut) return { contentType, body: bytes.subarray(0, at % bytes.length) }
    const copy = Buffer.from(bytes)
    copy[at % copy.length] = byte
    return { contentType, body: copy }
  })
}

function bodyArbitrary(operation: Operation, fixture: Fixtures, context: SchemaContext): fc.Arbitrary<Body> {
  const seeds = fixture.seeds[operation.key] ?? []
  const rawSeeds = fixture.rawSeeds[operation.key] ?? []
  const sources: fc.WeightedArbitrary<unknown>[] = [{ weight: 1, arbitrary: anyJson }]
  if (operation.body !== undefined) {
    const valid = fromSchema(operation.body, context)
    sources.push({ weight: 4, arbitrary: valid }, { weight: 4, arbitrary: mutated(valid, LIMITS) })
  }
  if (seeds.length > 0) sources.push({ weight: 3, arbitrary: fc.constantFrom(...seeds) }, { weight: 5, arbitrary: mutated(fc.constantFrom(...seeds), LIMITS) })
  const values = fc.oneof(...sources)
  const documented = operation.body !== undefined || seeds.length > 0
  return fc.oneof(
    // No body first, and cross-shrinking: a failure that does not need its body loses it.
    { withCrossShrink: true },
    { weight: documented ? 1 : 12, arbitrary: fc.constant<Body>({}) },
    { weight: documented ? 12 : 1, arbitrary: values.map((value): Body => ({ contentType: 'application/json', body: JSON.stringify(value) })) },
    { weight: 2, arbitrary: rawJsonBodies(LIMITS).map((body): Body => ({ contentType: 'application/json', body })) },
    { weight: 3, arbitrary: fc.tuple(ODD_CONTENT_TYPES, values).map(([contentType, value]): Body => ({ contentType, body: encodedAs(contentType, value) })) },
    ...(rawSeeds.length > 0 ? [{ weight: 4, arbitrary: fc.constantFrom(...rawSeeds) }, { weight: 4, arbitrary: damaged(fc.constantFrom(...rawSeeds)) }] : [])
  )
}

const ACCEPT = fc.constantFrom(
  'application/json', 'text/html', '*/*', 'application/ld+json', 'application/vc+ld+json', 'application/vc+jwt', 'application/problem+json',
  'image/png', 'text/html,application/xhtml+xml,*/*;q=0.8', 'application/json;q=0, text/html;q=0', 'garbage', ''
)

function requestArbitrary(operation: Operation, fixture: Fixtures, context: SchemaContext): fc.Arbitrary<FuzzRequest> {
  const allReal = Object.values(fixture.ids).flat()
  const pathParameters = operation.parameters.filter((p) => p.in === 'path')
  const path = fc.tuple(...pathParameters.map((p) => pathSegment(fixture.ids[resourceOf(operation.path, p.name)] ?? [], allReal))).map((values) =>
    pathParameters.reduce((url, p, i) => url.replace(`{${p.name}}`, values[i]!), operation.path))
  // Mostly callers who may ask, so requests get past authentication; each kind of bad credential now and then.
  const allowed = operation.authenticated
    ? fc.constantFrom('admin', 'api-key', 'api-key', 'other-issuer-key')
    : fc.constantFrom('none', 'none', 'admin', 'api-key', ...(operation.path.startsWith('/oid4vci/') ? ['access-token', 'access-token', 'access-token'] : []))
  const callers = fc.oneof({ weight: 3, arbitrary: allowed }, { weight: 1, arbitrary: fc.constantFrom('none', 'unknown-key', 'basic', 'empty-bearer') })
  const headerParameters = operation.parameters.filter((p) => p.in === 'header')
  const headers = fc.record({
    accept: ACCEPT,
    'x-request-id': garbageString,
    origin: fc.constantFrom('https://elsewhere.example', 'null'),
    'access-control-request-method': fc.constantFrom('POST', 'GET', 'DELETE'),
    ...Object.fromEntries(headerParameters.map((p) => [p.name, parameterValue(p, context)]))
  }, { requiredKeys: [] })
  return fc.record({ path, query: queryString(operation, context), auth: callers, headers, body: bodyArbitrary(operation, fixture, context) })
    .map(({ path, query, auth, headers, body }) => ({
      method: operation.method, url: path + query, auth,
      headers: { ...(headers as Record<string, string>), ...(body.contentType !== undefined && { 'content-type': body.contentType }) },
      ...(body.body !== undefined && { body: body.body })
    }))
}

/** A documented operation's requests with another method: HEAD and OPTIONS (CORS preflights) among them. */
function otherMethodArbitrary(requests: fc.Arbitrary<FuzzRequest>[]): fc.Arbitrary<FuzzRequest> {
  // Cross-shrinking lets a failure shrink towards the first operation (GET /health), the plainest reproducer.
  return fc.tuple(fc.oneof({ withCrossShrink: true }, ...requests), fc.constantFrom('HEAD', 'OPTIONS', 'PUT', 'DELETE', 'PATCH', 'GET', 'POST'))
    .map(([request, method]) => ({ ...request, method }))
}

/** Requests for no documented route: random paths under the prefixes we serve. */
function strayRequestArbitrary(): fc.Arbitrary<FuzzRequest> {
  const prefix = fc.constantFrom('/', '/v1/', '/issuers/', '/credentials/', '/.well-known/', '/oid4vci/', '/claim/', '/status/', '/docs/', '/openapi.json/')
  const segments = fc.array(fc.oneof(garbageString.map(percentEncoded), MALFORMED_SEGMENTS, fc.constantFrom('..', '', 'v1', 'issuers')), { maxLength: 3 })
  return fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'TRACE', 'PROPFIND'),
    url: fc.tuple(prefix, segments).map(([start, rest]) => start + rest.join('/')),
    auth: fc.constantFrom('none', 'admin', 'unknown-key'),
    headers: fc.record({ accept: ACCEPT }, { requiredKeys: [] }) as fc.Arbitrary<Record<string, string>>
  })
}

// ---- judging ------------------------------------------------------------------------------------------------------

/** The OID4VCI endpoints answer errors as RFC 6749 `{ error, error_description }`, the shape OID4VCI requires (see OAuthError). */
const OAUTH_ROUTES = new Set(['POST /oid4vci/token', 'POST /oid4vci/credential'])
/** Routes that answer a person (Accept: text/html) with an HTML page, errors included. */
const HTML_ROUTES = [/^GET \/claim\/[^/]+$/, /^POST \/verify$/]

function routeOf(request: FuzzRequest): string {
  return `${request.method} ${request.url.split('?')[0]}`
}

/** A reply that breaks the rules: what is wrong with it, and the reply itself, for the report. */
class Fault extends Error {
  constructor(message: string, readonly reply: string) {
    super(message)
  }
}

/** What is wrong with this reply, or undefined. */
function fault(request: FuzzRequest, res: Reply, errors: LogEntry[]): string | undefined {
  if (errors.length > 0) return `logged at error: ${errors.map((e) => `${e.msg ?? ''} ${e.err?.type ?? ''}: ${e.err?.message ?? ''}`.trim()).join(' | ')}`
  if (res.statusCode >= 500) return `answered ${res.statusCode}`
  if (res.statusCode < 400) return undefined
  if (/node_modules|\bat .+\.(ts|js):\d+/.test(res.body)) return `a ${res.statusCode} that shows a stack trace`
  const contentType = String(res.headers['content-type'] ?? '')
  const route = routeOf(request)
  if (HTML_ROUTES.some((pattern) => pattern.test(route)) && contentType.startsWith('text/html')) return undefined
  if (request.method === 'HEAD') return contentType.startsWith('application/problem+json') ? undefined : `a ${res.statusCode} as ${contentType || 'no content-type'}, not application/problem+json`
  let body: any
  try {
    body = JSON.parse(res.body)
  } catch {
    return `a ${res.statusCode} whose body is not JSON (${contentType || 'no content-type'})`
  }
  if (OAUTH_ROUTES.has(route)) {
    if (!contentType.startsWith('application/json')) return `an OAuth error as ${contentType || 'no content-type'}, not application/json`
    return typeof body?.error === 'string' && typeof body?.error_description === 'string' ? undefined : 'an OAuth error without error and error_description'
  }
  if (!contentType.startsWith('application/problem+json')) return `a ${res.statusCode} as ${contentType || 'no content-type'}, not application/problem+json`
  const members = typeof body?.type === 'string' && body.type.startsWith('urn:lanyard:problem:') && typeof body.title === 'string' && typeof body.detail === 'string'
  if (!members) return 'a problem without type (urn:lanyard:problem:…), title and detail'
  return body.status === res.statusCode ? undefined : `a problem whose status ${body.status} is not the reply's ${res.statusCode}`
}

/** A string or body for a report: JSON-quoted (so control characters show), bytes as text when they are UTF-8, cut at `max`. */
function shown(text: string | Buffer, max = 400): string {
  const utf8 = Buffer.isBuffer(text) && !text.toString('utf8').includes('\ufffd') ? text.toString('utf8') : undefined
  const value = Buffer.isBuffer(text) ? (utf8 !== undefined ? `<bytes> ${JSON.stringify(utf8)}` : `<${text.length} bytes, hex> ${text.subarray(0, 64).toString('hex')}`) : JSON.stringify(text)
  return value.length > max ? `${value.slice(0, max)}… (${Buffer.byteLength(text)} bytes)` : value
}

/** A request as a person would retype it: method and URL, the caller, the headers, the body. */
function described(request: FuzzRequest): string {
  return [
    `${request.method} ${shown(request.url, 300)}`,
    `caller: ${request.auth}`,
    ...Object.entries(request.headers).map(([name, value]) => `${name}: ${shown(value, 200)}`),
    ...(request.body === undefined ? [] : [`body: ${shown(request.body)}`])
  ].join('\n')
}

// ---- the run ------------------------------------------------------------------------------------------------------

await onEachDatabase(t, async (t, database) => {
  const { app, logged } = await fuzzApp(t, database)
  const fixture = await fixtures(app)
  const document = (await expectStatus(app.inject({ method: 'GET', url: '/openapi.json' }), 200, 'GET /openapi.json')).json()
  const operations = operationsOf(document)
  const context: SchemaContext = { root: document, uuids: fixture.uuids, known: fixture.known }
  const setupErrors = logged.filter((entry) => entry.level >= 50)
  t.same(setupErrors, [], 'the fixtures were made without errors in the log')

  const send = async (request: FuzzRequest): Promise<Reply> => {
    const authorization = fixture.auth[request.auth]
    return app.inject({
      method: request.method as 'GET', url: request.url,
      headers: { ...request.headers, ...(authorization !== undefined && { authorization }) },
      ...(request.body !== undefined && { payload: request.body })
    })
  }
  const check = async (request: FuzzRequest) => {
    const before = logged.length
    const res = await send(request)
    // Only this request's own error lines: background work logs while requests run, and is checked once at the end.
    const errors = logged.slice(before).filter((entry) => entry.level >= 50 && entry.reqId === res.headers['x-request-id'])
    const problem = fault(request, res, errors)
    if (problem !== undefined) throw new Fault(problem, `${res.statusCode} ${res.headers['content-type'] ?? '(no content-type)'} ${shown(res.body, 600)}`)
  }

  // One property per target, so one operation's failure does not hide another's; odd methods and unknown paths get their own.
  // Runs go where the code is: an operation with parameters, a body and known-good seeds gets six times a bare GET's.
  const weightOf = (operation: Operation) => 1 + (operation.parameters.length > 0 ? 1 : 0) + (operation.body !== undefined ? 2 : 0)
    + (fixture.seeds[operation.key] !== undefined || fixture.rawSeeds[operation.key] !== undefined ? 2 : 0)
  const documented = operations.map((operation): [string, fc.Arbitrary<FuzzRequest>, number] => [operation.key, requestArbitrary(operation, fixture, context), weightOf(operation)])
  const targets: [label: string, arbitrary: fc.Arbitrary<FuzzRequest>, weight: number][] = [
    ...documented,
    ['documented paths, other methods', otherMethodArbitrary(documented.map(([, arbitrary]) => arbitrary)), 2],
    ['no documented route', strayRequestArbitrary(), 1]
  ]
  const totalWeight = targets.reduce((sum, [, , weight]) => sum + weight, 0)
  const started = Date.now()
  let sent = 0
  for (const [index, [label, arbitrary, weight]] of targets.entries()) {
    const details = await fc.check(fc.asyncProperty(arbitrary, async (request) => {
      sent++
      await check(request)
    }), {
      seed: SEED + index, numRuns: Math.max(1, Math.round((RUNS * weight) / totalWeight)),
      // Shrinking replays requests, one after another: a bound keeps a failing operation from eating the file's time.
      interruptAfterTimeLimit: 30_000
    })
    if (!details.failed) t.pass(`${label}: ${details.numRuns} requests`)
    else {
      const error = details.errorInstance
      t.fail(`${label}: ${error instanceof Fault ? error.message : 'the property threw'}`, {
        request: described(details.counterexample![0]),
        reply: error instanceof Fault ? error.reply : error instanceof Error ? error.stack : String(error),
        replay: `FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} (this property: seed ${SEED + index}, ${details.numRuns} runs; shrunk ${details.numShrinks} times)`
      })
    }
  }
  t.comment(`${database.kind}: ${sent} requests (shrinking included) in ${((Date.now() - started) / 1000).toFixed(1)} s`)

  await t.test('the server is healthy afterwards: health, issuing and verifying', async (t) => {
    const health = await app.inject({ method: 'GET', url: '/health' })
    t.equal(health.statusCode, 200, 'GET /health answers 200', { body: health.body })
    const issued = await app.inject({
      method: 'POST', url: '/v1/credentials', headers: { authorization: fixture.auth['api-key']! },
      payload: { achievementId: fixture.badge.id, recipient: { email: 'after@example.org' } }
    })
    // The fuzz changed the badge and its issuer only in ways the API accepted (a 2xx), so they must still be issuable.
    t.equal(issued.statusCode, 201, 'the API key still issues the fixture badge', { body: shown(issued.body, 1500) })
    if (issued.statusCode === 201) {
      const verified = await app.inject({ method: 'POST', url: '/verify', payload: issued.json().credential })
      t.equal(verified.statusCode, 200, 'and /verify still answers', { body: shown(verified.body, 1000) })
      t.equal(verified.json().verified, true, 'a credential issued after the fuzz verifies')
    }
    const errors = new Set(logged.filter((entry) => entry.level >= 50).map((entry) => `${entry.msg ?? ''}: ${entry.err?.type ?? ''} ${entry.err?.message ?? ''}`))
    t.same([...errors], [], 'nothing was logged at error level or above, by requests or by background work')
  })
})
