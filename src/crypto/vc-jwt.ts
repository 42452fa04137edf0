// VC-JWT as OB 3.0 released it: the credential JSON is the payload, plus iss/jti/sub/nbf/exp, in a compact JWS.
import type { KeyObject } from 'node:crypto'
import { CompactSign } from 'jose'
import { issuerIdOf } from './credential-issuer.js'

export type JwtAlg = 'RS256' | 'ES256' | 'EdDSA'

export interface VcJwtOptions {
  alg: JwtAlg
  /** The verification method id (`did#fragment`) that dereferences to the public key. */
  kid: string
  privateKey: KeyObject
}

export async function signVcJwt(credential: Record<string, unknown>, options: VcJwtOptions): Promise<string> {
  const payload = { ...credential, ...registeredClaims(credential) }
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: options.alg, typ: 'JWT', kid: options.kid })
    .sign(options.privateKey)
}

/** The JWT claims OB 3.0 derives from credential fields; `sub`, `nbf` and `exp` only when the credential has them (an OB 3.0 one always has validFrom). */
function registeredClaims(credential: Record<string, unknown>): Record<string, unknown> {
  const { id, credentialSubject, validFrom, validUntil } = credential
  const subject = credentialSubject as { id?: unknown }
  return {
    iss: issuerIdOf(credential),
    jti: id,
    ...(typeof subject.id === 'string' ? { sub: subject.id } : {}),
    ...(validFrom === undefined ? {} : { nbf: numericDate('validFrom', validFrom) }),
    ...(validUntil === undefined ? {} : { exp: numericDate('validUntil', validUntil) })
  }
}

/** Seconds since the epoch (RFC 7519 NumericDate). */
function numericDate(field: string, value: unknown): number {
  const time = typeof value === 'string' ? Date.parse(value) : NaN
  if (Number.isNaN(time)) throw new TypeError(`${field} must be a date-time string, got ${JSON.stringify(value)}`)
  return Math.floor(time / 1000)
}
