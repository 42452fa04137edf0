// The secrets of a claim: one random token, and the values derived from it for each flow. Only their hashes are stored.
import { createHmac, randomBytes, randomInt } from 'node:crypto'
import { hashToken } from '../api-keys/tokens.js'

export { hashToken }

/** 256 random bits, URL-safe: the claim page's path, and the root every other secret of the claim is derived from. */
export function newClaimToken(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * A value only the holder of `secret` can compute, and from which `secret` cannot be recovered: the claim page can show
 * the LCW exchange and the OID4VCI code again from its token, while the database holds hashes only.
 */
function derive(secret: string, purpose: string): string {
  return createHmac('sha256', secret).update(`lanyard:${purpose}`).digest('base64url')
}

/** The LCW exchange id (its URL is a bearer secret: whoever has it may present a DID to it). */
export const exchangeIdOf = (token: string): string => derive(token, 'lcw-exchange')
/** The DID Authentication challenge of an exchange: the deep link carries it, and the VPR repeats it to whoever holds the exchange URL. */
export const challengeOf = (exchangeId: string): string => derive(exchangeId, 'lcw-challenge')
/** The OID4VCI pre-authorized code. */
export const preAuthorizedCodeOf = (token: string): string => derive(token, 'oid4vci-pre-authorized-code')

/** A six-digit transaction code (PIN) the issuer sends the learner apart from the offer. */
export function newTxCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0')
}

/** A transaction code is short: its hash is salted with the code's own hash, so equal PINs of two claims differ at rest. */
export function txCodeHash(codeHash: string, txCode: string): string {
  return hashToken(`${codeHash}:${txCode}`)
}

/** An opaque secret for OID4VCI access tokens and nonces. */
export function newOpaqueSecret(): string {
  return randomBytes(32).toString('base64url')
}
