// VC-JWT as OB 3.0 defines it: decoding both layouts (VC 2.0 credential as the payload; VC 1.1 `vc` claim with the
// registered claims standing in for its fields), and verifying the JWS with a key from `kid` or an embedded `jwk`.
import { createPublicKey, type KeyObject } from 'node:crypto'
import { compactVerify, decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from 'jose'
import { issuerIdOf } from '../crypto/credential-issuer.js'
import { w3cDate } from '../crypto/w3c-date.js'
import type { DocumentFetcher } from './documents.js'
import { resolveVerificationMethod, type KeyResolutionError, type ResolvedKey } from './keys.js'

/** RS256 is OB 3.0's required algorithm; EdDSA and ES256 are what other issuers (and Lanyard on request) use. */
export const JWT_ALGORITHMS = ['RS256', 'ES256', 'EdDSA', 'Ed25519'] as const

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

export interface DecodedVcJwt {
  jwt: string
  header: ProtectedHeaderParameters
  payload: JWTPayload
  /** The credential the JWT carries, with VC 1.1 claims folded back into it. */
  credential: Record<string, unknown>
  layout: 'vc-claim' | 'payload'
}

export function looksLikeJwt(text: string): boolean {
  return COMPACT_JWS.test(text)
}

/** Undefined when `text` is not a JWT carrying a credential (the caller answers 400). */
export function decodeVcJwt(text: string): DecodedVcJwt | undefined {
  const jwt = text.trim()
  if (!looksLikeJwt(jwt)) return undefined
  let header: ProtectedHeaderParameters
  let payload: JWTPayload
  try {
    header = decodeProtectedHeader(jwt)
    payload = decodeJwt(jwt)
  } catch {
    return undefined
  }
  const vc = payload.vc
  if (typeof vc === 'object' && vc !== null && !Array.isArray(vc)) {
    return { jwt, header, payload, credential: foldVc11Claims(vc as Record<string, unknown>, payload), layout: 'vc-claim' }
  }
  if (payload['@context'] === undefined) return undefined
  const { iss, sub, jti, nbf, exp, iat, aud, ...credential } = payload
  void [iss, sub, jti, nbf, exp, iat, aud]
  return { jwt, header, payload, credential, layout: 'payload' }
}

/** VC-JWT 1.1: a field left out of `vc` is given by its claim (iss → issuer, nbf → issuanceDate, jti → id, sub → subject id, exp → expirationDate). */
function foldVc11Claims(vc: Record<string, unknown>, payload: JWTPayload): Record<string, unknown> {
  const credential = structuredClone(vc)
  if (credential.issuer === undefined && payload.iss !== undefined) credential.issuer = payload.iss
  if (credential.id === undefined && payload.jti !== undefined) credential.id = payload.jti
  if (credential.issuanceDate === undefined && credential.validFrom === undefined && typeof payload.nbf === 'number') credential.issuanceDate = w3cDate(new Date(payload.nbf * 1000))
  if (credential.expirationDate === undefined && credential.validUntil === undefined && typeof payload.exp === 'number') credential.expirationDate = w3cDate(new Date(payload.exp * 1000))
  const subject = credential.credentialSubject
  if (payload.sub !== undefined && typeof subject === 'object' && subject !== null && !Array.isArray(subject) && (subject as Record<string, unknown>).id === undefined) {
    credential.credentialSubject = { ...(subject as object), id: payload.sub }
  }
  return credential
}

export interface JwtProofOutcome {
  verified: boolean
  message: string
  /** The key that verified, when it came from `kid`. */
  key?: ResolvedKey
  /** The key that verified, when the header embedded it: its provenance is the issuer check's job. */
  embeddedJwk?: Record<string, unknown>
}

export async function verifyVcJwtProof(decoded: DecodedVcJwt, fetch: DocumentFetcher): Promise<JwtProofOutcome> {
  const { header, credential } = decoded
  const alg = header.alg
  if (alg === undefined || alg === 'none') return { verified: false, message: 'The JWT is not signed (alg "none"), and unsigned credentials are never accepted' }
  if (!(JWT_ALGORITHMS as readonly string[]).includes(alg)) return { verified: false, message: `The JWT algorithm "${alg}" is not supported (${JWT_ALGORITHMS.join(', ')} are)` }
  if (header.typ !== undefined && header.typ !== 'JWT' && header.typ !== 'vc+jwt' && header.typ !== 'vc+ld+json+jwt') {
    return { verified: false, message: `The JWT header typ "${header.typ}" is not one OB 3.0 allows ("JWT")` }
  }
  if ('crit' in header) return { verified: false, message: 'The JWT header has critical extensions Lanyard does not understand' }

  let publicKey: KeyObject
  let key: ResolvedKey | undefined
  let embeddedJwk: Record<string, unknown> | undefined
  if (typeof header.kid === 'string') {
    try {
      key = await resolveVerificationMethod(absoluteKid(header.kid, issuerIdOf(credential)), fetch)
    } catch (error) {
      // resolveVerificationMethod throws only KeyResolutionError, whose message is written for the report.
      return { verified: false, message: (error as KeyResolutionError).message }
    }
    // As for Data Integrity proofs: a key its controller lists only for logging in (authentication) does not issue.
    if (!key.assertionMethod.includes(key.id)) return { verified: false, message: `The key ${key.id} is not one ${key.controller} lists for issuing credentials (assertionMethod)` }
    publicKey = key.publicKey
  } else if (typeof header.jwk === 'object' && header.jwk !== null) {
    embeddedJwk = header.jwk as Record<string, unknown>
    if ('d' in embeddedJwk) return { verified: false, message: 'The JWT header embeds a private key; it must hold only the public key' }
    try {
      publicKey = createPublicKey({ format: 'jwk', key: embeddedJwk as never })
    } catch {
      return { verified: false, message: 'The JWT header\'s "jwk" is not a usable public key' }
    }
  } else {
    return { verified: false, message: 'The JWT header names no key: OB 3.0 requires "kid" or "jwk"' }
  }

  try {
    await compactVerify(decoded.jwt, publicKey, { algorithms: [alg] })
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return { verified: false, message: 'The JWT signature does not match: the credential was changed after signing, or signed with another key' }
    return { verified: false, message: `The JWT cannot be verified with its key: ${(error as Error).message}` }
  }
  const mismatch = claimMismatch(decoded)
  if (mismatch !== undefined) return { verified: false, message: `The JWT claims contradict the credential: ${mismatch}` }
  return { verified: true, message: `Valid VC-JWT signature (${alg}) by ${key?.id ?? 'the key embedded in the JWT header'}`, ...(key && { key }), ...(embeddedJwk && { embeddedJwk }) }
}

/** A kid that is a fragment or a bare name is relative to the issuer's identifier. */
function absoluteKid(kid: string, issuerId: string | undefined): string {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(kid) || issuerId === undefined) return kid
  return kid.startsWith('#') ? `${issuerId}${kid}` : `${issuerId}#${kid}`
}

