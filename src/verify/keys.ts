// Resolves a verification method (did:key, did:jwk, did:web, or an http(s) URL) to a public key and the document of the
// controller that vouches for it. Everything fetched goes through the caller's DocumentFetcher (guarded, cached).
import { createPublicKey, type KeyObject } from 'node:crypto'
import * as base58 from 'base58-universal'
import { publicKeyMultibase, publicKeyObject } from '../crypto/ed25519.js'
import { Lru } from '../lru.js'
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
    if (method === 'key' || method === 'jwk') return selfDescribing(id, method)
    if (method === 'web') return didWebMethod(id, fetch)
    throw new KeyResolutionError(`The verification method ${id} uses DID method "did:${method}", which Lanyard does not resolve (did:key, did:jwk and did:web are supported)`)
  }
  if (scheme === 'https' || scheme === 'http') return httpMethod(id, fetch)
  throw new KeyResolutionError(`The verification method ${id} has the unknown scheme "${scheme}:"`)
}

/** did:key and did:jwk methods by id: the id is the key, so a resolution holds forever (~10 µs each: decoding, a KeyObject). */
const selfDescribed = new Lru<string, ResolvedKey>(1000)

function selfDescribing(id: string, method: 'key' | 'jwk'): ResolvedKey {
  let key = selfDescribed.get(id)
  if (key === undefined) {
    key = method === 'key' ? didKeyMethod(id) : didJwkMethod(id)
    selfDescribed.set(id, key)
  }
  return key
}

/** did:key:z6Mk…: the key is the identifier; its one method is #<the key>. */
function didKeyMethod(id: string): ResolvedKey {
  const did = id.split('#')[0]!
  const multibase = did.slice('did:key:'.length)
  onlyMethod(id, did, multibase)
  return ed25519Key(id, did, ed25519FromMultibase(multibase, id), [id])
}

/** did:jwk:<base64url JWK>: the key is the identifier; its one method is #0. */
function didJwkMethod(id: string): ResolvedKey {
  const did = id.split('#')[0]!
  onlyMethod(id, did, '0')
  let jwk: unknown
  try {
    jwk = JSON.parse(Buffer.from(did.slice('did:jwk:'.length), 'base64url').toString('utf8'))
  } catch {
    jwk = undefined
  }
  if (!isObject(jwk)) throw new KeyResolutionError(`${did} does not hold a JSON Web Key`)
  return keyFromJwk(id, did, jwk, [id, `${did}#0`])
}

/** A DID that is its own key has one verification method: any other fragment names nothing. */
function onlyMethod(id: string, did: string, fragment: string): void {
  if (id !== did && id !== `${did}#${fragment}`) throw new KeyResolutionError(`${id}: ${did} has only the key ${did}#${fragment}`)
}

/** did:web:host%3Aport:path → https://host:port/path/did.json (or /.well-known/did.json without a path). */
export function didWebUrl(did: string): string {
  let parts: string[]
  try {
    parts = did.slice('did:web:'.length).split(':').map((part) => decodeURIComponent(part))
  } catch {
    throw new KeyResolutionError(`${did} is not a valid did:web: it has a malformed %-escape`)
  }
  const [hostname, ...segments] = parts
  if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(hostname!)) throw new KeyResolutionError(`${did} does not name a valid host`)
  return `https://${hostname}/${segments.length === 0 ? '.well-known' : segments.join('/')}/did.json`
}

async function didWebMethod(id: string, fetch: DocumentFetcher): Promise<ResolvedKey> {
  const did = id.split('#')[0]!
  const document = await fetchJson(didWebUrl(did), fetch, `the DID document of ${did}`)
  if (document.id !== did) throw new KeyResolutionError(`The DID document fetched for ${did} is about ${String(document.id)}`)
  return methodIn(document, did, id)
}

/** An https key URL: either a controller document (issuer profile, DID-like document) listing the key, or the key itself. */
async function httpMethod(id: string, fetch: DocumentFetcher): Promise<ResolvedKey> {
  const documentUrl = id.split('#')[0]!
  const document = await fetchJson(documentUrl, fetch, `the key document ${documentUrl}`)
  if (document.id === id && typeof document.controller === 'string' && document.controller !== documentUrl) {
    return standaloneKey(document, id, document.controller, fetch)
  }
  aboutItself(document, documentUrl)
  return methodIn(document, documentUrl, id)
}

/** A key published on its own names its controller; only the controller's document, listing the key, makes it theirs. */
async function standaloneKey(keyDocument: Json, id: string, controller: string, fetch: DocumentFetcher): Promise<ResolvedKey> {
  const document = await fetchJson(controller, fetch, `the controller document ${controller}`)
  aboutItself(document, controller)
  const listed = purposes(document, controller)
  if (![...idsIn(document.verificationMethod, controller), ...listed.assertionMethod, ...listed.authentication].includes(id)) {
    throw new KeyResolutionError(`${controller} does not list the verification method ${id}`)
  }
  return { ...keyFromMethod(keyDocument, id, controller), ...listed }
}

