// Issuer rules: profiles, their DIDs, keys sealed at rest (Ed25519; RSA and P-256 for VC-JWT), rotation, and signing with the active key.
import { v7 as uuidv7 } from 'uuid'
import { recordAuditEvent } from '../audit/store.js'
import type { Caller, ServiceContext } from '../context.js'
import { didDocument, didKeyFor, didWebFor, verificationMethodId, type DidDocument } from '../crypto/did.js'
import { signEd25519 } from '../crypto/ed25519.js'
import { generateKeyMaterial, jwkThumbprint, privateKeyFromSecret, type KeyMaterial } from '../crypto/keys.js'
import type { Keyring } from '../crypto/keyring.js'
import type { Db, IssuerKeyRow, IssuerRow, KeyAlgorithm } from '../db/schema.js'
import type { KeyObject } from 'node:crypto'
import { actorOf, assertIssuerAccess, issuerScope, requireAdmin } from '../http/auth.js'
import { AppError, notFound } from '../http/errors.js'
import { lruPer } from '../lru.js'
import { documentContexts, endorsementMembers, type EndorsementMembers, type JsonLdContext } from '../ob3/documents.js'
import { pageFrom, type Page } from '../pagination.js'
import {
  findActiveIssuerKey, findIssuer, findIssuerProfile, findPublicKeys, insertIssuer, insertIssuerKey, listIssuerKeys, listIssuers as listIssuerRows,
  listKeysOfIssuers, lockIssuer, retireIssuerKeys, updateIssuer as updateIssuerRow, type IssuerChanges
} from './store.js'

export interface IssuerInput {
  name: string
  url: string
  email?: string
  description?: string
  image?: string
  did: 'web' | 'key'
}

export type IssuerPatch = Partial<Record<'email' | 'description' | 'image', string | null>> & { name?: string; url?: string }

export interface IssuerKeyView {
  id: string
  algorithm: KeyAlgorithm
  type: 'Multikey' | 'JsonWebKey'
  verificationMethod: string
  publicKeyMultibase: string | null
  publicKeyJwk: Record<string, string>
  status: 'active' | 'retired'
  createdAt: string
  retiredAt: string | null
}

export interface IssuerView {
  id: string
  did: string
  didMethod: 'web' | 'key'
  name: string
  url: string
  email: string | null
  description: string | null
  image: string | null
  profileUrl: string
  didDocumentUrl: string
  keys: IssuerKeyView[]
  createdAt: string
  updatedAt: string
}

const ISSUER = 'issuer'

function keyView(row: IssuerKeyRow): IssuerKeyView {
  return {
    id: row.id,
    algorithm: row.algorithm,
    type: row.public_key_multibase === null ? 'JsonWebKey' : 'Multikey',
    verificationMethod: row.verification_method,
    publicKeyMultibase: row.public_key_multibase,
    publicKeyJwk: row.public_jwk,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    retiredAt: row.retired_at?.toISOString() ?? null
  }
}

function issuerView(ctx: ServiceContext, row: IssuerRow, keys: IssuerKeyRow[]): IssuerView {
  return {
    id: row.id,
    did: row.did,
    didMethod: row.did_method,
    name: row.name,
    url: row.url,
    email: row.email,
    description: row.description,
    image: row.image_url,
    profileUrl: `${ctx.publicUrl}/issuers/${row.id}`,
    didDocumentUrl: `${ctx.publicUrl}/issuers/${row.id}/did.json`,
    keys: keys.map(keyView),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString()
  }
}

/** Stores a new active key for the issuer, its private half sealed under the master key (bound to the key's row id). */
async function addKey(ctx: ServiceContext, db: Db, issuerId: string, did: string, material: KeyMaterial): Promise<IssuerKeyRow> {
  const id = uuidv7()
  const fragment = material.publicKeyMultibase ?? jwkThumbprint(material.publicJwk)
  return insertIssuerKey(db, {
    id,
    issuer_id: issuerId,
    algorithm: material.algorithm,
    verification_method: verificationMethodId(did, fragment),
    public_key_multibase: material.publicKeyMultibase,
    public_jwk: JSON.stringify(material.publicJwk),
    sealed_private_key: ctx.keyring.seal(material.secret, id),
    master_key_id: ctx.keyring.keyId,
    status: 'active'
  })
}

export async function createIssuer(ctx: ServiceContext, caller: Caller, input: IssuerInput): Promise<IssuerView> {
  requireAdmin(caller.principal)
  const id = uuidv7()
  const method = input.did
  const material = await generateKeyMaterial('Ed25519')
  const did = method === 'web' ? didWebFor(ctx.publicUrl, ['issuers', id]) : didKeyFor(Buffer.from(material.publicJwk.x!, 'base64url'))
  return ctx.db.transaction().execute(async (trx) => {
    const row = await insertIssuer(trx, {
      id,
      did,
      did_method: method,
      name: input.name,
      url: input.url,
      email: input.email ?? null,
      description: input.description ?? null,
      image_url: input.image ?? null
    })
    const key = await addKey(ctx, trx, id, did, material)
    await recordAuditEvent(trx, {
      actor: actorOf(caller.principal), action: 'issuer.created', issuerId: id, targetType: ISSUER, targetId: id,
      details: { did, didMethod: method, keyId: key.id }, requestId: caller.requestId
    })
    return issuerView(ctx, row, [key])
  })
}

