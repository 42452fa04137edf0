// A verifier that shares no code with src/: Digital Bazaar's stack, the published contexts from ../shared/ob3, and jose.
import { readFileSync } from 'node:fs'
import { contexts as credentialsContexts } from '@digitalbazaar/credentials-context'
import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
import dataIntegrityContext from '@digitalbazaar/data-integrity-context'
import { Ed25519Signature2020 } from '@digitalbazaar/ed25519-signature-2020'
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite'
import { verifyCredential } from '@digitalbazaar/vc'
import * as base58 from 'base58-universal'
import ed25519Signature2020Context from 'ed25519-signature-2020-context'
import { compactVerify, decodeProtectedHeader, importJWK, type JWK, type ProtectedHeaderParameters } from 'jose'

export type ResolveDid = (did: string) => Promise<object>

interface VerificationMethod {
  id: string
  type: string
  controller: string
  publicKeyMultibase?: string
  publicKeyJwk?: JWK
}

interface DidDocument {
  '@context': unknown
  id: string
  verificationMethod?: VerificationMethod[]
  assertionMethod?: (string | VerificationMethod)[]
}

const SHARED_CONTEXTS = new URL('../../../shared/ob3/contexts/', import.meta.url)
const OB3 = 'https://purl.imsglobal.org/spec/ob/v3p0/'
/** The published contexts, by URL, and their file names in ../shared/ob3/contexts. */
export const PUBLISHED_FILES: Record<string, string> = {
  'https://www.w3.org/ns/credentials/v2': 'credentials-v2.jsonld',
  [`${OB3}context.json`]: 'context.json',
  [`${OB3}context-3.0.1.json`]: 'context-3.0.1.json',
  [`${OB3}context-3.0.2.json`]: 'context-3.0.2.json',
  [`${OB3}context-3.0.3.json`]: 'context-3.0.3.json',
  [`${OB3}extensions.json`]: 'extensions.json'
}
const VC_V1 = 'https://www.w3.org/2018/credentials/v1'
const DID_V1 = 'https://www.w3.org/ns/did/v1'
const MULTIKEY_V1 = 'https://w3id.org/security/multikey/v1'

const CONTEXTS = new Map<string, object | undefined>([
  ...Object.entries(PUBLISHED_FILES).map(([url, file]) => [url, JSON.parse(readFileSync(new URL(file, SHARED_CONTEXTS), 'utf8'))] as const),
  [VC_V1, credentialsContexts.get(VC_V1)],
  ...ed25519Signature2020Context.contexts,
  ...dataIntegrityContext.contexts
])

/** The did:key document (one Ed25519 Multikey, for assertions) derived from the DID itself. */
export function didKeyDocument(did: string): DidDocument {
  const multibase = did.slice('did:key:'.length)
  ed25519Bytes(multibase)
  const id = `${did}#${multibase}`
  return {
    '@context': [DID_V1, MULTIKEY_V1],
    id: did,
    verificationMethod: [{ id, type: 'Multikey', controller: did, publicKeyMultibase: multibase }],
    assertionMethod: [id]
  }
}

/** Checks the embedded proof (eddsa-rdfc-2022 or Ed25519Signature2020), that the issuer controls the key, and the validity dates. */
export async function verifyDataIntegrity(credential: object, resolveDid: ResolveDid): Promise<{ verified: boolean; error?: string }> {
  const result = await verifyCredential({
    credential,
    suite: [new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 }), new Ed25519Signature2020()],
    documentLoader: documentLoaderFor(resolveDid),
    // Revocation is not this helper's question; without this the library refuses any credential with credentialStatus.
    checkStatus: async () => ({ verified: true })
  })
  if (result.verified) return { verified: true }
  const error = result.error
  return { verified: false, error: error?.errors?.map((e) => e.message).join('; ') ?? error?.message ?? 'not verified' }
}

export interface JwtVerification {
  verified: boolean
  header?: ProtectedHeaderParameters
  payload?: Record<string, unknown>
  error?: string
}

