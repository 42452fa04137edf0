// The VC-API verify endpoints: generic tooling reads 200 / 422; any issuer whose keys resolve offline (did:key, did:jwk)
// verifies; presentations check the holder's proof, challenge and domain, then each credential.
import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite'
import { issue as issueIndependently } from '@digitalbazaar/vc'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import t from 'tap'
import { admin, assertProblem, buildTestApp, createIssuer, openTestDatabase } from './helpers/app.js'
import { createAchievement } from './helpers/credentials.js'
import { newHolder, presentation } from './helpers/holder.js'
import { didKeyDocument, documentLoaderFor } from './helpers/independent-verifier.js'

type Json = Record<string, any>

t.test('VC-API verify', async (t) => {
  const { app } = await buildTestApp(t, await openTestDatabase(t, 'pglite'))
  const issuer = await createIssuer(app)
  const badge = await createAchievement(app, issuer.id)
  const issue = async (payload: Json) => (await app.inject({ method: 'POST', url: '/v1/credentials', headers: admin, payload: { achievementId: badge.id, recipient: { email: 'learner@example.com' }, ...payload } })).json()
  const verifyCredential = (body: unknown) => app.inject({ method: 'POST', url: '/credentials/verify', payload: body as Json })
  const verifyPresentation = (body: unknown) => app.inject({ method: 'POST', url: '/presentations/verify', payload: body as Json })
  const ldCredential = (await issue({})).credential
  const jwtCredential = (await issue({ format: 'vc-jwt' })).jwt

  await t.test('a good credential, as JSON or as a VC-JWT: 200 with the checks that ran', async (t) => {
    for (const verifiableCredential of [ldCredential, jwtCredential]) {
      const res = await verifyCredential({ verifiableCredential })
      t.equal(res.statusCode, 200, res.body)
      t.same(res.json(), { verified: true, checks: ['format', 'schema', 'proof', 'issuer', 'validity', 'status'], warnings: [], errors: [] })
    }
  })

  await t.test('a credential that does not verify: 422 problem carrying the result', async (t) => {
    const tampered = structuredClone(ldCredential)
    tampered.credentialSubject.achievement.name = 'Master Welder'
    const body = assertProblem(t, await verifyCredential({ verifiableCredential: tampered }), 422, 'verification-failed')
    t.match(body, { verified: false, errors: [{ check: 'proof', message: /does not match/ }], detail: /proof/ })
    t.match(body.report, { format: 'eddsa-rdfc-2022', checks: Array })

    const unknownContext = { ...structuredClone(ldCredential), '@context': [...ldCredential['@context'], 'https://example.com/context.jsonld'] }
    t.match(assertProblem(t, await verifyCredential({ verifiableCredential: unknownContext }), 422, 'verification-failed'), { errors: [{ check: 'format', message: /https:\/\/example.com\/context.jsonld/ }] })

    const expired = (await issue({ validFrom: '2020-01-01T00:00:00Z', validUntil: '2020-06-01T00:00:00Z' })).credential
    t.match(assertProblem(t, await verifyCredential({ verifiableCredential: expired }), 422, 'verification-failed'), { errors: [{ check: 'validity' }] })
  })

  await t.test('options.recipient checks the holder, as on /verify', async (t) => {
    t.equal((await verifyCredential({ verifiableCredential: ldCredential, options: { recipient: { email: 'learner@example.com' } } })).statusCode, 200)
    t.match(assertProblem(t, await verifyCredential({ verifiableCredential: ldCredential, options: { recipient: { email: 'other@example.com' } } }), 422, 'verification-failed'), { errors: [{ check: 'recipient' }] })
  })

  await t.test('malformed requests: 400 problems, never 500', async (t) => {
    assertProblem(t, await verifyCredential({}), 400, 'validation-failed')
    assertProblem(t, await verifyCredential({ verifiableCredential: [ldCredential] }), 400, 'validation-failed')
    assertProblem(t, await verifyCredential({ verifiableCredential: 42 }), 400, 'validation-failed')
    assertProblem(t, await verifyCredential({ verifiableCredential: { hello: 'world' } }), 400, 'not-a-credential')
    assertProblem(t, await verifyCredential({ verifiableCredential: 'not.a.jwt' }), 400, 'not-a-credential')
    assertProblem(t, await verifyPresentation({ verifiablePresentation: { type: ['VerifiableCredential'] } }), 400, 'not-a-credential')
    assertProblem(t, await verifyPresentation({}), 400, 'validation-failed')
  })

  await t.test('another issuer\'s did:key credential, signed with Digital Bazaar\'s libraries, verifies', async (t) => {
    const signer = await newHolder()
    const credential = {
      '@context': ['https://www.w3.org/ns/credentials/v2'],
      id: 'urn:uuid:2f0e8d1c-5b7a-4f7e-9d59-1d3c0b7a9e11',
      type: ['VerifiableCredential'],
      issuer: signer.did,
      validFrom: '2025-01-01T00:00:00Z',
      credentialSubject: { id: 'did:example:learner' }
    }
    const signed = await issueIndependently({
      credential, suite: new DataIntegrityProof({ signer: signer.key.signer(), cryptosuite: eddsaRdfc2022 }),
      documentLoader: documentLoaderFor(async (did) => didKeyDocument(did))
    })
    const res = await verifyCredential({ verifiableCredential: signed })
    t.equal(res.statusCode, 200, res.body)
    t.same(res.json().checks, ['format', 'proof', 'issuer', 'validity'], 'not an Open Badge: no schema; no status entry')
  })

  await t.test('a did:jwk VC-JWT (EdDSA) from jose verifies; its key must be the issuer\'s', async (t) => {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    const did = `did:jwk:${Buffer.from(JSON.stringify(await exportJWK(publicKey))).toString('base64url')}`
    const credential = {
      '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiableCredential'], issuer: did,
      validFrom: '2025-01-01T00:00:00Z', credentialSubject: { id: 'did:example:learner' }
    }
    const sign = (payload: Json, kid: string) => new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid }).sign(privateKey)
    const jwt = await sign({ ...credential, iss: did, sub: 'did:example:learner', nbf: Date.parse(credential.validFrom) / 1000 }, `${did}#0`)
    const res = await verifyCredential({ verifiableCredential: jwt })
    t.equal(res.statusCode, 200, res.body)

    const claimsOther = await sign({ ...credential, issuer: 'did:example:someone-else' }, `${did}#0`)
    t.match(assertProblem(t, await verifyCredential({ verifiableCredential: claimsOther }), 422, 'verification-failed'), { errors: [{ check: 'issuer' }] })

    const lies = await sign({ ...credential, iss: 'did:example:other' }, `${did}#0`)
    t.match(assertProblem(t, await verifyCredential({ verifiableCredential: lies }), 422, 'verification-failed'), { errors: [{ check: 'proof', message: /iss/ }] })
  })

  await t.test('presentations: holder proof with challenge and domain, then each credential', async (t) => {
    const holder = await newHolder()
    const vp = await presentation(holder, [ldCredential], { challenge: 'c-123', domain: 'verifier.example' })
    const good = await verifyPresentation({ verifiablePresentation: vp, options: { challenge: 'c-123', domain: 'verifier.example' } })
    t.equal(good.statusCode, 200, good.body)
    t.match(good.json(), { verified: true, checks: ['format', 'proof'], credentialResults: [{ verified: true }] })

    t.match(assertProblem(t, await verifyPresentation({ verifiablePresentation: vp, options: { challenge: 'other', domain: 'verifier.example' } }), 422, 'verification-failed'), { errors: [{ check: 'proof', message: /challenge/ }] })
    t.match(assertProblem(t, await verifyPresentation({ verifiablePresentation: vp, options: { challenge: 'c-123', domain: 'evil.example' } }), 422, 'verification-failed'), { errors: [{ check: 'proof', message: /domain/ }] })

    const impostor = await newHolder()
    const claimed = await presentation(impostor, [ldCredential], { challenge: 'c-123' })
    claimed.holder = holder.did
    t.match(assertProblem(t, await verifyPresentation({ verifiablePresentation: claimed, options: { challenge: 'c-123' } }), 422, 'verification-failed'), { errors: [{ check: 'proof', message: /does not match/ }] }, 'a holder changed after signing breaks the signature')
    const signedAsOther = await presentation(impostor, [ldCredential], { challenge: 'c-123', claimedHolder: holder.did })
    t.match(assertProblem(t, await verifyPresentation({ verifiablePresentation: signedAsOther, options: { challenge: 'c-123' } }), 422, 'verification-failed'), { errors: [{ check: 'proof', message: `The presentation is signed by ${impostor.did}, not by its holder ${holder.did}` }] })

    const withoutChallenge = await verifyPresentation({ verifiablePresentation: vp })
    t.equal(withoutChallenge.statusCode, 200)
    t.match(withoutChallenge.json(), { warnings: [{ check: 'proof', message: /replayed/ }] })

    const tampered = structuredClone(ldCredential)
    tampered.issuer.name = 'Forged College'
    const carrying = await presentation(holder, [tampered], { challenge: 'c-9' })
    const res = await verifyPresentation({ verifiablePresentation: carrying, options: { challenge: 'c-9' } })
    t.match(assertProblem(t, res, 422, 'verification-failed'), { verified: false, credentialResults: [{ verified: false, errors: [{ check: 'proof' }] }], detail: /credential in the presentation/ })

    const unsigned = { '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiablePresentation'], verifiableCredential: [jwtEnvelope(jwtCredential)] }
    const plain = await verifyPresentation({ verifiablePresentation: unsigned })
    t.equal(plain.statusCode, 200, 'an unsigned presentation of good credentials verifies, with a warning')
    t.match(plain.json(), { warnings: [{ check: 'proof', message: /not signed/ }], credentialResults: [{ verified: true }] })
    t.match(assertProblem(t, await verifyPresentation({ verifiablePresentation: unsigned, options: { challenge: 'x' } }), 422, 'verification-failed'), { errors: [{ check: 'proof', message: /not signed/ }] })
  })
})

function jwtEnvelope(jwt: string): Json {
  return { '@context': ['https://www.w3.org/ns/credentials/v2'], id: `data:application/vc+jwt,${jwt}`, type: 'EnvelopedVerifiableCredential' }
}