/** OB 3.0 §VC-JWT: iss = issuer.id, jti = id, sub = credentialSubject.id, nbf = validFrom, exp = validUntil, when present. */
function claimMismatch({ payload, credential }: DecodedVcJwt): string | undefined {
  const subject = credential.credentialSubject as { id?: unknown } | undefined
  const pairs: [string, unknown, unknown][] = [
    ['iss', payload.iss, issuerIdOf(credential)],
    ['jti', payload.jti, credential.id],
    ['sub', payload.sub, typeof subject === 'object' && subject !== null ? subject.id : undefined]
  ]
  for (const [claim, value, field] of pairs) {
    if (value !== undefined && field !== undefined && value !== field) return `${claim} is ${JSON.stringify(value)} but the credential says ${JSON.stringify(field)}`
  }
  const dates: [string, unknown, unknown][] = [
    ['nbf', payload.nbf, credential.validFrom ?? credential.issuanceDate],
    ['exp', payload.exp, credential.validUntil ?? credential.expirationDate]
  ]
  for (const [claim, value, field] of dates) {
    if (typeof value !== 'number' || typeof field !== 'string') continue
    const seconds = Math.floor(Date.parse(field) / 1000)
    if (Number.isNaN(seconds) || seconds !== value) return `${claim} is ${value} but the credential's date is ${field}`
  }
  return undefined
}
