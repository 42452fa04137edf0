// OID4VCI 1.0, pre-authorized code flow (accepting the draft 13 names wallets still send): the token endpoint redeems
// the claim's code for a single-use access token, and the credential endpoint checks the holder's key proof and answers
// the wallet copy bound to that key. Errors are OAuth errors ({ error, error_description }), as the specification requires.
import { decodeProtectedHeader, importJWK, jwtVerify, type JWK, type ProtectedHeaderParameters } from 'jose'
import type { KeyObject } from 'node:crypto'
import { sameHash } from '../api-keys/tokens.js'
import type { ServiceContext } from '../context.js'
import { findCredential } from '../credentials/store.js'
import { AppError, OAuthError } from '../http/errors.js'
import type { DocumentFetcher } from '../verify/documents.js'
import { resolveVerificationMethod } from '../verify/keys.js'
import { claimClosed } from './claims.js'
import { prepareHolderCopy, writeHolderCopy, type CopyFormat, type PreparedCopy } from './holder-copy.js'
import { CREDENTIAL_CONFIGURATIONS, PRE_AUTHORIZED_GRANT, PROOF_ALGORITHMS } from './offer.js'
import { hashToken, newOpaqueSecret, txCodeHash } from './secrets.js'
import {
  findClaim, findOpenAccessToken, insertAccessToken, insertNonce, recordWrongTxCode, redeemPreAuthorizedCode, useAccessToken, useNonce
} from './store.js'

type Json = Record<string, unknown>

const ACCESS_TOKEN_TTL_S = 600
const NONCE_TTL_S = 300
/** How old a key proof may be (its iat), and how far clocks may disagree. */
const PROOF_MAX_AGE_S = 300
const CLOCK_TOLERANCE_S = 60
const PROOF_TYP = 'openid4vci-proof+jwt'

const invalidGrant = (description: string) => new OAuthError('invalid_grant', description)
const invalidProof = (description: string) => new OAuthError('invalid_proof', description)
const invalidToken = (description: string) => new OAuthError('invalid_token', description, 401)

async function newNonce(ctx: ServiceContext): Promise<{ c_nonce: string; c_nonce_expires_in: number }> {
  const nonce = newOpaqueSecret()
  await insertNonce(ctx.db, nonce, new Date(Date.now() + NONCE_TTL_S * 1000))
  return { c_nonce: nonce, c_nonce_expires_in: NONCE_TTL_S }
}

/** POST /oid4vci/nonce */
export async function nonceRequest(ctx: ServiceContext): Promise<{ c_nonce: string }> {
  return { c_nonce: (await newNonce(ctx)).c_nonce }
}

/** POST /oid4vci/token (form-encoded): the pre-authorized code (and tx_code, or draft 12's user_pin) → an access token. */
export async function tokenRequest(ctx: ServiceContext, body: Record<string, string | undefined>): Promise<Json> {
  if (body.grant_type !== PRE_AUTHORIZED_GRANT) {
    throw new OAuthError('unsupported_grant_type', `grant_type must be ${PRE_AUTHORIZED_GRANT}`)
  }
  const code = body['pre-authorized_code']
  if (code === undefined || code === '') throw new OAuthError('invalid_request', 'pre-authorized_code is missing')
  const codeHash = hashToken(code)
  const claim = await findClaim(ctx.db, 'code_hash', codeHash)
  if (claim === undefined) throw invalidGrant('the pre-authorized code is not one Lanyard issued')
  const closed = claimClosed(claim)
  if (closed !== undefined) throw invalidGrant(closed.detail)
  const txCode = body.tx_code ?? body.user_pin
  const txHash = claim.tx_code_hash === null || txCode === undefined ? null : txCodeHash(codeHash, txCode)
  if (claim.tx_code_hash !== null) {
    if (txHash === null) throw new OAuthError('invalid_request', 'this offer needs the transaction code (tx_code) the issuer sent separately')
    if (!sameHash(txHash, claim.tx_code_hash)) {
      await recordWrongTxCode(ctx.db, claim.id)
      throw invalidGrant('the transaction code is wrong')
    }
  }
  const accessToken = newOpaqueSecret()
  const issued = await ctx.db.transaction().execute(async (trx) => {
    const redeemed = await redeemPreAuthorizedCode(trx, codeHash, txHash)
    if (redeemed === undefined) return false
    await insertAccessToken(trx, hashToken(accessToken), redeemed.id, new Date(Date.now() + ACCESS_TOKEN_TTL_S * 1000))
    return true
  })
  // Another request redeemed the code while this one checked it.
  if (!issued) throw invalidGrant('the pre-authorized code was used a moment ago')
  return { access_token: accessToken, token_type: 'Bearer', expires_in: ACCESS_TOKEN_TTL_S, ...await newNonce(ctx) }
}

/** The Bearer access token of a credential request. */
function bearerToken(authorization: string | undefined): string {
  const match = authorization === undefined ? null : /^(?:Bearer|DPoP)\s+(\S+)\s*$/i.exec(authorization)
  if (match === null) throw invalidToken('send the access token from the token endpoint as Authorization: Bearer <token>')
  return match[1]!
}

interface CredentialAsk {
  format: CopyFormat
  /** Draft 13 asked by format and got `{ credential }`; 1.0 asks by configuration id and gets `{ credentials: [{ credential }] }`. */
  draft13: boolean
  proof: string
}

