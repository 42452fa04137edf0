// The `issuer` check: does the key that signed belong to the credential's issuer (key provenance, OB 3.0 §8.2)?
import { calculateJwkThumbprint, type JWK } from 'jose'
import { jsonOf, type DocumentFetcher } from '../documents.js'
import { resolveVerificationMethod, type ResolvedKey } from '../keys.js'
import { failed, passed, skipped, warning, type Check } from '../report.js'

const JWKS_MAX_AGE_MS = 5 * 60_000

export interface SigningEvidence {
  verified: boolean
  keys: ResolvedKey[]
  /** A VC-JWT's header key: it proves nothing about the issuer until the issuer publishes it. */
  embeddedJwk?: Record<string, unknown>
}

export async function checkIssuer(issuerId: string | undefined, evidence: SigningEvidence, fetch: DocumentFetcher): Promise<Check> {
  if (issuerId === undefined) return failed('issuer', 'The credential names no issuer')
  if (!evidence.verified) return skipped('issuer', 'No valid signature to tie to the issuer')
  const own = evidence.keys.find((key) => key.controller === issuerId)
  if (own !== undefined) return passed('issuer', `Signed with a key ${issuerId} publishes (${own.id})`)
  if (evidence.embeddedJwk !== undefined && (await issuerPublishes(issuerId, evidence.embeddedJwk, fetch))) {
    return passed('issuer', `Signed with a key ${issuerId} publishes`)
  }
  const signer = evidence.keys[0]?.controller ?? 'a key embedded in the JWT'
  if (!/^(did|https?):/i.test(issuerId)) {
    return warning('issuer', `The issuer ${issuerId} is not an identifier that can publish keys, so the signature by ${signer} cannot be tied to it`)
  }
  return failed('issuer', `Signed by ${signer}, which is not a key of the issuer ${issuerId}`)
}

/** An embedded JWK is the issuer's when its DID is that key, or when its JWK Set (https issuers) lists it. */
async function issuerPublishes(issuerId: string, jwk: Record<string, unknown>, fetch: DocumentFetcher): Promise<boolean> {
  const thumbprint = await thumbprintOf(jwk)
  if (thumbprint === undefined) return false
  if (issuerId.startsWith('did:key:') || issuerId.startsWith('did:jwk:')) {
    try {
      const key = await resolveVerificationMethod(issuerId, fetch)
      return (await thumbprintOf(key.publicKey.export({ format: 'jwk' }) as Record<string, unknown>)) === thumbprint
    } catch {
      // Whatever stops the DID from resolving (not a key, not a JSON object), it does not publish this key.
      return false
    }
  }
  if (!/^https:\/\//i.test(issuerId)) return false
  let keys: unknown
  try {
    const url = new URL('/.well-known/jwks.json', issuerId).toString()
    keys = (jsonOf(await fetch(url, { accept: 'application/jwk-set+json, application/json;q=0.9', maxAgeMs: JWKS_MAX_AGE_MS })) as { keys?: unknown }).keys
  } catch {
    return false
  }
  if (!Array.isArray(keys)) return false
  for (const candidate of keys) {
    if (typeof candidate !== 'object' || candidate === null) continue
    const member = candidate as Record<string, unknown>
    // A JWK Set shared by several issuers marks each key with the issuer it belongs to.
    if (member.iss !== undefined && member.iss !== issuerId) continue
    if ((await thumbprintOf(member)) === thumbprint) return true
  }
  return false
}

async function thumbprintOf(jwk: Record<string, unknown>): Promise<string | undefined> {
  try {
    return await calculateJwkThumbprint(jwk as JWK)
  } catch {
    return undefined
  }
}
