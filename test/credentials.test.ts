import { createHash } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { admin, bearer, buildTestApp, createApiKey, createIssuer, onEachDatabase } from './helpers/app.js'
import { createAchievement, HOST, resolverFor } from './helpers/credentials.js'
import { verifyDataIntegrity, verifyVcJwt, type JwtVerification } from './helpers/independent-verifier.js'
import { officialSchemaValidator } from './helpers/ob3.js'

const validateCredential = officialSchemaValidator('achievementcredential')

type Variant = { format: string; jwtAlg?: string }
const DI_FORMATS: Variant[] = [{ format: 'eddsa-rdfc-2022' }, { format: 'Ed25519Signature2020' }]
const JWT_FORMATS: Variant[] = [{ format: 'vc-jwt' }, { format: 'vc-jwt', jwtAlg: 'ES256' }, { format: 'vc-jwt', jwtAlg: 'EdDSA' }]

function label(variant: Variant): string {
  return variant.jwtAlg === undefined ? variant.format : `${variant.format} ${variant.jwtAlg}`
}

/** Verifies what the admin API returned, independently: the embedded proof, or the JWT. */
async function verifyIssued(app: FastifyInstance, issued: { credential: object; jwt?: string }): Promise<JwtVerification> {
  const resolve = resolverFor(app)
  return issued.jwt === undefined ? verifyDataIntegrity(issued.credential, resolve) : verifyVcJwt(issued.jwt, resolve)
}

/** The JWT with its payload changed and the old signature kept. */
function withPayload(jwt: string, change: (payload: Record<string, any>) => void): string {
  const [header, payload, signature] = jwt.split('.')
  const decoded = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'))
  change(decoded)
  return [header, Buffer.from(JSON.stringify(decoded)).toString('base64url'), signature].join('.')
}

const TAMPERINGS: [string, (credential: Record<string, any>) => void][] = [
  ['name', (c) => { c.name = 'Master Welder' }],
  ['recipient hash', (c) => { c.credentialSubject.identifier[0].identityHash = `sha256$${'0'.repeat(64)}` }],
  ['validFrom', (c) => { c.validFrom = '2020-01-01T00:00:00Z' }],
  ['achievement id', (c) => { c.credentialSubject.achievement.id = 'https://badges.example.edu/achievements/forged' }],
  ['issuer id', (c) => { c.issuer.id = 'did:web:evil.example.com' }]
]