/** The issuer, when the caller may see it; 404 for a missing one and for another tenant's alike. */
export async function visibleIssuer(ctx: ServiceContext, caller: Caller, id: string): Promise<IssuerRow> {
  assertIssuerAccess(caller.principal, id, ISSUER)
  const row = await findIssuer(ctx.db, id)
  if (row === undefined) throw notFound(ISSUER)
  return row
}

export async function getIssuer(ctx: ServiceContext, caller: Caller, id: string): Promise<IssuerView> {
  const row = await visibleIssuer(ctx, caller, id)
  return issuerView(ctx, row, await listIssuerKeys(ctx.db, id))
}

export async function listIssuers(ctx: ServiceContext, caller: Caller, page: { limit: number; cursor?: string }): Promise<Page<IssuerView>> {
  const rows = await listIssuerRows(ctx.db, { onlyId: issuerScope(caller.principal), after: page.cursor, limit: page.limit + 1 })
  const shown = rows.slice(0, page.limit)
  const keys = await listKeysOfIssuers(ctx.db, shown.map((row) => row.id))
  const view = (row: IssuerRow) => issuerView(ctx, row, keys.filter((key) => key.issuer_id === row.id))
  return pageFrom(rows, page.limit, view, (item) => item.id)
}

export async function updateIssuer(ctx: ServiceContext, caller: Caller, id: string, patch: IssuerPatch): Promise<IssuerView> {
  assertIssuerAccess(caller.principal, id, ISSUER)
  const { image, ...sameNames } = patch
  const changes: IssuerChanges = { ...sameNames, ...(image !== undefined ? { image_url: image } : {}) }
  return ctx.db.transaction().execute(async (trx) => {
    const row = await updateIssuerRow(trx, id, changes)
    if (row === undefined) throw notFound(ISSUER)
    await recordAuditEvent(trx, {
      actor: actorOf(caller.principal), action: 'issuer.updated', issuerId: id, targetType: ISSUER, targetId: id,
      details: { changed: Object.keys(patch) }, requestId: caller.requestId
    })
    return issuerView(ctx, row, await listIssuerKeys(trx, id))
  })
}

export async function getIssuerKeys(ctx: ServiceContext, caller: Caller, id: string): Promise<IssuerKeyView[]> {
  await visibleIssuer(ctx, caller, id)
  return (await listIssuerKeys(ctx.db, id)).map(keyView)
}

/**
 * Retires every active key (Ed25519, and RSA / P-256 when the issuer has them) and makes new ones; old keys stay published
 * so what they signed still verifies.
 */
export async function rotateIssuerKey(ctx: ServiceContext, caller: Caller, id: string): Promise<IssuerKeyView[]> {
  assertIssuerAccess(caller.principal, id, ISSUER)
  const existing = await listIssuerKeys(ctx.db, id)
  const algorithms = [...new Set(['Ed25519', ...existing.filter((k) => k.status === 'active').map((k) => k.algorithm)])] as KeyAlgorithm[]
  const materials = await Promise.all(algorithms.map(generateKeyMaterial))
  return ctx.db.transaction().execute(async (trx) => {
    const issuer = await lockIssuer(trx, id)
    if (issuer === undefined) throw notFound(ISSUER)
    if (issuer.did_method === 'key') {
      throw new AppError('did-key-not-rotatable', 409,
        'this issuer is identified by did:key, which is its key: a new key would be a new issuer. Create a did:web issuer to rotate keys.')
    }
    const retiredKeyIds: string[] = []
    const newKeyIds: string[] = []
    for (const material of materials) {
      retiredKeyIds.push(...await retireIssuerKeys(trx, id, material.algorithm))
      newKeyIds.push((await addKey(ctx, trx, id, issuer.did, material)).id)
    }
    await recordAuditEvent(trx, {
      actor: actorOf(caller.principal), action: 'issuer.key.rotated', issuerId: id, targetType: ISSUER, targetId: id,
      details: { newKeyIds, retiredKeyIds }, requestId: caller.requestId
    })
    return (await listIssuerKeys(trx, id)).map(keyView)
  })
}

export type IssuerProfile = {
  '@context': JsonLdContext[]
  id: string
  type: ['Profile']
  name: string
  url: string
  email?: string
  description?: string
  image?: { id: string; type: 'Image' }
}

/** The issuer as an OB 3.0 Profile (without @context, as a credential embeds it): its id is the issuer's DID. */
export function profileDocument(row: IssuerRow): Omit<IssuerProfile, '@context'> {
  return {
    id: row.did,
    type: ['Profile'],
    name: row.name,
    url: row.url,
    ...(row.email !== null ? { email: row.email } : {}),
    ...(row.description !== null ? { description: row.description } : {}),
    ...(row.image_url !== null ? { image: { id: row.image_url, type: 'Image' as const } } : {})
  }
}

