// Content negotiation for a credential's public URL: the exact signed bytes for machines, a page for people.
import type { Accepts } from 'accepts'
import { VC_V2_CONTEXT } from '../crypto/contexts.js'

const JSON_TYPES = ['application/json', 'application/ld+json', 'application/vc+ld+json']
const JWT_TYPES = ['application/vc+jwt', 'application/jwt']

export type NegotiatedCredential = { kind: 'html' } | { kind: 'body'; mediaType: string; body: string }

/** VC 2.0's JSON form of a credential secured by a JWT: the JWT travels in a data: URL. */
export function envelopedCredential(jwt: string): string {
  return JSON.stringify({ '@context': [VC_V2_CONTEXT], id: `data:application/vc+jwt,${jwt}`, type: 'EnvelopedVerifiableCredential' })
}

/**
 * The first offered type wins for Accept: * / *, so JSON is the default. Undefined when nothing acceptable is on offer.
 * `html: false` for a document without a page for people (an endorsement).
 */
export function negotiateCredential(row: { format: string; signed: string }, accept: Accepts, { html = true } = {}): NegotiatedCredential | undefined {
  const isJwt = row.format === 'vc-jwt'
  const chosen = accept.type([...JSON_TYPES, ...(isJwt ? JWT_TYPES : []), ...(html ? ['text/html'] : [])]) as string | false
  if (chosen === false) return undefined
  if (chosen === 'text/html') return { kind: 'html' }
  if (JWT_TYPES.includes(chosen)) return { kind: 'body', mediaType: chosen, body: row.signed }
  return { kind: 'body', mediaType: chosen, body: isJwt ? envelopedCredential(row.signed) : row.signed }
}