function credentialAsk(body: Json): CredentialAsk {
  const id = body.credential_configuration_id
  const format = typeof id === 'string' ? CREDENTIAL_CONFIGURATIONS[id] : Object.values(CREDENTIAL_CONFIGURATIONS).find((f) => f === body.format)
  if (format === undefined) {
    throw new OAuthError(typeof id === 'string' ? 'unknown_credential_configuration' : 'unsupported_credential_format',
      `ask for credential_configuration_id ${Object.keys(CREDENTIAL_CONFIGURATIONS).join(' or ')}`)
  }
  const proofs = (body.proofs as Json | undefined)?.jwt
  const single = body.proof as Json | undefined
  const jwts = Array.isArray(proofs) ? proofs : single?.proof_type === 'jwt' ? [single.jwt] : []
  if (jwts.length !== 1 || typeof jwts[0] !== 'string') throw invalidProof('send one key proof: proofs.jwt holding one openid4vci-proof+jwt')
  return { format, draft13: typeof id !== 'string', proof: jwts[0] }
}

const KEY_MEMBERS = new Set(['kty', 'crv', 'x', 'y'])

/**
 * A public JWK of a key type Lanyard binds to (Ed25519 or P-256), with only the members that make the key, in the
 * wallet's own order: did:jwk fixes no member order, so the wallet's serialization is the DID it knows itself by.
 */
function publicJwk(given: JWK): JWK {
  if (given.d !== undefined) throw invalidProof('the jwk in the proof header holds a private key')
  const { kty, crv, x, y } = given
  const supported = (kty === 'OKP' && crv === 'Ed25519' && y === undefined) || (kty === 'EC' && crv === 'P-256' && typeof y === 'string')
  if (!supported || typeof x !== 'string') throw invalidProof('the jwk in the proof header must be an Ed25519 (OKP) or P-256 (EC) public key')
  return Object.fromEntries(Object.entries(given).filter(([member]) => KEY_MEMBERS.has(member))) as JWK
}

/** The proof's key, and the DID the copy is bound to: the kid's did:key/did:jwk, or did:jwk of a bare jwk. */
async function proofKey(header: ProtectedHeaderParameters, fetch: DocumentFetcher): Promise<{ key: KeyObject | Uint8Array | CryptoKey; did: string }> {
  if (header.jwk !== undefined && header.kid === undefined) {
    const jwk = publicJwk(header.jwk)
    const did = `did:jwk:${Buffer.from(JSON.stringify(jwk)).toString('base64url')}`
    return { key: await importJWK(jwk, header.alg), did }
  }
  if (typeof header.kid === 'string' && /^did:(key|jwk):/.test(header.kid) && header.jwk === undefined) {
    try {
      const resolved = await resolveVerificationMethod(header.kid, fetch)
      return { key: resolved.publicKey, did: resolved.controller }
    } catch (error) {
      throw invalidProof(`the proof's kid does not name a key: ${(error as Error).message}`)
    }
  }
  throw invalidProof('the proof header must carry either a jwk or a kid that is a did:key or did:jwk URL')
}

/** Checks the holder's key proof: typ, alg, signature, aud (our issuer identifier), iat (fresh); answers its nonce and holder DID. */
async function verifyKeyProof(ctx: ServiceContext, jwt: string, fetch: DocumentFetcher): Promise<{ did: string; nonce: string }> {
  let header: ProtectedHeaderParameters
  try {
    header = decodeProtectedHeader(jwt)
  } catch {
    throw invalidProof('the proof is not a JWT')
  }
  if (header.typ !== PROOF_TYP) throw invalidProof(`the proof's typ must be ${PROOF_TYP}`)
  if (typeof header.alg !== 'string' || !PROOF_ALGORITHMS.includes(header.alg)) throw invalidProof(`the proof's alg must be one of ${PROOF_ALGORITHMS.join(', ')}`)
  const { key, did } = await proofKey(header, fetch)
  let payload: Json
  try {
    ({ payload } = await jwtVerify(jwt, key, {
      typ: PROOF_TYP, audience: ctx.publicUrl, algorithms: PROOF_ALGORITHMS, maxTokenAge: PROOF_MAX_AGE_S, clockTolerance: CLOCK_TOLERANCE_S
    }))
  } catch (error) {
    throw invalidProof(`the key proof does not verify: ${(error as Error).message}`)
  }
  if (typeof payload.nonce !== 'string') throw new OAuthError('invalid_nonce', 'the key proof carries no nonce: get a c_nonce from the nonce endpoint')
  return { did, nonce: payload.nonce }
}

/** POST /oid4vci/credential */
export async function credentialRequest(ctx: ServiceContext, fetch: DocumentFetcher, authorization: string | undefined, body: Json, requestId: string): Promise<Json> {
  const tokenHash = hashToken(bearerToken(authorization))
  const claim = await findOpenAccessToken(ctx.db, tokenHash)
  if (claim === undefined) throw invalidToken('the access token is unknown, used or expired')
  const ask = credentialAsk(body)
  const holder = await verifyKeyProof(ctx, ask.proof, fetch)
  const original = (await findCredential(ctx.db, claim.credential_id))!
  let copy: PreparedCopy
  try {
    copy = await prepareHolderCopy(ctx, original, holder.did, ask.format, requestId)
  } catch (error) {
    if (error instanceof AppError) throw new OAuthError('credential_request_denied', error.detail)
    /* c8 ignore start: anything else is our fault, and stays a 500 */
    throw error
  }
  /* c8 ignore stop */
  await ctx.db.transaction().execute(async (trx) => {
    if (!await useNonce(trx, holder.nonce)) throw new OAuthError('invalid_nonce', 'the nonce in the key proof is not a current c_nonce: get a new one from the nonce endpoint')
    if (!await useAccessToken(trx, tokenHash)) throw invalidToken('the access token was used a moment ago')
    await writeHolderCopy(trx, ctx.publicUrl, copy, claim, holder.did, requestId)
  })
  return ask.draft13 ? { credential: copy.delivered } : { credentials: [{ credential: copy.delivered }] }
}