await onEachDatabase(t, async (t, database) => {
  const { app, db } = await buildTestApp(t, database)
  const resolve = resolverFor(app)
  const webIssuer = await createIssuer(app)
  const keyIssuer = await createIssuer(app, { did: 'key' })
  const webBadge = await createAchievement(app, webIssuer.id)
  const keyBadge = await createAchievement(app, keyIssuer.id)

  const issue = (payload: Record<string, unknown>, headers: Record<string, string> = admin) =>
    app.inject({ method: 'POST', url: '/v1/credentials', headers, payload })

  for (const [issuerKind, issuer, badge, variants] of [
    ['did:web', webIssuer, webBadge, [...DI_FORMATS, ...JWT_FORMATS]],
    ['did:key', keyIssuer, keyBadge, [...DI_FORMATS, { format: 'vc-jwt', jwtAlg: 'EdDSA' }]]
  ] as const) {
    for (const variant of variants) {
      await t.test(`${issuerKind} ${label(variant)}: verifies independently, meets the official schema, and tampering breaks it`, async (t) => {
        const res = await issue({ achievementId: badge.id, recipient: { email: 'learner@example.com' }, ...variant })
        t.equal(res.statusCode, 201, res.body)
        const issued = res.json()
        t.match(issued, { format: variant.format, status: 'active', issuerId: issuer.id, achievementId: badge.id, url: `https://${HOST}/credentials/${issued.id}` })
        t.equal(issued.jwtAlg, variant.format === 'vc-jwt' ? (variant.jwtAlg ?? 'RS256') : null)

        const verification = await verifyIssued(app, issued)
        t.ok(verification.verified, `independent verifier: ${verification.error ?? 'ok'}`)
        const credential = issued.jwt === undefined ? issued.credential : verification.payload
        t.same(validateCredential(credential), [], 'valid against the official OB 3.0 AchievementCredential schema')
        t.match(credential, {
          '@context': ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json', 'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json'],
          id: issued.url,
          type: ['VerifiableCredential', 'OpenBadgeCredential'],
          issuer: { id: issuer.did, type: ['Profile'], name: issuer.name },
          name: badge.name,
          credentialSubject: { type: ['AchievementSubject'], achievement: { id: badge.achievementUrl, type: ['Achievement'], name: badge.name } },
          credentialSchema: [{ id: 'https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json', type: '1EdTechJsonSchemaValidator2019' }]
        })

        if (issued.jwt !== undefined) {
          const { header, payload } = verification as Required<JwtVerification>
          t.same(Object.keys(header).sort(), ['alg', 'kid', 'typ'])
          t.match(header, { alg: variant.jwtAlg ?? 'RS256', typ: 'JWT' })
          t.match(payload, { iss: issuer.did, jti: issued.url, nbf: Date.parse(issued.credential.validFrom as string) / 1000 })
          t.notOk('sub' in payload, 'no sub: an email recipient has no subject id')
          for (const [field, change] of TAMPERINGS) {
            const forged = withPayload(issued.jwt, change)
            t.notOk((await verifyVcJwt(forged, resolve)).verified, `changing the ${field} fails verification`)
          }
          return
        }
        for (const [field, change] of TAMPERINGS) {
          const forged = structuredClone(issued.credential)
          change(forged)
          t.notOk((await verifyDataIntegrity(forged, resolve)).verified, `changing the ${field} fails verification`)
        }
        const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(issued.credential).reverse()), null, 7))
        t.ok((await verifyDataIntegrity(reordered, resolve)).verified, 'other key order and whitespace still verify')
      })
    }
  }

  await t.test('the public URL serves exactly the bytes that were signed', async (t) => {
    for (const variant of [{}, { format: 'vc-jwt' }]) {
      const issued = (await issue({ achievementId: webBadge.id, recipient: { did: 'did:example:learner' }, ...variant })).json()
      const row = await db.selectFrom('credentials').select('signed').where('id', '=', issued.id).executeTakeFirstOrThrow()
      const accept = issued.jwt === undefined ? 'application/ld+json' : 'application/vc+jwt'
      const published = await app.inject({ method: 'GET', url: `/credentials/${issued.id}`, headers: { accept } })
      t.equal(published.statusCode, 200)
      t.match(published.headers['content-type'], new RegExp(`^${accept.replace('+', '\\+')}(;|$)`))
      t.equal(published.body, row.signed, 'served as stored, byte for byte')
      if (issued.jwt === undefined) t.same(JSON.parse(published.body), issued.credential)
      else t.equal(published.body, issued.jwt)
    }
  })

  await t.test('a DID or URL recipient is the subject id and the JWT sub', async (t) => {
    const byDid = (await issue({ achievementId: webBadge.id, recipient: { did: 'did:example:ann', name: 'Ann Lee' }, format: 'vc-jwt' })).json()
    t.match(byDid.credential.credentialSubject, { id: 'did:example:ann', name: 'Ann Lee' })
    t.notOk('identifier' in byDid.credential.credentialSubject)
    t.equal((await verifyVcJwt(byDid.jwt, resolve)).payload?.sub, 'did:example:ann')
    const byUrl = (await issue({ achievementId: webBadge.id, recipient: { url: 'https://ann.example.net/' } })).json()
    t.equal(byUrl.credential.credentialSubject.id, 'https://ann.example.net/')
  })

  await t.test('an email is published only as a salted hash; each credential has its own salt', async (t) => {
    const email = 'Grace.Hopper@Example.EDU'
    const first = (await issue({ achievementId: webBadge.id, recipient: { email, externalId: 'lms-42' } })).json()
    const second = (await issue({ achievementId: webBadge.id, recipient: { email: email.toLowerCase() }, format: 'vc-jwt' })).json()
    for (const issued of [first, second]) {
      const [identity] = issued.credential.credentialSubject.identifier
      t.match(identity, { type: 'IdentityObject', identityType: 'emailAddress', hashed: true })
      const expected = `sha256$${createHash('sha256').update(`grace.hopper@example.edu${identity.salt}`).digest('hex')}`
      t.equal(identity.identityHash, expected, 'sha256 of the lower-cased address and the salt')
      for (const reply of [JSON.stringify(issued), ...await publicReplies(app, issued.id)]) {
        t.notOk(reply.toLowerCase().includes('grace.hopper'), 'the address appears in no reply')
      }
    }
    t.not(first.credential.credentialSubject.identifier[0].salt, second.credential.credentialSubject.identifier[0].salt)
    t.equal(first.recipientId, second.recipientId, 'the same person (any letter case) is one recipient')
    const recipient = await db.selectFrom('recipients').selectAll().where('id', '=', first.recipientId).executeTakeFirstOrThrow()
    t.match(recipient, { identity_type: 'email', identity: 'grace.hopper@example.edu', external_id: 'lms-42' }, 'a later issue without externalId keeps it')
  })

  await t.test('validity dates: given ones are used in whole seconds, and expiry is reflected in the status', async (t) => {
    const issued = (await issue({
      achievementId: webBadge.id, recipient: { did: 'did:example:dates' },
      validFrom: '2024-01-01T10:00:00.750+02:00', validUntil: '2025-01-01T00:00:00Z', format: 'vc-jwt', jwtAlg: 'EdDSA'
    })).json()
    t.match(issued, { validFrom: '2024-01-01T08:00:00.000Z', validUntil: '2025-01-01T00:00:00.000Z', status: 'expired' })
    t.match(issued.credential, { validFrom: '2024-01-01T08:00:00Z', validUntil: '2025-01-01T00:00:00Z' })
    const { payload } = await verifyVcJwt(issued.jwt, resolve)
    t.match(payload, { nbf: Date.parse('2024-01-01T08:00:00Z') / 1000, exp: Date.parse('2025-01-01T00:00:00Z') / 1000 })
  })

  await t.test('narrative and evidence are part of the signed credential', async (t) => {
    const issued = (await issue({
      achievementId: webBadge.id, recipient: { did: 'did:example:evidence' }, narrative: 'Welded the final seam under observation.',
      evidence: [{ id: 'https://lms.example.edu/submissions/9', name: 'Final weld', genre: 'Photograph' }, { narrative: 'Observed by the instructor.' }]
    })).json()
    t.match(issued.credential, {
      credentialSubject: { narrative: 'Welded the final seam under observation.' },
      evidence: [{ id: 'https://lms.example.edu/submissions/9', type: ['Evidence'], name: 'Final weld', genre: 'Photograph' }, { type: ['Evidence'], narrative: 'Observed by the instructor.' }]
    })
    t.same(validateCredential(issued.credential), [])
    t.ok((await verifyDataIntegrity(issued.credential, resolve)).verified)
  })

  await t.test('a did:key issuer cannot sign RS256 or ES256: 422, nothing stored', async (t) => {
    const before = await countRows(app)
    const res = await issue({ achievementId: keyBadge.id, recipient: { did: 'did:example:x' }, format: 'vc-jwt', jwtAlg: 'ES256' })
    t.equal(res.statusCode, 422)
    t.match(res.json(), { code: 'key-algorithm-unavailable', detail: /did:key/ })
    t.same(await countRows(app), before)
  })

  await t.test('a credential that would fail the OB 3.0 schema is refused with 422 and never signed', async (t) => {
    const broken = await createAchievement(app, webIssuer.id)
    // Only a damaged row can get past the API's own checks: an achievementType the spec does not define.
    await db.updateTable('achievements').set({ achievement_type: 'NotAType' }).where('id', '=', broken.id).execute()
    const before = await countRows(app)
    const res = await issue({ achievementId: broken.id, recipient: { did: 'did:example:x' } })
    t.equal(res.statusCode, 422)
    t.match(res.json(), { code: 'credential-invalid', errors: [{ pointer: '', message: /achievementType/ }] })
    t.same(await countRows(app), before, 'no credential, recipient or audit row')
  })

  await t.test('bad requests answer 400 with a pointer per problem and write nothing', async (t) => {
    const before = await countRows(app)
    const cases: [Record<string, unknown>, string[]][] = [
      [{ achievementId: webBadge.id, recipient: {} }, ['/recipient']],
      [{ achievementId: webBadge.id, recipient: { email: 'a@example.com', did: 'did:example:a' } }, ['/recipient']],
      [{ achievementId: webBadge.id, recipient: { email: 'not-an-email' } }, ['/recipient/email']],
      [{ achievementId: webBadge.id, recipient: { did: 'example:a' } }, ['/recipient/did']],
      [{ achievementId: webBadge.id, recipient: { did: 'did:example:a' }, format: 'jws' }, ['/format']],
      [{ achievementId: webBadge.id, recipient: { did: 'did:example:a' }, jwtAlg: 'RS256' }, ['/jwtAlg']],
      [{ achievementId: webBadge.id, recipient: { did: 'did:example:a' }, format: 'vc-jwt', jwtAlg: 'HS256' }, ['/jwtAlg']],
      [{ achievementId: webBadge.id, recipient: { did: 'did:example:a' }, validFrom: '2026-01-02T00:00:00Z', validUntil: '2026-01-01T00:00:00Z' }, ['/validUntil']],
      [{ achievementId: webBadge.id, recipient: { did: 'did:example:a' }, validFrom: 'yesterday' }, ['/validFrom']],
      [{ achievementId: webBadge.id, recipient: { did: 'did:example:a' }, evidence: [{ id: 'ftp://x' }] }, ['/evidence/0/id']],
      [{ achievementId: 'nope', recipient: { did: 'did:example:a' }, colour: 'red' }, ['/achievementId', '/colour']]
    ]
    for (const [payload, pointers] of cases) {
      const res = await issue(payload)
      t.equal(res.statusCode, 400, JSON.stringify(payload))
      t.match(res.headers['content-type'], /^application\/problem\+json/)
      t.same(res.json().errors.map((e: { pointer: string }) => e.pointer).sort(), pointers.sort(), JSON.stringify(payload))
    }
    t.same(await countRows(app), before)
  })

  await t.test('an unknown achievement, or another tenant\'s, is a 404', async (t) => {
    const { key } = await createApiKey(app, keyIssuer.id)
    for (const [achievementId, headers] of [['00000000-0000-4000-8000-000000000000', admin], [webBadge.id, bearer(key)]] as const) {
      const res = await issue({ achievementId, recipient: { did: 'did:example:a' } }, headers)
      t.equal(res.statusCode, 404)
      t.match(res.json(), { code: 'not-found' })
    }
    const own = await issue({ achievementId: keyBadge.id, recipient: { did: 'did:example:a' } }, bearer(key))
    t.equal(own.statusCode, 201, 'an API key issues its own issuer\'s badges')
  })

  await t.test('each issue is in the audit log without the recipient\'s address', async (t) => {
    const issued = (await issue({ achievementId: webBadge.id, recipient: { email: 'audit.me@example.com' } })).json()
    const events = (await app.inject({ method: 'GET', url: `/v1/audit-events?issuerId=${webIssuer.id}`, headers: admin })).json().items
    const event = events.find((e: { targetId: string }) => e.targetId === issued.id)
    t.match(event, { action: 'credential.issued', actor: 'admin', details: { achievementId: webBadge.id, recipientId: issued.recipientId, format: 'eddsa-rdfc-2022' } })
    t.notOk(JSON.stringify(events).includes('audit.me'))
  })
})

async function publicReplies(app: FastifyInstance, id: string): Promise<string[]> {
  const replies: string[] = []
  for (const accept of ['application/json', 'application/vc+jwt', 'text/html']) {
    replies.push((await app.inject({ method: 'GET', url: `/credentials/${id}`, headers: { accept } })).body)
  }
  return replies
}

async function countRows(app: FastifyInstance): Promise<Record<string, number>> {
  const counts = (await app.inject({ method: 'GET', url: '/v1/credentials?limit=200', headers: admin })).json().items.length
  const audit = (await app.inject({ method: 'GET', url: '/v1/audit-events?limit=200', headers: admin })).json().items.length
  return { credentials: counts, audit }
}
