// A stand-in for the web the 1EdTech validator fixtures point at (tests have no network): the documents their key and
// status URLs would return, served through the app's DocumentFetcher interface. Keys are taken from the fixtures
// themselves — a proof's `controller#<multibase key>` or a JWT header's `jwk` — and published under the controller,
// which is what the issuers behind the fixtures publish; nothing else is invented except the 1EdTech Revocation List
// for credential-status-revoked.json, which lists that credential as the validator's test expects.
import { readdirSync, readFileSync } from 'node:fs'
import type { DocumentFetcher } from '../../src/verify/documents.js'

export const FIXTURES = new URL('../../../shared/ob3/examples/validator-ob30/', import.meta.url)

export function fixtureText(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8')
}

export function fixtureBytes(name: string): Buffer {
  return readFileSync(new URL(name, FIXTURES))
}

type Json = Record<string, any>

const MULTIKEY = /^z6Mk[1-9A-HJ-NP-Za-km-z]{44}$/

function proofsOf(credential: Json): Json[] {
  const nested = [credential, ...((credential.endorsement ?? []) as Json[])]
  return nested.flatMap((c) => (Array.isArray(c.proof) ? c.proof : c.proof ? [c.proof] : []))
}

/** controller URL or DID → the Ed25519 keys (multibase) its fixtures' proofs name. */
function controllerKeys(): Map<string, Set<string>> {
  const keys = new Map<string, Set<string>>()
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).concat(['bit-string-list/testlist', 'bit-string-list/credential-status-revoked.json', 'simple.1ob'])
  for (const file of files) {
    for (const proof of proofsOf(JSON.parse(fixtureText(file)))) {
      const [controller, fragment] = String(proof.verificationMethod).split('#')
      if (fragment === undefined || !MULTIKEY.test(fragment) || controller!.startsWith('did:key:')) continue
      if (!keys.has(controller!)) keys.set(controller!, new Set())
      keys.get(controller!)!.add(fragment)
    }
  }
  return keys
}

/** The header JWKs of the baked VC-JWT fixtures, by issuer. */
function jwtIssuerKeys(): Map<string, Json[]> {
  const keys = new Map<string, Json[]>()
  for (const file of ['simple-jwt.png', 'simple-jwt_v1.png', 'simple-jwt.svg', 'simple-jwt_v1.svg']) {
    const jwt = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/.exec(fixtureBytes(file).toString('latin1'))![0]
    const [header, payload] = jwt.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')))
    const issuer = new URL(payload.iss).origin
    keys.set(issuer, [...(keys.get(issuer) ?? []), header.jwk])
  }
  return keys
}

const DID_WEB = 'did:web:dc.1edtech.org:wellspring2022:wellspring-portal:org:da1e96e9-afcc-4eed-b9a2-2ddf7353214c'

export function fixtureWeb(): { fetch: DocumentFetcher; requested: string[] } {
  const documents = new Map<string, string>()
  for (const [controller, keys] of controllerKeys()) {
    const methods = [...keys].map((key) => ({ id: `${controller}#${key}`, type: 'Multikey', controller, publicKeyMultibase: key }))
    const url = controller.startsWith('did:web:')
      ? `https://${controller.slice('did:web:'.length).split(':').join('/')}/did.json`
      : controller
    documents.set(url, JSON.stringify({ '@context': ['https://www.w3.org/ns/did/v1'], id: controller, verificationMethod: methods, assertionMethod: methods.map((m) => m.id) }))
  }
  for (const [origin, keys] of jwtIssuerKeys()) documents.set(`${origin}/.well-known/jwks.json`, JSON.stringify({ keys }))
  const testlist = 'https://raw.githubusercontent.com/1EdTech/digital-credentials-public-validator/refs/heads/main/inspector-vc/src/test/resources/ob30/bit-string-list/testlist'
  documents.set(testlist, fixtureText('bit-string-list/testlist'))
  const revoked = JSON.parse(fixtureText('credential-status-revoked.json'))
  documents.set(revoked.credentialStatus.id, JSON.stringify({ id: revoked.credentialStatus.id, issuer: DID_WEB, revokedCredentials: [{ id: revoked.id, revocationReason: 'Issued in error' }] }))

  const requested: string[] = []
  const fetch: DocumentFetcher = async (url) => {
    requested.push(url)
    const body = documents.get(url)
    if (body === undefined) throw new Error(`${url} cannot be reached (tests have no network)`)
    return { url, contentType: 'application/json', body: Buffer.from(body) }
  }
  return { fetch, requested }
}