/** Checks a VC-JWT as OB 3.0 released it: the signature by the kid's key, the header, and the claims against the credential fields. */
export async function verifyVcJwt(jwt: string, resolveDid: ResolveDid): Promise<JwtVerification> {
  let header: ProtectedHeaderParameters | undefined
  let payload: Record<string, unknown> | undefined
  try {
    header = decodeProtectedHeader(jwt)
    const { alg, kid } = header
    if (header.typ !== 'JWT') throw new Error(`typ is ${header.typ}, not JWT`)
    const extra = Object.keys(header).filter((name) => !['alg', 'typ', 'kid'].includes(name))
    if (extra.length > 0) throw new Error(`header members not allowed: ${extra.join(', ')}`)
    if (typeof alg !== 'string' || typeof kid !== 'string') throw new Error('header needs alg and kid')
    const did = kid.split('#')[0]!
    const method = assertionMethod((await resolveDid(did)) as DidDocument, kid)
    const key = await importJWK(publicJwk(method), alg)
    const verified = await compactVerify(jwt, key, { algorithms: [alg] })
    payload = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>
    const problem = claimProblem(payload) ?? (payload.iss === method.controller ? undefined : `key ${kid} is not controlled by the issuer`)
    return problem === undefined ? { verified: true, header, payload } : { verified: false, header, payload, error: problem }
  } catch (error) {
    return { verified: false, header, payload, error: (error as Error).message }
  }
}

/** The independent stack's document loader: the published contexts, and DIDs through `resolveDid`. */
export function documentLoaderFor(resolveDid: ResolveDid) {
  return async (url: string) => {
    const context = CONTEXTS.get(url)
    const document = context ?? (url.startsWith('did:') ? await dereference(url, resolveDid) : undefined)
    if (document === undefined) throw new Error(`independent verifier has no document for ${url}`)
    return { contextUrl: null, documentUrl: url, document }
  }
}

/** A bare DID gives its document; `did#fragment` gives that verification method, with the document's @context. */
async function dereference(didUrl: string, resolveDid: ResolveDid): Promise<object> {
  const [did, fragment] = didUrl.split('#')
  const document = (await resolveDid(did!)) as DidDocument
  if (fragment === undefined) return document
  const method = document.verificationMethod?.find((m) => m.id === didUrl)
  if (method === undefined) throw new Error(`${didUrl} is not in the DID document`)
  return { '@context': document['@context'], ...method }
}

function assertionMethod(document: DidDocument, kid: string): VerificationMethod {
  const listed = document.assertionMethod?.find((m) => (typeof m === 'string' ? m : m.id) === kid)
  const method = typeof listed === 'string' ? document.verificationMethod?.find((m) => m.id === kid) : listed
  if (method === undefined) throw new Error(`${kid} is not an assertion method of ${document.id}`)
  return method
}

function publicJwk(method: VerificationMethod): JWK {
  if (method.publicKeyJwk) return method.publicKeyJwk
  if (method.type === 'Multikey' && method.publicKeyMultibase) {
    return { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(ed25519Bytes(method.publicKeyMultibase)).toString('base64url') }
  }
  throw new Error(`${method.id} has no public key this verifier reads`)
}

/** The 32 key bytes of an Ed25519 Multikey: `z` + base58btc(0xed 0x01 + key). */
function ed25519Bytes(multibase: string): Uint8Array {
  const bytes = multibase.startsWith('z') ? base58.decode(multibase.slice(1)) : new Uint8Array()
  if (bytes.length !== 34 || bytes[0] !== 0xed || bytes[1] !== 0x01) throw new Error(`${multibase} is not an Ed25519 Multikey`)
  return bytes.slice(2)
}

/** What OB 3.0 requires of the claims, or undefined when they agree with the credential in the payload. */
function claimProblem(payload: Record<string, unknown>): string | undefined {
  const issuer = payload.issuer as string | { id?: string }
  const subject = payload.credentialSubject as { id?: string }
  const expected: Record<string, unknown> = {
    iss: typeof issuer === 'string' ? issuer : issuer?.id,
    jti: payload.id,
    sub: subject?.id,
    nbf: seconds(payload.validFrom),
    exp: seconds(payload.validUntil)
  }
  const wrong = Object.entries(expected).filter(([claim, value]) => payload[claim] !== value)
  if (wrong.length > 0) return `claims disagree with the credential: ${wrong.map(([claim]) => claim).join(', ')}`
  const now = Date.now() / 1000
  if (typeof payload.nbf !== 'number' || payload.nbf > now) return 'not yet valid (nbf)'
  if (typeof payload.exp === 'number' && payload.exp <= now) return 'expired (exp)'
  return undefined
}

function seconds(date: unknown): number | undefined {
  return typeof date === 'string' ? Math.floor(Date.parse(date) / 1000) : undefined
}
