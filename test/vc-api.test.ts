import { randomUUID } from 'node:crypto'
import type { FastifyInstance, InjectOptions } from 'fastify'
import type { Kysely } from 'kysely'
import t, { type Test } from 'tap'
import type { Database } from '../src/db/schema.js'
import { admin, bearer, createApiKey, createIssuer, onEachDatabase, assertProblem } from './helpers/app.js'
import { verifyDataIntegrity, verifyVcJwt } from './helpers/independent-verifier.js'
import { createAchievement, resolverFor } from './helpers/credentials.js'
import { buildLoggedApp, errorLines } from './helpers/logged-app.js'

type Json = Record<string, any>
type Reply = Awaited<ReturnType<FastifyInstance['inject']>>

const V2 = 'https://www.w3.org/ns/credentials/v2'
const V1 = 'https://www.w3.org/2018/credentials/v1'
const EXAMPLES = 'https://example.org/vocab#'
/** An inline context defining the example's own terms: signing canonicalizes in safe mode, which refuses undefined ones. */
const EXAMPLE_CONTEXT = {
  ExampleDegreeCredential: `${EXAMPLES}ExampleDegreeCredential`,
  ExampleBachelorDegree: `${EXAMPLES}ExampleBachelorDegree`,
  degree: `${EXAMPLES}degree`
}

/** A VC 2.0 credential that is not an Open Badge. */
function degreeCredential(issuer: string | Json): Json {
  return {
    '@context': [V2, EXAMPLE_CONTEXT],
    id: `urn:uuid:${randomUUID()}`,
    type: ['VerifiableCredential', 'ExampleDegreeCredential'],
    issuer,
    validFrom: '2025-01-01T00:00:00Z',
    credentialSubject: {
      id: 'did:example:ebfeb1f712ebc6f1c276e12ec21',
      name: 'Pat Doe',
      degree: { type: 'ExampleBachelorDegree', name: 'Bachelor of Science and Arts' }
    }
  }
}

/** A VC 1.1 credential using the v1 context only. */
function vc11(issuer: string): Json {
  return {
    '@context': [V1],
    id: `urn:uuid:${randomUUID()}`,
    type: ['VerifiableCredential'],
    issuer,
    issuanceDate: '2025-03-01T09:30:00Z',
    credentialSubject: { id: 'did:example:learner-42' }
  }
}


/** The compact JWS inside an EnvelopedVerifiableCredential. */
function envelopedJwt(t: Test, enveloped: Json): string {
  t.same(Object.keys(enveloped).sort(), ['@context', 'id', 'type'])
  t.same(enveloped['@context'], [V2])
  t.equal(enveloped.type, 'EnvelopedVerifiableCredential')
  t.match(enveloped.id, /^data:application\/vc\+jwt,[\w-]+\.[\w-]+\.[\w-]+$/)
  return (enveloped.id as string).slice('data:application/vc+jwt,'.length)
}

async function credentialRows(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('credentials').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
  return Number(row.n)
}

