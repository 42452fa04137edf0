// What a caller hands /verify, turned into a credential: JSON (the credential, or {credential|jwt|url}), a compact JWT,
// a URL to fetch, or a baked PNG/SVG. Input that holds no credential is an InputError (a 400), never a report.
import { BakedImageError, extractBakedCredential, sniffImageType } from '../baking/extract.js'
import type { DocumentFetcher } from './documents.js'
import type { DecodedCredential } from './pipeline.js'
import { decodeVcJwt, looksLikeJwt } from './vc-jwt.js'

export class InputError extends Error {
  override name = 'InputError'
}

export type VerifyInput =
  | { kind: 'json'; value: unknown }
  | { kind: 'text'; value: string }
  | { kind: 'image'; bytes: Buffer }
  | { kind: 'url'; url: string }

export type InputSource = 'json' | 'jwt' | 'url' | 'png' | 'svg'

export interface DecodedInput extends DecodedCredential {
  source: InputSource
}

const ACCEPT_CREDENTIAL = [
  'application/vc+ld+json', 'application/ld+json;q=0.9', 'application/json;q=0.9', 'application/vc+jwt;q=0.8', 'application/jwt;q=0.8',
  'image/png;q=0.5', 'image/svg+xml;q=0.5', 'text/plain;q=0.3'
].join(', ')

const ENVELOPED_JWT = /^data:application\/(vc\+jwt|jwt),/

/** Real credentials nest about ten levels; JSON-LD processing recurses, so absurd nesting is refused up front. */
export const MAX_JSON_DEPTH = 64

/** Throws InputError when `value` nests deeper than MAX_JSON_DEPTH (checked without recursion). */
export function assertShallow(value: unknown): void {
  const stack: [unknown, number][] = [[value, 1]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!
    if (typeof node !== 'object' || node === null) continue
    if (depth > MAX_JSON_DEPTH) throw new InputError(`The JSON nests more than ${MAX_JSON_DEPTH} levels deep, which no credential does`)
    for (const child of Object.values(node)) stack.push([child, depth + 1])
  }
}

export async function decodeInput(input: VerifyInput, fetch: DocumentFetcher): Promise<DecodedInput> {
  switch (input.kind) {
    case 'json':
      return fromJson(input.value, 'json')
    case 'text':
      return fromText(input.value, 'jwt')
    case 'image':
      return fromImage(input.bytes)
    case 'url':
      return fromUrl(input.url, fetch)
  }
}

/** A credential object, or an EnvelopedVerifiableCredential wrapping a VC-JWT. */
export function fromJson(value: unknown, source: InputSource): DecodedInput {
  if (typeof value === 'string') return fromText(value, 'jwt')
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError('Expected a credential: a JSON object, or a VC-JWT')
  assertShallow(value)
  const document = value as Record<string, unknown>
  const types = Array.isArray(document.type) ? document.type : [document.type]
  if (types.includes('EnvelopedVerifiableCredential') && typeof document.id === 'string' && ENVELOPED_JWT.test(document.id)) {
    return fromText(document.id.replace(ENVELOPED_JWT, ''), source)
  }
  if (document['@context'] === undefined && document.type === undefined && document.credentialSubject === undefined) {
    throw new InputError('The JSON is not a credential: it has no @context, type or credentialSubject')
  }
  return { credential: document, source }
}

function fromText(text: string, source: InputSource): DecodedInput {
  const trimmed = text.trim()
  if (looksLikeJwt(trimmed)) {
    const jwt = decodeVcJwt(trimmed)
    if (jwt === undefined) throw new InputError('The JWT does not carry a verifiable credential (no vc claim and no @context)')
    assertShallow(jwt.payload)
    return { credential: jwt.credential, jwt, source }
  }
  if (trimmed.startsWith('{')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(trimmed)
    } catch {
      throw new InputError('The text starts like JSON but is not valid JSON')
    }
    return fromJson(parsed, source === 'jwt' ? 'json' : source)
  }
  throw new InputError('Expected a credential as JSON or as a compact VC-JWT (header.payload.signature)')
}

function fromImage(bytes: Buffer): DecodedInput {
  const type = sniffImageType(bytes)
  if (type === undefined) throw new InputError('The upload is not a PNG or SVG image')
  let baked
  try {
    baked = extractBakedCredential(bytes)
  } catch (error) {
    // extractBakedCredential throws only BakedImageError, whose message is written for the person who uploaded the image.
    throw new InputError((error as BakedImageError).message)
  }
  return fromText(baked.text, baked.image)
}

async function fromUrl(url: string, fetch: DocumentFetcher): Promise<DecodedInput> {
  let document
  try {
    document = await fetch(url, { accept: ACCEPT_CREDENTIAL, maxAgeMs: 0 })
  } catch (error) {
    throw new InputError(`Could not fetch ${url}: ${(error as Error).message}`)
  }
  const mediaType = document.contentType.split(';')[0]!.trim().toLowerCase()
  if (mediaType.startsWith('image/') || sniffImageType(document.body) !== undefined) {
    return { ...fromImage(document.body), source: 'url' }
  }
  return fromText(document.body.toString('utf8'), 'url')
}
