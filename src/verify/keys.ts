// Resolves a verification method (did:key, did:jwk, did:web, or an http(s) URL) to a public key and the document of the
// controller that vouches for it. Everything fetched goes through the caller's DocumentFetcher (guarded, cached).
import { createPublicKey, type KeyObject } from 'node:crypto'
import * as base58 from 'base58-universal'
import { publicKeyMultibase } from '../crypto/ed25519.js'
import { jsonOf, type DocumentFetcher } from './documents.js'

/** DID documents and key documents change rarely; five minutes bounds how long a removed key keeps verifying. */
const KEY_MAX_AGE_MS = 5 * 60_000
const ACCEPT_DID = 'application/did+ld+json, application/did+json, application/ld+json;q=0.9, application/json;q=0.8'

/** A key found and checked: who controls it and which purposes its controller lists it under. */
export interface ResolvedKey {
  /** The id the proof named. */
  id: string
  controller: string
  publicKey: KeyObject
  /** The raw 32 bytes of an Ed25519 key (Data Integrity suites need them); undefined for RSA and EC keys. */
  ed25519?: Uint8Array
  /** Verification method ids the controller lists under assertionMethod and authentication. */
  assertionMethod: string[]
  authentication: string[]
}

export class KeyResolutionError extends Error {
  override name = 'KeyResolutionError'
}

type Json = Record<string, unknown>

export async function resolveVerificationMethod(id: string, fetch: DocumentFetcher): Promise<ResolvedKey> {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(id)?.[1]?.toLowerCase()
  if (scheme === undefined) throw new KeyResolutionError(`The verification method "${id}" is not a URL (it has no scheme)`)
  if (scheme === 'did') {
    const method = id.split(':')[1]
    if (method === 'key') return didKeyMethod(id)
    if (method === 'jwk') return didJwkMethod(id)
    if (method === 'web') return didWebMethod(id, fetch)
    throw new KeyResolutionError(`The verification method ${id} uses DID method "did:${method}", which Lanyard does not resolve (did:key, did:jwk and did:web are supported)`)
  }
  if (scheme === 'https' || scheme === 'http') return httpMethod(id, fetch)
  throw new KeyResolutionError(`The verification method ${id} has the unknown scheme "${scheme}:"`)
}

/** did:key:z6Mk…: the key is the identifier. */
function didKeyMethod(id: string): ResolvedKey {
  const did = id.split('#')[0]!
  const multibase = did.slice('did:key:'.length)
  const raw = ed25519FromMultibase(multibase, id)
  const fragment = id.includes('#') ? id.slice(id.indexOf('#') + 1) : undefined
  if (fragment !== undefined && fragment !== multibase) throw new KeyResolutionError(`${id}: a did:key has only the key ${did}#${multibase}`)
  return ed25519Key(id, did, raw, [id])
}

/** did:jwk:<base64url JWK>: the key is the identifier; its one method is #0. */
function didJwkMethod(id: string): ResolvedKey {
  const did = id.split('#')[0]!
  let jwk: Json
  try {
    jwk = JSON.parse(Buffer.from(did.slice('did:jwk:'.length), 'base64url').toString('utf8')) as Json
  } catch {
    throw new KeyResolutionError(`${did} does not hold a JSON Web Key`)
  }
  return keyFromJwk(id, did, jwk, [id, `${did}#0`])
}

/** did:web:host%3Aport:path → https://host:port/path/did.json (or /.well-known/did.json without a path). */
export function didWebUrl(did: string): string {
  const [host, ...path] = did.slice('did:web:'.length).split(':')
  const hostname = decodeURIComponent(host!)
  if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(hostname)) throw new KeyResolutionError(`${did} does not name a valid host`)
  const segments = path.map((segment) => decodeURIComponent(segment))
  return `https://${hostname}/${segments.length === 0 ? '.well-known' : segments.join('/')}/did.json`
}

async function didWebMethod(id: string, fetch: DocumentFetcher): Promise<ResolvedKey> {
  const did = id.split('#')[0]!
  const document = await fetchJson(didWebUrl(did), fetch, `the DID document of ${did}`)
  if (document.id !== did) throw new KeyResolutionError(`The DID document fetched for ${did} is about ${String(document.id)}`)
  return methodIn(document, id)
}

/** An https key URL: either a controller document (issuer profile, DID-like document) listing the key, or the key itself. */
async function httpMethod(id: string, fetch: DocumentFetcher): Promise<ResolvedKey> {
  const documentUrl = id.split('#')[0]!
  const document = await fetchJson(documentUrl, fetch, `the key document ${documentUrl}`)
  if (document.id === id && typeof document.controller === 'string' && document.controller !== documentUrl) {
    // A stand-alone key document: its controller must list it.
    const controller = await fetchJson(document.controller.split('#')[0]!, fetch, `the controller document ${document.controller}`)
    const key = keyFromMethod(document, id)
    return { ...key, ...purposes(controller, document.controller) }
  }
  return methodIn(document, id)
}

