// Test wallets that speak to a listening Lanyard over HTTP, built from libraries src/ does not share code with:
// an LCW-like VC-API client (Digital Bazaar's vc, see holder.ts) and an OID4VCI wallet (jose for its key proofs).
import * as base58 from 'base58-universal'
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose'
import { newHolder, presentation, type Holder, type PresentationOptions } from './holder.js'

type Json = Record<string, any>

export interface Reply {
  status: number
  body: Json
  headers: Headers
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const form = headers['content-type'] === 'application/x-www-form-urlencoded'
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: form ? new URLSearchParams(body as Record<string, string>).toString() : JSON.stringify(body)
  })
  return { status: res.status, body: await res.json() as Json, headers: res.headers }
}

export async function getJson(url: string): Promise<Json> {
  const res = await fetch(url)
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`)
  return res.json() as Promise<Json>
}

/** The parameters of LCW's deep link (https://lcw.app/request.html?issuer&auth_type&challenge&vc_request_url). */
export function lcwParameters(deepLink: string): { issuer: string; authType: string; challenge: string; vcRequestUrl: string } {
  const url = new URL(deepLink)
  const get = (name: string) => url.searchParams.get(name) ?? ''
  return { issuer: get('issuer'), authType: get('auth_type'), challenge: get('challenge'), vcRequestUrl: get('vc_request_url') }
}

/**
 * LCW's VC-API exchange: POST {} to the exchange, answer the DIDAuthentication request with a presentation signed with
 * its challenge and domain, as `{ verifiablePresentation }`. `tamper` changes what is signed (for the refusals).
 */
export async function lcwExchange(deepLink: string, holder: Holder, tamper: Partial<PresentationOptions> = {}): Promise<{ request: Json; reply: Reply }> {
  const prepared = await lcwPresentation(deepLink, holder, tamper)
  if ('refused' in prepared) return { request: prepared.refused.body, reply: prepared.refused }
  return { request: prepared.request, reply: await prepared.send() }
}

/**
 * The first half of the exchange: the request, and the signed presentation ready to `send`; or the exchange's refusal
 * of the first POST. Split so a test can hold several answers and send them at once.
 */
export async function lcwPresentation(deepLink: string, holder: Holder, tamper: Partial<PresentationOptions> = {}): Promise<{ refused: Reply } | { request: Json; send: () => Promise<Reply> }> {
  const { vcRequestUrl } = lcwParameters(deepLink)
  const first = await post(vcRequestUrl, {})
  if (first.status !== 200) return { refused: first }
  const request = first.body.verifiablePresentationRequest
  const vp = await presentation(holder, [], { challenge: request.challenge, domain: request.domain, ...tamper })
  const endpoint = request.interact.service[0].serviceEndpoint
  return { request, send: () => post(endpoint, { verifiablePresentation: vp }) }
}

/** An OID4VCI credential offer from its openid-credential-offer:// link, by value or by reference. */
export async function offerOf(link: string): Promise<Json> {
  const url = new URL(link)
  const byValue = url.searchParams.get('credential_offer')
  return byValue !== null ? JSON.parse(byValue) : getJson(url.searchParams.get('credential_offer_uri')!)
}

export interface WalletKey {
  alg: 'EdDSA' | 'ES256'
  privateKey: CryptoKey
  jwk: JWK
  /** did:jwk of the public JWK as this wallet serializes it, or did:key for an Ed25519 key used by kid. */
  did: string
  /** Present when the proof names the key by did:key URL instead of carrying the jwk. */
  kid?: string
}

export async function walletKey(alg: 'EdDSA' | 'ES256', by: 'jwk' | 'did:key' = 'jwk'): Promise<WalletKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const jwk = await exportJWK(publicKey)
  if (by === 'jwk') return { alg, privateKey, jwk, did: `did:jwk:${Buffer.from(JSON.stringify(jwk)).toString('base64url')}` }
  const multibase = `z${base58.encode(Uint8Array.from([0xed, 0x01, ...Buffer.from(jwk.x!, 'base64url')]))}`
  const did = `did:key:${multibase}`
  return { alg, privateKey, jwk, did, kid: `${did}#${multibase}` }
}

export interface ProofClaims {
  aud?: string
  nonce?: string | null
  iat?: number
  typ?: string
  header?: Json
}

/** A key proof: typ openid4vci-proof+jwt, the key as jwk or kid, aud = the credential issuer, iat now, the c_nonce. */
export async function keyProof(key: WalletKey, issuer: string, nonce: string, claims: ProofClaims = {}): Promise<string> {
  const payload = claims.nonce === null ? {} : { nonce: claims.nonce ?? nonce }
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, typ: claims.typ ?? 'openid4vci-proof+jwt', ...(key.kid ? { kid: key.kid } : { jwk: key.jwk }), ...claims.header })
    .setAudience(claims.aud ?? issuer)
    .setIssuedAt(claims.iat ?? Math.floor(Date.now() / 1000))
    .sign(key.privateKey)
}

export interface Oid4vciSession {
  issuer: string
  metadata: Json
  tokenEndpoint: string
  accessToken: string
  nonce: string
}

/** Reads the offer and the metadata, and redeems the pre-authorized code (with the tx_code when given). */
export async function oid4vciToken(offerLink: string, txCode?: string): Promise<{ session?: Oid4vciSession; reply: Reply }> {
  const offer = await offerOf(offerLink)
  const issuer = offer.credential_issuer
  const metadata = await getJson(`${issuer}/.well-known/openid-credential-issuer`)
  const authorizationServer = await getJson(`${issuer}/.well-known/oauth-authorization-server`)
  const grant = offer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']
  const reply = await post(authorizationServer.token_endpoint, {
    grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code',
    'pre-authorized_code': grant['pre-authorized_code'],
    ...(txCode !== undefined && { tx_code: txCode })
  }, { 'content-type': 'application/x-www-form-urlencoded' })
  if (reply.status !== 200) return { reply }
  const nonce = await post(metadata.nonce_endpoint, {})
  return { session: { issuer, metadata, tokenEndpoint: authorizationServer.token_endpoint, accessToken: reply.body.access_token, nonce: nonce.body.c_nonce }, reply }
}

/** The credential request of OID4VCI 1.0 (by configuration id, proofs.jwt). */
export async function requestCredential(session: Oid4vciSession, body: Json): Promise<Reply> {
  return post(session.metadata.credential_endpoint, body, { authorization: `Bearer ${session.accessToken}` })
}

export { newHolder }