/**
 * A document speaks only for the URL it came from. One that claims another id (say, the issuer a forged badge names)
 * would otherwise lend its keys to that id.
 */
function aboutItself(document: Json, url: string): void {
  if (document.id !== undefined && document.id !== url) throw new KeyResolutionError(`The document at ${url} is about ${String(document.id)}`)
}

async function fetchJson(url: string, fetch: DocumentFetcher, what: string): Promise<Json> {
  let json: unknown
  try {
    json = jsonOf(await fetch(url, { accept: ACCEPT_DID, maxAgeMs: KEY_MAX_AGE_MS }))
  } catch (error) {
    throw new KeyResolutionError(`Could not fetch ${what}: ${(error as Error).message}`)
  }
  if (!isObject(json)) throw new KeyResolutionError(`${what} is not a JSON object`)
  return json
}

/** Finds method `id` in the controller document of `documentId` (verificationMethod, or embedded in a purpose) and reads its purposes. */
function methodIn(document: Json, documentId: string, id: string): ResolvedKey {
  const candidates = [document.verificationMethod, document.assertionMethod, document.authentication].flatMap(listOf).filter(isObject)
  const method = candidates.find((candidate) => absolute(candidate.id, documentId) === id)
  if (method === undefined) throw new KeyResolutionError(`The document of ${documentId} does not list the verification method ${id}`)
  const controller = typeof method.controller === 'string' ? method.controller : documentId
  if (controller !== documentId) throw new KeyResolutionError(`The verification method ${id} is controlled by ${controller}, not by ${documentId} which lists it`)
  return { ...keyFromMethod(method, id, controller), ...purposes(document, documentId) }
}

function purposes(document: Json, documentId: string): Pick<ResolvedKey, 'assertionMethod' | 'authentication'> {
  return { assertionMethod: idsIn(document.assertionMethod, documentId), authentication: idsIn(document.authentication, documentId) }
}

/** The method ids in a list of references and embedded methods. */
function idsIn(value: unknown, documentId: string): string[] {
  return listOf(value)
    .map((entry) => absolute(isObject(entry) ? entry.id : entry, documentId))
    .filter((entry): entry is string => entry !== undefined)
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value]
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A relative method id (`#key-1`) is relative to its document. */
function absolute(id: unknown, documentId: string): string | undefined {
  if (typeof id !== 'string') return undefined
  return id.startsWith('#') ? `${documentId}${id}` : id
}

/** The key a method holds; its purposes are the controller document's to say, so the caller fills them in. */
function keyFromMethod(method: Json, id: string, controller: string): ResolvedKey {
  if (typeof method.publicKeyMultibase === 'string') return ed25519Key(id, controller, ed25519FromMultibase(method.publicKeyMultibase, id), [])
  if (isObject(method.publicKeyJwk)) return keyFromJwk(id, controller, method.publicKeyJwk, [])
  throw new KeyResolutionError(`The verification method ${id} has neither publicKeyMultibase nor publicKeyJwk`)
}

const ED25519_PREFIX = [0xed, 0x01]

function ed25519FromMultibase(multibase: string, id: string): Uint8Array {
  // base58-universal answers undefined, rather than throwing, for a character outside the base58 alphabet.
  const bytes = multibase.startsWith('z') ? (base58.decode(multibase.slice(1)) as Uint8Array | undefined) : undefined
  if (bytes === undefined) throw new KeyResolutionError(`The key of ${id} is not a base58btc multibase value`)
  if (bytes.length !== 34 || bytes[0] !== ED25519_PREFIX[0] || bytes[1] !== ED25519_PREFIX[1]) {
    throw new KeyResolutionError(`The key of ${id} is not an Ed25519 public key`)
  }
  return bytes.slice(2)
}

function ed25519Key(id: string, controller: string, raw: Uint8Array, listed: string[]): ResolvedKey {
  // A did:web or https method is read afresh on each verification (the document may change); its key object is not.
  return { id, controller, publicKey: publicKeyObject(raw), ed25519: raw, assertionMethod: listed, authentication: listed }
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

const multibases = new WeakMap<ResolvedKey, string>()

/** The Multikey encoding of a resolved Ed25519 key (for the Data Integrity libraries). */
export function multibaseOf(key: ResolvedKey): string {
  let multibase = multibases.get(key)
  if (multibase === undefined) multibases.set(key, multibase = publicKeyMultibase(key.ed25519!))
  return multibase
}
