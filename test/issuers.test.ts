import { createPublicKey, sign, verify } from 'node:crypto'
import * as base58 from 'base58-universal'
import t from 'tap'
import { issuerSigner } from '../src/issuers/service.js'
import { admin, buildTestApp, createIssuer, onEachDatabase } from './helpers/app.js'
import { officialSchemaValidator } from './helpers/ob3.js'
import { inProcessSigner } from '../src/crypto/proof-pool.js'

const validateProfile = officialSchemaValidator('profile')

/** Independent of Lanyard's code: multibase base58btc → multicodec 0xed01 → raw key → node:crypto verify. */
function verifyWithMultikey(publicKeyMultibase: string, message: Buffer, signature: Buffer): boolean {
  t.equal(publicKeyMultibase[0], 'z', 'multibase is base58btc')
  const bytes = base58.decode(publicKeyMultibase.slice(1))
  t.same([bytes[0], bytes[1], bytes.length], [0xed, 0x01, 34], 'multicodec says ed25519-pub')
  const key = createPublicKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(bytes.subarray(2)).toString('base64url') } })
  return verify(null, message, key, signature)
}

await onEachDatabase(t, async (t, database) => {
  const { app, config, db, keyring } = await buildTestApp(t, database)
  const ctx = { db, keyring, publicUrl: config.PUBLIC_URL, statusListSize: config.STATUS_LIST_SIZE, signDataIntegrity: inProcessSigner, idempotencyTtlMs: 86_400_000 }
  const caller = { principal: { kind: 'admin' as const }, requestId: 'test' }

  await t.test('creating an issuer answers 201 with a did:web under PUBLIC_URL and one active Ed25519 key', async (t) => {
    const res = await app.inject({
      method: 'POST', url: '/v1/issuers', headers: admin,
      payload: { name: 'Northwind College', url: 'https://northwind.example.edu', email: 'badges@northwind.example.edu', description: 'Adult education' }
    })
    t.equal(res.statusCode, 201)
    const issuer = res.json()
    t.match(issuer.id, /^[0-9a-f-]{36}$/)
    t.equal(issuer.did, `did:web:badges.example.edu:issuers:${issuer.id}`)
    t.equal(issuer.didMethod, 'web')
    t.equal(issuer.keys.length, 1)
    t.match(issuer.keys[0], { algorithm: 'Ed25519', type: 'Multikey', status: 'active', verificationMethod: `${issuer.did}#${issuer.keys[0].publicKeyMultibase}` })
    t.notOk(JSON.stringify(issuer).match(/"d"|private|sealed/i), 'no private material in the reply')
    const fetched = await app.inject({ method: 'GET', url: `/v1/issuers/${issuer.id}`, headers: admin })
    t.same(fetched.json(), issuer, 'GET returns what POST returned')
  })

  await t.test('the public profile is an OB 3.0 Profile that the official schema accepts', async (t) => {
    const issuer = await createIssuer(app, { image: 'https://college.example.edu/logo.png', email: 'registrar@college.example.edu' })
    const res = await app.inject({ method: 'GET', url: `/issuers/${issuer.id}`, headers: { origin: 'https://employer.example.com' } })
    t.equal(res.statusCode, 200)
    const profile = res.json()
    t.same(validateProfile(profile), [], 'valid against ob_v3p0_profile_schema.json')
    t.match(profile, {
      '@context': ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
      id: issuer.did, type: ['Profile'], name: 'Test College', image: { id: 'https://college.example.edu/logo.png', type: 'Image' }
    })
    t.equal(res.headers['access-control-allow-origin'], '*', 'public routes are open to any origin')
  })

  await t.test('the DID document publishes the key that verifies what the issuer signs', async (t) => {
    const issuer = await createIssuer(app)
    const doc = (await app.inject({ method: 'GET', url: `/issuers/${issuer.id}/did.json` })).json()
    t.equal(doc.id, issuer.did)
    t.equal(doc.verificationMethod.length, 1)
    const [method] = doc.verificationMethod
    t.match(method, { type: 'Multikey', controller: issuer.did })
    t.same(doc.assertionMethod, [method.id])

    const signer = await issuerSigner(ctx, caller, issuer.id)
    t.equal(signer.verificationMethod, method.id, 'signs as the published verification method')
    const message = Buffer.from(`a badge for ${issuer.id}`)
    const signature = signer.sign(message)
    t.ok(verifyWithMultikey(method.publicKeyMultibase, message, signature), 'node:crypto verifies with the published Multikey')
    t.notOk(verifyWithMultikey(method.publicKeyMultibase, Buffer.from('another message'), signature), 'and rejects another message')
  })

  await t.test('after rotation the new key signs and both keys stay in the DID document', async (t) => {
    const issuer = await createIssuer(app)
    const oldKey = issuer.keys[0]
    const oldSignature = (await issuerSigner(ctx, caller, issuer.id)).sign(Buffer.from('signed before rotation'))

    const rotated = await app.inject({ method: 'POST', url: `/v1/issuers/${issuer.id}/keys/rotate`, headers: admin })
    t.equal(rotated.statusCode, 200)
    const { keys } = rotated.json()
    t.equal(keys.length, 2)
    t.match(keys[0], { status: 'active', retiredAt: null })
    t.match(keys[1], { id: oldKey.id, status: 'retired', retiredAt: String })
    t.not(keys[0].publicKeyMultibase, oldKey.publicKeyMultibase)

    const doc = (await app.inject({ method: 'GET', url: `/issuers/${issuer.id}/did.json` })).json()
    t.same(doc.verificationMethod.map((m: { id: string }) => m.id), [keys[0].verificationMethod, oldKey.verificationMethod], 'active first, retired kept')
    t.same(doc.assertionMethod, [keys[0].verificationMethod, oldKey.verificationMethod])

    const signer = await issuerSigner(ctx, caller, issuer.id)
    t.equal(signer.verificationMethod, keys[0].verificationMethod)
    const message = Buffer.from('signed after rotation')
    t.ok(verifyWithMultikey(keys[0].publicKeyMultibase, message, signer.sign(message)), 'the new key signs')
    t.ok(verifyWithMultikey(oldKey.publicKeyMultibase, Buffer.from('signed before rotation'), oldSignature), 'what the old key signed still verifies')

    const again = (await app.inject({ method: 'POST', url: `/v1/issuers/${issuer.id}/keys/rotate`, headers: admin })).json()
    t.equal(again.keys.filter((k: { status: string }) => k.status === 'active').length, 1, 'never more than one active key')
    t.equal(again.keys.length, 3)
  })

  await t.test('a did:key issuer is identified by its key and cannot rotate it', async (t) => {
    const issuer = await createIssuer(app, { did: 'key' })
    t.equal(issuer.did, `did:key:${issuer.keys[0].publicKeyMultibase}`)
    t.match(issuer.did, /^did:key:z6Mk/)
    t.equal(issuer.keys[0].verificationMethod, `${issuer.did}#${issuer.keys[0].publicKeyMultibase}`)
    const profile = (await app.inject({ method: 'GET', url: `/issuers/${issuer.id}` })).json()
    t.equal(profile.id, issuer.did)
    const doc = (await app.inject({ method: 'GET', url: `/issuers/${issuer.id}/did.json` })).json()
    t.equal(doc.id, issuer.did)
    const signer = await issuerSigner(ctx, caller, issuer.id)
    const message = Buffer.from('did:key signs too')
    t.ok(verifyWithMultikey(issuer.keys[0].publicKeyMultibase, message, signer.sign(message)))
    const rotate = await app.inject({ method: 'POST', url: `/v1/issuers/${issuer.id}/keys/rotate`, headers: admin })
    t.equal(rotate.statusCode, 409)
    t.match(rotate.json(), { code: 'did-key-not-rotatable', detail: /did:key/ })

  await t.test('RSA and P-256 keys for VC-JWT are made on first use, published as JsonWebKey, and rotate with the rest', async (t) => {
    const issuer = await createIssuer(app)
    const [rsa, rsaAgain] = await Promise.all([issuerSigner(ctx, caller, issuer.id, 'RSA'), issuerSigner(ctx, caller, issuer.id, 'RSA')])
    t.equal(rsa.verificationMethod, rsaAgain.verificationMethod, 'two first uses at once make one key')
    const ec = await issuerSigner(ctx, caller, issuer.id, 'P-256')
    t.match(rsa.verificationMethod, new RegExp(`^${issuer.did}#[A-Za-z0-9_-]{43}$`), 'fragment is the JWK thumbprint')

    const doc = (await app.inject({ method: 'GET', url: `/issuers/${issuer.id}/did.json` })).json()
    t.ok(doc['@context'].includes('https://w3id.org/security/jwk/v1'))
    for (const [signer, kty] of [[rsa, 'RSA'], [ec, 'EC']] as const) {
      const method = doc.verificationMethod.find((m: { id: string }) => m.id === signer.verificationMethod)
      t.match(method, { type: 'JsonWebKey', controller: issuer.did, publicKeyJwk: { kty } })
      t.notOk('d' in method.publicKeyJwk, 'no private part published')
      t.ok(doc.assertionMethod.includes(method.id))
      const message = Buffer.from(`signed with ${kty}`)
      const signature = sign('sha256', message, signer.privateKey)
      t.ok(verify('sha256', message, createPublicKey({ format: 'jwk', key: method.publicKeyJwk }), signature), `${kty} key verifies from the DID document`)
    }

    const rotated = (await app.inject({ method: 'POST', url: `/v1/issuers/${issuer.id}/keys/rotate`, headers: admin })).json()
    const active = rotated.keys.filter((k: { status: string }) => k.status === 'active')
    t.same(active.map((k: { algorithm: string }) => k.algorithm).sort(), ['Ed25519', 'P-256', 'RSA'])
    t.equal(rotated.keys.length, 6, 'every algorithm rotated, the old keys kept')
    t.not((await issuerSigner(ctx, caller, issuer.id, 'RSA')).verificationMethod, rsa.verificationMethod)
    const events = (await app.inject({ method: 'GET', url: `/v1/audit-events?issuerId=${issuer.id}`, headers: admin })).json().items
    t.equal(events.filter((e: { action: string }) => e.action === 'issuer.key.created').length, 2, 'each new key is audited')
  })

  await t.test('a did:key issuer cannot hold an RSA or P-256 key', async (t) => {
    const issuer = await createIssuer(app, { did: 'key' })
    await t.rejects(issuerSigner(ctx, caller, issuer.id, 'RSA'), { code: 'key-algorithm-unavailable', status: 422 })
  })
  })

  await t.test('PATCH changes the profile, null clears an optional field, and the public profile follows', async (t) => {
    const issuer = await createIssuer(app, { email: 'old@college.example.edu', description: 'Old text' })
    const res = await app.inject({
      method: 'PATCH', url: `/v1/issuers/${issuer.id}`, headers: admin,
      payload: { name: 'Renamed College', email: null }
    })
    t.equal(res.statusCode, 200)
    t.match(res.json(), { name: 'Renamed College', email: null, description: 'Old text', did: issuer.did })
    const profile = (await app.inject({ method: 'GET', url: `/issuers/${issuer.id}` })).json()
    t.equal(profile.name, 'Renamed College')
    t.notOk('email' in profile)
    t.same(validateProfile(profile), [])

    const moved = (await app.inject({
      method: 'PATCH', url: `/v1/issuers/${issuer.id}`, headers: admin,
      payload: { url: 'https://renamed.example.edu', image: 'https://renamed.example.edu/logo.svg', description: null }
    })).json()
    t.match(moved, { url: 'https://renamed.example.edu', image: 'https://renamed.example.edu/logo.svg', description: null, name: 'Renamed College' })
    const movedProfile = (await app.inject({ method: 'GET', url: `/issuers/${issuer.id}` })).json()
    t.same(movedProfile.image, { id: 'https://renamed.example.edu/logo.svg', type: 'Image' })
    t.same(validateProfile(movedProfile), [])
  })

  await t.test('listing pages through issuers in creation order', async (t) => {
    const created = [await createIssuer(app), await createIssuer(app), await createIssuer(app)]
    const all = []
    let cursor: string | null = null
    do {
      const url: string = `/v1/issuers?limit=2${cursor ? `&cursor=${cursor}` : ''}`
      const page = (await app.inject({ method: 'GET', url, headers: admin })).json()
      t.ok(page.items.length <= 2)
      all.push(...page.items)
      cursor = page.nextCursor
    } while (cursor !== null)
    const ids = all.map((i: { id: string }) => i.id)
    t.same(ids.slice(-3), created.map((i) => i.id), 'newest last, none missing')
    t.equal(new Set(ids).size, ids.length, 'no duplicates across pages')
    const past = (await app.inject({ method: 'GET', url: `/v1/issuers?cursor=${ids[ids.length - 1]}`, headers: admin })).json()
    t.same(past, { items: [], nextCursor: null }, 'a cursor past the end gives an empty page')
  })

  await t.test('every change writes an audit event saying who, what and when', async (t) => {
    const issuer = await createIssuer(app)
    await app.inject({ method: 'PATCH', url: `/v1/issuers/${issuer.id}`, headers: admin, payload: { name: 'Audited' } })
    await app.inject({ method: 'POST', url: `/v1/issuers/${issuer.id}/keys/rotate`, headers: admin })
    const key = (await app.inject({ method: 'POST', url: '/v1/api-keys', headers: admin, payload: { issuerId: issuer.id } })).json()
    await app.inject({ method: 'DELETE', url: `/v1/api-keys/${key.id}`, headers: admin })
    const res = await app.inject({ method: 'GET', url: `/v1/audit-events?issuerId=${issuer.id}`, headers: admin })
    t.equal(res.statusCode, 200)
    const events = res.json().items
    t.same(events.map((e: { action: string }) => e.action),
      ['api-key.revoked', 'api-key.created', 'issuer.key.rotated', 'issuer.updated', 'issuer.created'])
    for (const event of events) {
      t.equal(event.actor, 'admin')
      t.ok(Date.parse(event.occurredAt) > Date.now() - 60_000, 'timestamped now')
      t.type(event.requestId, 'string')
    }
    t.same(events[3].details, { changed: ['name'] })
    t.same(events[2].details.retiredKeyIds, [issuer.keys[0].id])

    const firstPage = (await app.inject({ method: 'GET', url: `/v1/audit-events?issuerId=${issuer.id}&limit=2`, headers: admin })).json()
    const secondPage = (await app.inject({ method: 'GET', url: `/v1/audit-events?issuerId=${issuer.id}&limit=2&cursor=${firstPage.nextCursor}`, headers: admin })).json()
    t.same([...firstPage.items, ...secondPage.items].map((e: { id: string }) => e.id), events.slice(0, 4).map((e: { id: string }) => e.id), 'pages continue where the last ended')
  })

  await t.test('signing for an unknown issuer is a not-found error', async (t) => {
    await t.rejects(issuerSigner(ctx, caller, '00000000-0000-4000-8000-000000000000'), { code: 'not-found' })
  })
})