async function fetchJson(url: string, fetch: DocumentFetcher, what: string): Promise<Json> {
  let json: unknown
  try {
    json = jsonOf(await fetch(url, { accept: ACCEPT_DID, maxAgeMs: KEY_MAX_AGE_MS }))
  } catch (error) {
    throw new KeyResolutionError(`Could not fetch ${what}: ${(error as Error).message}`)
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new KeyResolutionError(`${what} is not a JSON object`)
  return json as Json
}

/** Finds method `id` in a controller document (verificationMethod, or embedded in a purpose) and reads its purposes. */
function methodIn(document: Json, id: string): ResolvedKey {
  const documentId = typeof document.id === 'string' ? document.id : id.split('#')[0]!
  const candidates = [document.verificationMethod, document.assertionMethod, document.authentication]
    .flatMap((value) => (Array.isArray(value) ? value : value === undefined ? [] : [value]))
    .filter((value): value is Json => typeof value === 'object' && value !== null)
  const method = candidates.find((candidate) => absolute(candidate.id, documentId) === id)
  if (method === undefined) throw new KeyResolutionError(`The document of ${documentId} does not list the verification method ${id}`)
  const controller = typeof method.controller === 'string' ? method.controller : documentId
  const key = keyFromMethod(method, id, controller)
  if (controller !== documentId) throw new KeyResolutionError(`The verification method ${id} is controlled by ${controller}, not by ${documentId} which lists it`)
  return { ...key, ...purposes(document, documentId) }
}

function purposes(document: Json, documentId: string): Pick<ResolvedKey, 'assertionMethod' | 'authentication'> {
  const ids = (value: unknown) => (Array.isArray(value) ? value : value === undefined ? [] : [value])
    .map((entry) => absolute(typeof entry === 'string' ? entry : (entry as Json | null)?.id, documentId))
    .filter((entry): entry is string => entry !== undefined)
  return { assertionMethod: ids(document.assertionMethod), authentication: ids(document.authentication) }
}

/** A relative method id (`#key-1`) is relative to its document. */
function absolute(id: unknown, documentId: string): string | undefined {
  if (typeof id !== 'string') return undefined
  return id.startsWith('#') ? `${documentId}${id}` : id
}

function keyFromMethod(method: Json, id: string, controller = String(method.controller)): Omit<ResolvedKey, 'assertionMethod' | 'authentication'> {
  if (typeof method.publicKeyMultibase === 'string') {
    const key = ed25519Key(id, controller, ed25519FromMultibase(method.publicKeyMultibase, id), [])
    return { id: key.id, controller: key.controller, publicKey: key.publicKey, ed25519: key.ed25519 }
  }
  if (typeof method.publicKeyJwk === 'object' && method.publicKeyJwk !== null) {
    const key = keyFromJwk(id, controller, method.publicKeyJwk as Json, [])
    return { id: key.id, controller: key.controller, publicKey: key.publicKey, ...(key.ed25519 && { ed25519: key.ed25519 }) }
  }
  throw new KeyResolutionError(`The verification method ${id} has neither publicKeyMultibase nor publicKeyJwk`)
}

const ED25519_PREFIX = [0xed, 0x01]

function ed25519FromMultibase(multibase: string, id: string): Uint8Array {
  let bytes: Uint8Array
  try {
    if (!multibase.startsWith('z')) throw new Error('not base58btc')
    bytes = base58.decode(multibase.slice(1))
  } catch {
    throw new KeyResolutionError(`The key of ${id} is not a base58btc multibase value`)
  }
  if (bytes.length !== 34 || bytes[0] !== ED25519_PREFIX[0] || bytes[1] !== ED25519_PREFIX[1]) {
    throw new KeyResolutionError(`The key of ${id} is not an Ed25519 public key`)
  }
  return bytes.slice(2)
}

function ed25519Key(id: string, controller: string, raw: Uint8Array, listed: string[]): ResolvedKey {
  const publicKey = createPublicKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') } })
  return { id, controller, publicKey, ed25519: raw, assertionMethod: listed, authentication: listed }
}

function keyFromJwk(id: string, controller: string, jwk: Json, listed: string[]): ResolvedKey {
  if ('d' in jwk) throw new KeyResolutionError(`The key of ${id} is a private key; a public key was expected`)
  let publicKey: KeyObject
  try {
    publicKey = createPublicKey({ format: 'jwk', key: jwk as never })
  } catch {
    throw new KeyResolutionError(`The key of ${id} is not a usable JSON Web Key`)
  }
  const ed25519 = jwk.kty === 'OKP' && jwk.crv === 'Ed25519' ? Buffer.from(String(jwk.x), 'base64url') : undefined
  return { id, controller, publicKey, ...(ed25519 && { ed25519 }), assertionMethod: listed, authentication: listed }
}

/** The Multikey encoding of a resolved Ed25519 key (for the Data Integrity libraries). */
export function multibaseOf(key: ResolvedKey): string {
  return publicKeyMultibase(key.ed25519!)
}