/** The public OB 3.0 Profile document, with the endorsements of this issuer (credentials embed the profile without them). */
export async function publicProfile(ctx: ServiceContext, id: string): Promise<IssuerProfile & EndorsementMembers> {
  const row = await findIssuerProfile(ctx.db, id)
  if (row === undefined) throw notFound(ISSUER)
  const endorsements = endorsementMembers(row.embedded_endorsements)
  return { '@context': documentContexts(endorsements), ...profileDocument(row), ...endorsements }
}

export async function publicDidDocument(ctx: ServiceContext, id: string): Promise<DidDocument> {
  const published = await findPublicKeys(ctx.db, id)
  if (published === undefined) throw notFound(ISSUER)
  return didDocument(published.did, published.keys.map((k) => k.public_key_multibase === null
    ? { verificationMethod: k.verification_method, publicKeyJwk: k.public_jwk }
    : { verificationMethod: k.verification_method, publicKeyMultibase: k.public_key_multibase }))
}

export interface IssuerSigner {
  keyId: string
  algorithm: KeyAlgorithm
  verificationMethod: string
  /** The issuer's DID: the controller of the verification method. */
  controller: string
  /** Ed25519 only. */
  publicKeyMultibase: string | null
  privateKey: KeyObject
  sign(message: Uint8Array): Buffer
}

/** The issuer's active key of that algorithm; RSA and P-256 keys are made on first use (did:web issuers only). */
async function activeKey(ctx: ServiceContext, caller: Caller, issuer: IssuerRow, algorithm: KeyAlgorithm): Promise<IssuerKeyRow> {
  const key = await findActiveIssuerKey(ctx.db, issuer.id, algorithm)
  if (key !== undefined) return key
  if (issuer.did_method === 'key') {
    throw new AppError('key-algorithm-unavailable', 422,
      `this issuer is identified by did:key, which can only hold its Ed25519 key: sign with EdDSA or a Data Integrity format, not ${algorithm}`)
  }
  const material = await generateKeyMaterial(algorithm)
  return ctx.db.transaction().execute(async (trx) => {
    await lockIssuer(trx, issuer.id)
    // Another request may have made it while this one generated: the lock makes the second one see it.
    const made = await findActiveIssuerKey(trx, issuer.id, algorithm)
    if (made !== undefined) return made
    const key = await addKey(ctx, trx, issuer.id, issuer.did, material)
    await recordAuditEvent(trx, {
      actor: actorOf(caller.principal), action: 'issuer.key.created', issuerId: issuer.id, targetType: ISSUER, targetId: issuer.id,
      details: { keyId: key.id, algorithm }, requestId: caller.requestId
    })
    return key
  })
}

/** Opens the issuer's active key of that algorithm for signing. The private key stays inside this process. */
export async function issuerSigner(ctx: ServiceContext, caller: Caller, issuerId: string, algorithm: KeyAlgorithm = 'Ed25519'): Promise<IssuerSigner> {
  const issuer = await findIssuer(ctx.db, issuerId)
  if (issuer === undefined) throw notFound(ISSUER)
  return signerFor(ctx, caller, issuer, algorithm)
}

/**
 * Opened private keys, per keyring, by key id and the master key that sealed them (a re-sealed key is opened afresh).
 * Opening is AES-GCM and then a KeyObject, ~60 µs: per issue request, a tenth of its CPU. A key row's sealed bytes never
 * change, and a retired key is never looked up for signing, so an entry cannot go stale; the LRU bounds the memory.
 */
const openedKeysOf = lruPer<Keyring, string, KeyObject>(256)

function openedPrivateKey(keyring: Keyring, key: IssuerKeyRow): KeyObject {
  const opened = openedKeysOf(keyring)
  const cacheKey = `${key.id}|${key.master_key_id}`
  let privateKey = opened.get(cacheKey)
  if (privateKey === undefined) {
    const secret = keyring.open(key.sealed_private_key, key.master_key_id, key.id)
    privateKey = privateKeyFromSecret(key.algorithm, secret, key.public_jwk)
    secret.fill(0)
    opened.set(cacheKey, privateKey)
  }
  return privateKey
}

/** issuerSigner for an issuer row (and maybe its active key) the caller already holds: saves queries on the issuing path. */
export async function signerFor(
  ctx: ServiceContext, caller: Caller, issuer: IssuerRow, algorithm: KeyAlgorithm, known?: IssuerKeyRow
): Promise<IssuerSigner> {
  const key = known ?? await activeKey(ctx, caller, issuer, algorithm)
  const privateKey = openedPrivateKey(ctx.keyring, key)
  return {
    keyId: key.id,
    algorithm: key.algorithm,
    verificationMethod: key.verification_method,
    controller: issuer.did,
    publicKeyMultibase: key.public_key_multibase,
    privateKey,
    sign: (message) => signEd25519(privateKey, message)
  }
}