await onEachDatabase(t, async (t, database) => {
  // Signing on the proof threads (the default) and, on the same database, in-process (LANYARD_SIGNING_THREADS=0).
  const logged = await buildLoggedApp(t, database)
  const inProcess = await buildLoggedApp(t, database, { env: { LANYARD_SIGNING_THREADS: '0' } })
  const { app } = logged
  const { db } = database
  const resolve = resolverFor(app)
  const college = await createIssuer(app, { name: 'Northwind College' })
  const other = await createIssuer(app, { name: 'Southport Institute', did: 'key' })
  const { key } = await createApiKey(app, college.id)
  const collegeKey = bearer(key)

  const issue = (payload: unknown, headers: InjectOptions['headers'] = collegeKey) =>
    app.inject({ method: 'POST', url: '/credentials/issue', headers, payload: payload as Json })
  const signed = async (payload: unknown, headers?: InjectOptions['headers']): Promise<Json> => {
    const res = await issue(payload, headers)
    if (res.statusCode !== 201) throw new Error(`POST /credentials/issue answered ${res.statusCode}: ${res.body}`)
    return res.json().verifiableCredential
  }

  await t.test('a VC 2.0 credential that is not an Open Badge is signed eddsa-rdfc-2022 for assertionMethod and kept as sent', async (t) => {
    const credential = degreeCredential(college.did)
    const res = await issue({ credential })
    t.equal(res.statusCode, 201, res.body)
    t.same(Object.keys(res.json()), ['verifiableCredential'])
    const { proof, ...rest } = res.json().verifiableCredential
    t.same(rest, credential, 'id, @context (in order), type, issuer, credentialSubject and dates as sent; nothing added but the proof')
    t.match(proof, { type: 'DataIntegrityProof', cryptosuite: 'eddsa-rdfc-2022', proofPurpose: 'assertionMethod', proofValue: /^z/ })
    t.ok(proof.verificationMethod.startsWith(`${college.did}#`), 'signed with the issuer\'s key')
    t.same(await verifyDataIntegrity(res.json().verifiableCredential, resolve), { verified: true })
  })

  await t.test('issuer may be an object with id and name, and the v2 context alone is enough for v2 terms', async (t) => {
    const credential = {
      '@context': [V2],
      type: ['VerifiableCredential'],
      issuer: { id: college.did, name: 'Northwind College' },
      name: 'Library access',
      description: 'May borrow from the college library.',
      credentialSubject: [{ id: 'did:example:reader-1', name: 'Pat Doe' }, { id: 'did:example:reader-2' }]
    }
    const vc = await signed({ credential, options: {} })
    const { proof, ...rest } = vc
    t.same(rest, credential)
    t.equal(proof.cryptosuite, 'eddsa-rdfc-2022')
    t.same(await verifyDataIntegrity(vc, resolve), { verified: true })
  })

  await t.test('the admin token signs for any issuer of this Lanyard', async (t) => {
    const vc = await signed({ credential: degreeCredential(other.did) }, admin)
    t.ok(vc.proof.verificationMethod.startsWith(`${other.did}#`))
    t.same(await verifyDataIntegrity(vc, resolve), { verified: true })
  })

  await t.test('a term no context defines is a 4xx problem naming it, never a 500, and nothing is stored', async (t) => {
    const before = await credentialRows(db)
    const undefinedTerm = degreeCredential(college.did)
    undefinedTerm.credentialSubject.favouriteColour = 'green'
    const { ExampleDegreeCredential: _, ...withoutType } = EXAMPLE_CONTEXT
    const undefinedType = { ...degreeCredential(college.did), '@context': [V2, withoutType] }
    const unknownContext = { ...degreeCredential(college.did), '@context': [V2, 'https://example.com/contexts/degree.jsonld'] }
    for (const [label, credential, mention] of [
      ['an undefined property', undefinedTerm, /favouriteColour/],
      ['an undefined type', undefinedType, /ExampleDegreeCredential/],
      ['an unknown context URL', unknownContext, /example\.com\/contexts\/degree\.jsonld/]
    ] as const) {
      for (const format of ['eddsa-rdfc-2022', 'Ed25519Signature2020']) {
        const res = await issue({ credential, options: { format } })
        t.ok(res.statusCode >= 400 && res.statusCode < 500, `${label}, ${format}: 4xx, got ${res.statusCode} ${res.body}`)
        t.match(res.headers['content-type'], /^application\/problem\+json/)
        t.match(res.json().detail, mention, `${label}, ${format}: the problem says what is wrong`)
      }
    }
    t.equal(await credentialRows(db), before)
  })

  await t.test('a credential breaking a VC data model rule the signer checks is a 4xx problem naming it, never a 500', async (t) => {
    const before = await credentialRows(db)
    const base = degreeCredential(college.did)
    const cases: [string, Json, RegExp][] = [
      ['a subject id that is not a URI', { ...base, credentialSubject: { id: 'pat', name: 'Pat Doe' } }, /credentialSubject\.id.*must be a URI/],
      ['a subject that makes no claim', { ...base, credentialSubject: {} }, /credentialSubject.*must make a claim/],
      ['an evidence id that is not a URI', { ...base, evidence: [{ id: 'nope', type: ['Evidence'], name: 'Final weld' }] }, /evidence.*must be a URI/]
    ]
    for (const [label, credential, mention] of cases) {
      const res = await issue({ credential })
      t.ok(res.statusCode >= 400 && res.statusCode < 500, `${label}: 4xx, got ${res.statusCode} ${res.body}`)
      t.match(res.headers['content-type'], /^application\/problem\+json/)
      t.match(res.json().detail, mention, `${label}: the problem says what is wrong`)
    }
    t.equal(await credentialRows(db), before)
  })

  await t.test('a VC 1.1 credential signs and verifies with eddsa-rdfc-2022 and with Ed25519Signature2020', async (t) => {
    for (const [format, proofType, addedContext] of [
      ['eddsa-rdfc-2022', 'DataIntegrityProof', 'https://w3id.org/security/data-integrity/v2'],
      ['Ed25519Signature2020', 'Ed25519Signature2020', 'https://w3id.org/security/suites/ed25519-2020/v1']
    ] as const) {
      const credential = vc11(college.did)
      const vc = await signed({ credential, options: { format } })
      const { proof, ...rest } = vc
      t.same(rest, { ...credential, '@context': [V1, addedContext] }, `${format}: kept as sent; the suite's context appended`)
      t.match(proof, { type: proofType, proofPurpose: 'assertionMethod' })
      t.same(await verifyDataIntegrity(vc, resolve), { verified: true }, format)
    }
  })

  await t.test('a VC 1.1 credential sent without issuanceDate is dated now', async (t) => {
    const { issuanceDate: _, ...credential } = vc11(college.did)
    const before = Date.now()
    const vc = await signed({ credential })
    t.match(vc.issuanceDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    t.ok(Math.abs(Date.parse(vc.issuanceDate) - before) < 60_000, 'the time of issue')
    t.same(await verifyDataIntegrity(vc, resolve), { verified: true })
  })

  await t.test('options.format vc-jwt answers an EnvelopedVerifiableCredential whose JWT verifies: RS256 by default, EdDSA on request', async (t) => {
    for (const jwtAlg of [undefined, 'EdDSA']) {
      const credential = degreeCredential(college.did)
      const vc = await signed({ credential, options: { format: 'vc-jwt', ...(jwtAlg ? { jwtAlg } : {}) } })
      const jwt = envelopedJwt(t, vc)
      const verification = await verifyVcJwt(jwt, resolve)
      t.ok(verification.verified, `independent verifier: ${verification.error ?? 'ok'}`)
      t.match(verification.header, { alg: jwtAlg ?? 'RS256', typ: 'JWT', kid: new RegExp(`^${college.did}#`) })
      t.match(verification.payload, { ...credential, iss: college.did, jti: credential.id, sub: credential.credentialSubject.id })
    }
  })

  await t.test('vc-jwt on a VC 2.0 credential without validFrom is signed, with no nbf claim', async (t) => {
    const { validFrom: _, ...credential } = degreeCredential(college.did)
    const res = await issue({ credential, options: { format: 'vc-jwt', jwtAlg: 'EdDSA' } })
    t.equal(res.statusCode, 201, res.body)
    const jwt = envelopedJwt(t, res.json().verifiableCredential)
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'))
    t.match(payload, { ...credential, iss: college.did, jti: credential.id })
    t.notOk('nbf' in payload, 'nothing to derive nbf from')
  })

  await t.test('vc-jwt on a VC 1.1 credential is a 422 problem', async (t) => {
    const before = await credentialRows(db)
    const body = assertProblem(t, await issue({ credential: vc11(college.did), options: { format: 'vc-jwt' } }), 422, 'format-unsupported')
    t.match(body.detail, /VC Data Model 2\.0/)
    t.equal(await credentialRows(db), before)
  })

  await t.test('an OpenBadgeCredential that meets the OB 3.0 schema is signed and verifies', async (t) => {
    const badge = await createAchievement(app, college.id)
    const issued = (await app.inject({
      method: 'POST', url: '/v1/credentials', headers: admin,
      payload: { achievementId: badge.id, recipient: { did: 'did:example:welder' } }
    })).json()
    // The OB 3.0 schema requires an id: the caller's own, here a fresh URN.
    const { proof: _, ...credential } = { ...issued.credential, id: `urn:uuid:${randomUUID()}` }
    const vc = await signed({ credential })
    const { proof, ...rest } = vc
    t.same(rest, credential)
    t.equal(proof.cryptosuite, 'eddsa-rdfc-2022')
    t.same(await verifyDataIntegrity(vc, resolve), { verified: true })
  })

  await t.test('an OpenBadgeCredential missing its achievement is a 422 pointing under /credential, and nothing is stored', async (t) => {
    const badge = await createAchievement(app, college.id)
    const issued = (await app.inject({
      method: 'POST', url: '/v1/credentials', headers: admin,
      payload: { achievementId: badge.id, recipient: { did: 'did:example:welder' }, format: 'vc-jwt', jwtAlg: 'EdDSA' }
    })).json()
    const credential = { ...structuredClone(issued.credential), id: `urn:uuid:${randomUUID()}` }
    delete credential.credentialSubject.achievement
    const before = await credentialRows(db)
    const body = assertProblem(t, await issue({ credential }), 422, 'credential-invalid')
    t.ok(body.errors.length > 0)
    for (const error of body.errors) t.match(error.pointer, /^\/credential(\/|$)/, error.message)
    t.ok(body.errors.some((e: { pointer: string; message: string }) => e.pointer === '/credential/credentialSubject' && /achievement/.test(e.message)))
    t.equal(await credentialRows(db), before)
  })

  await t.test('a signed credential is stored: listed without achievement or recipient, and served at its public URL', async (t) => {
    const credential = degreeCredential(college.did)
    credential.validUntil = '2099-01-01T00:00:00Z'
    const res = await issue({ credential })
    const vc = res.json().verifiableCredential
    const { items } = (await app.inject({ method: 'GET', url: `/v1/credentials?issuerId=${college.id}&limit=200`, headers: admin })).json()
    const item = items.find((i: Json) => i.credential.id === credential.id)
    t.match(item, {
      format: 'eddsa-rdfc-2022', jwtAlg: null, status: 'active', issuerId: college.id, achievementId: null, recipientId: null,
      validFrom: '2025-01-01T00:00:00.000Z', validUntil: '2099-01-01T00:00:00.000Z'
    })
    t.same(item.credential, vc)
    const row = await db.selectFrom('credentials').select('signed').where('id', '=', item.id).executeTakeFirstOrThrow()
    const published = await app.inject({ method: 'GET', url: `/credentials/${item.id}` })
    t.equal(published.statusCode, 200)
    t.equal(published.body, row.signed, 'the public URL serves the signed bytes')
    t.same(published.json(), vc)

    const page = await app.inject({ method: 'GET', url: `/credentials/${item.id}`, headers: { accept: 'text/html' } })
    t.equal(page.statusCode, 200)
    t.match(page.body, /<title>Open Badge<\/title>/, 'a credential without an achievement gets a generic title')
    t.match(page.body, new RegExp(`<dt>Issued by</dt><dd>${college.did}</dd>`), 'an issuer given as a string is shown as its DID')
    t.match(page.body, /<dt>Awarded to<\/dt><dd>Pat Doe<\/dd>/)

    const events = (await app.inject({ method: 'GET', url: `/v1/audit-events?issuerId=${college.id}&limit=200`, headers: admin })).json().items
    t.match(events.find((e: Json) => e.targetId === item.id), {
      action: 'credential.issued', actor: /^api-key:/, details: { via: 'vc-api', credentialId: credential.id, format: 'eddsa-rdfc-2022' }
    })
  })

  await t.test('stored VC 1.1 and vc-jwt credentials keep their dates, and the JWT is served as application/vc+jwt', async (t) => {
    const v1 = vc11(college.did)
    v1.expirationDate = '2098-01-01T00:00:00Z'
    const v1Signed = await signed({ credential: v1 })
    const jwtSigned = await signed({ credential: { ...degreeCredential(college.did), credentialSubject: [{ id: 'did:example:a' }] }, options: { format: 'vc-jwt', jwtAlg: 'EdDSA' } })
    const jwt = envelopedJwt(t, jwtSigned)
    const { items } = (await app.inject({ method: 'GET', url: `/v1/credentials?issuerId=${college.id}&limit=200`, headers: admin })).json()
    t.match(items.find((i: Json) => i.credential.id === v1.id), { validFrom: '2025-03-01T09:30:00.000Z', validUntil: '2098-01-01T00:00:00.000Z' })
    t.same(items.find((i: Json) => i.credential.id === v1.id).credential, v1Signed)
    const jwtItem = items.find((i: Json) => i.jwt === jwt)
    t.match(jwtItem, { format: 'vc-jwt', jwtAlg: 'EdDSA', achievementId: null, recipientId: null })
    const published = await app.inject({ method: 'GET', url: `/credentials/${jwtItem.id}`, headers: { accept: 'application/vc+jwt' } })
    t.equal(published.body, jwt)
    t.same((await app.inject({ method: 'GET', url: `/credentials/${jwtItem.id}` })).json(), jwtSigned, 'as JSON, the same envelope')
    const page = await app.inject({ method: 'GET', url: `/credentials/${jwtItem.id}`, headers: { accept: 'text/html' } })
    t.match(page.body, /<dt>Awarded to<\/dt><dd>the holder of this badge<\/dd>/, 'a subject without a name')
  })

  await t.test('malformed credentials answer 400 with a pointer, never 401 or 500, and store nothing', async (t) => {
    const base = degreeCredential(college.did)
    const without = (field: string) => Object.fromEntries(Object.entries(base).filter(([name]) => name !== field))
    const cases: [string, unknown, string[]][] = [
      ['no credential', {}, ['/credential']],
      ['credential not an object', { credential: 'a credential' }, ['/credential']],
      ['@context missing', { credential: without('@context') }, ['/credential/@context']],
      ['@context not an array', { credential: { ...base, '@context': V2 } }, ['/credential/@context']],
      ['@context empty', { credential: { ...base, '@context': [] } }, ['/credential/@context']],
      ['@context not starting with a VC context', { credential: { ...base, '@context': [EXAMPLE_CONTEXT, V2] } }, ['/credential/@context']],
      ['type a string', { credential: { ...base, type: 'VerifiableCredential' } }, ['/credential/type']],
      ['type with a number', { credential: { ...base, type: ['VerifiableCredential', 7] } }, ['/credential/type/1']],
      ['type without VerifiableCredential', { credential: { ...base, type: ['ExampleDegreeCredential'] } }, ['/credential/type']],
      ['issuer missing', { credential: without('issuer') }, ['/credential/issuer']],
      ['issuer without id', { credential: { ...base, issuer: { name: 'Northwind College' } } }, ['/credential/issuer']],
      ['credentialSubject a string', { credential: { ...base, credentialSubject: 'did:example:pat' } }, ['/credential/credentialSubject']],
      ['credentialSubject []', { credential: { ...base, credentialSubject: [] } }, ['/credential/credentialSubject']],
      ['credentialSubject missing', { credential: without('credentialSubject') }, ['/credential/credentialSubject']],
      ['validFrom tomorrow', { credential: { ...base, validFrom: 'tomorrow' } }, ['/credential/validFrom']],
      ['validUntil a number', { credential: { ...base, validUntil: 1767225600 } }, ['/credential/validUntil']],
      ['issuanceDate yesterday', { credential: { ...vc11(college.did), issuanceDate: 'yesterday' } }, ['/credential/issuanceDate']],
      ['an unknown format', { credential: base, options: { format: 'jws' } }, ['/options/format']],
      ['an unknown jwtAlg', { credential: base, options: { format: 'vc-jwt', jwtAlg: 'HS256' } }, ['/options/jwtAlg']]
    ]
    const before = await credentialRows(db)
    for (const [label, payload, pointers] of cases) {
      const body = assertProblem(t, await issue(payload), 400, 'validation-failed')
      t.same([...new Set(body.errors.map((e: { pointer: string }) => e.pointer))].sort(), pointers, label)
    }
    t.equal(await credentialRows(db), before)
  })

  await t.test('an id or type that is not a string, or a status, schema or evidence entry without a type, is a 400 naming the field in every format, never a 500', async (t) => {
    const base = degreeCredential(college.did)
    const subject = base.credentialSubject
    const cases: [string, Json, string][] = [
      ['credentialSubject.id null', { ...base, credentialSubject: { id: null } }, '/credential/credentialSubject/id'],
      ['credentialSubject.id null beside a claim', { ...base, credentialSubject: { ...subject, id: null } }, '/credential/credentialSubject/id'],
      ['the second subject\'s id a number', { ...base, credentialSubject: [subject, { ...subject, id: 5 }] }, '/credential/credentialSubject/1/id'],
      ['credentialSubject.type a number', { ...base, credentialSubject: { ...subject, type: 5 } }, '/credential/credentialSubject/type'],
      ['credentialSubject.type with a number', { ...base, credentialSubject: { ...subject, type: ['Person', 7] } }, '/credential/credentialSubject/type'],
      ['credentialStatus null', { ...base, credentialStatus: null }, '/credential/credentialStatus'],
      ['credentialStatus a string', { ...base, credentialStatus: 'https://example.org/status/1#3' }, '/credential/credentialStatus'],
      ['credentialStatus without a type', { ...base, credentialStatus: { id: 'https://example.org/status/1#3' } }, '/credential/credentialStatus/type'],
      ['credentialStatus.type a number', { ...base, credentialStatus: { id: 'https://example.org/status/1#3', type: 5 } }, '/credential/credentialStatus/type'],
      ['credentialStatus.id null', { ...base, credentialStatus: { id: null, type: 'BitstringStatusListEntry' } }, '/credential/credentialStatus/id'],
      ['credentialSchema without a type', { ...base, credentialSchema: { id: 'https://example.org/schema.json' } }, '/credential/credentialSchema/type'],
      ['evidence [null]', { ...base, evidence: [null] }, '/credential/evidence'],
      ['the second evidence without a type', { ...base, evidence: [{ type: ['Evidence'] }, { name: 'Final weld' }] }, '/credential/evidence/1/type'],
      ['termsOfUse null', { ...base, termsOfUse: null }, '/credential/termsOfUse'],
      ['refreshService a number', { ...base, refreshService: 3 }, '/credential/refreshService'],
      ['validFrom in year 0, which PostgreSQL cannot store', { ...base, validFrom: '0000-06-01T00:00:00Z' }, '/credential/validFrom'],
      ['issuanceDate in year 0 once in UTC', { ...vc11(college.did), issuanceDate: '0001-01-01T00:30:00+01:00' }, '/credential/issuanceDate']
    ]
    const before = await credentialRows(db)
    for (const format of ['eddsa-rdfc-2022', 'Ed25519Signature2020', 'vc-jwt']) {
      for (const [label, credential, pointer] of cases) {
        const body = assertProblem(t, await issue({ credential, options: { format, jwtAlg: 'EdDSA' } }), 400, 'validation-failed')
        t.same(body.errors.map((e: { pointer: string }) => e.pointer), [pointer], `${format}, ${label}: ${body.detail}`)
      }
    }
    t.equal(await credentialRows(db), before)
    t.same(errorLines(logged), [], 'nothing logged as an error')
  })

  await t.test('JSON-LD the contexts refuse is a 422 naming the JSON-LD error and the term or value, on the signing threads and in-process alike', async (t) => {
    const base = degreeCredential(college.did)
    const cases: [string, Json, RegExp][] = [
      ['an extra context redefining a protected term', { ...base, '@context': [V2, { ...EXAMPLE_CONTEXT, name: 'https://example.org/vocab#name' }] }, /protected term redefinition "name"/],
      ['an embedded context redefining a protected term', {
        ...base, credentialSubject: { ...base.credentialSubject, '@context': { id: 'https://example.org/vocab#id' } }
      }, /protected term redefinition "id"/],
      ['a nested type that is a number', { ...base, credentialSubject: { ...base.credentialSubject, degree: { type: 5, name: 'BSc' } } }, /invalid type value 5/],
      ['a nested id that is an object', { ...base, credentialSubject: { ...base.credentialSubject, degree: { id: { at: 'home' }, name: 'BSc' } } }, /invalid @id value \{"at":"home"\}/],
      ['an extra context of JSON-LD version 2', { ...base, '@context': [V2, { ...EXAMPLE_CONTEXT, '@version': 2 }] }, /invalid @version value/],
      ['a language that is a number', { ...base, credentialSubject: { ...base.credentialSubject, name: { '@value': 'Pat', '@language': 3 } } }, /invalid language-tagged string/]
    ]
    const before = await credentialRows(db)
    for (const [label, credential, mention] of cases) {
      for (const format of ['eddsa-rdfc-2022', 'Ed25519Signature2020']) {
        const details = []
        for (const signing of [logged, inProcess]) {
          const res = await signing.app.inject({ method: 'POST', url: '/credentials/issue', headers: collegeKey, payload: { credential, options: { format } } })
          const body = assertProblem(t, res, 422, 'credential-unsignable')
          t.match(body.detail, /^The credential is not valid JSON-LD/, label)
          t.match(body.detail, mention, `${label}, ${format}: ${body.detail}`)
          details.push(body.detail)
        }
        t.equal(details[0], details[1], `${label}, ${format}: the same answer from the threads and in-process`)
      }
    }
    t.equal(await credentialRows(db), before)
    t.same([...errorLines(logged), ...errorLines(inProcess)], [], 'nothing logged as an error')
  })

  await t.test('an issuer DID that is not ours, or not the API key\'s issuer, is a 422 issuer-mismatch', async (t) => {
    const before = await credentialRows(db)
    for (const [label, issuer, headers, detail] of [
      ['a stranger\'s DID', 'did:example:stranger', collegeKey, /not the issuer this API key belongs to/],
      ['another issuer\'s DID with this issuer\'s key', other.did, collegeKey, /not the issuer this API key belongs to/],
      ['another issuer\'s DID as an object', { id: other.did, name: 'Southport Institute' }, collegeKey, /not the issuer this API key belongs to/],
      ['a stranger\'s DID with the admin token', 'did:example:stranger', admin, /not an issuer of this Lanyard/]
    ] as const) {
      const body = assertProblem(t, await issue({ credential: degreeCredential(issuer) }, headers), 422, 'issuer-mismatch')
      t.match(body.detail, detail, label)
    }
    t.equal(await credentialRows(db), before)
  })

  await t.test('a did:key issuer asked for an RS256 JWT is a 422 problem', async (t) => {
    assertProblem(t, await issue({ credential: degreeCredential(other.did), options: { format: 'vc-jwt', jwtAlg: 'RS256' } }, admin), 422, 'key-algorithm-unavailable')
  })

  await t.test('without a valid bearer token the answer is 401', async (t) => {
    const credential = degreeCredential(college.did)
    const missing = assertProblem(t, await issue({ credential }, {}), 401, 'unauthorized')
    t.match(missing.detail, /Bearer/)
    assertProblem(t, await issue({ credential }, bearer('lanyard_not-a-real-key')), 401, 'unauthorized')
  })

  await t.test('a body that is not JSON is a 415 problem', async (t) => {
    const res = await app.inject({
      method: 'POST', url: '/credentials/issue', headers: { ...collegeKey, 'content-type': 'text/plain' },
      payload: JSON.stringify({ credential: degreeCredential(college.did) })
    })
    assertProblem(t, res, 415, 'unsupported-media-type')
  })
})
