// A status list as verifiers fetch it: a BitstringStatusListCredential signed by its issuer, signed once per version of the list.
import { createHash } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import type { Caller, ServiceContext } from '../context.js'
import { VC_V2_CONTEXT } from '../crypto/contexts.js'
import { w3cDate } from '../crypto/w3c-date.js'
import type { StatusListRow } from '../db/schema.js'
import { notFound } from '../http/errors.js'
import { issuerSigner } from '../issuers/service.js'
import { statusListUrl } from './service.js'
import { findSignedStatusList, findStatusList, saveSignedStatusList } from './store.js'

export interface PublishedStatusList {
  /** The signed credential's JSON text, exactly as stored. */
  body: string
  /** The list version the body shows. */
  version: number
  /** A strong validator, quoted: `"<version>-<hash of list id, version and signing time>"`. */
  etag: string
  signedAt: Date
}

// issuerSigner takes a Caller only to audit making an RSA or P-256 key on first use; an Ed25519 key always exists, so nothing is recorded.
const STATUS_LIST_CALLER: Caller = { principal: { kind: 'admin' }, requestId: 'status-list' }

/**
 * The signed list of the current version: the stored one while the list is unchanged, otherwise signed now and stored for
 * the next reader. Two readers racing after a change both sign and the later save wins; both answers are valid lists.
 */
export async function publishedStatusList(ctx: ServiceContext, listId: string): Promise<PublishedStatusList> {
  // Most reads find the signed copy current: the bits are read only to sign a new one.
  const stored = await findSignedStatusList(ctx.db, listId)
  if (stored === undefined) throw notFound('status list')
  if (stored.signed_version === stored.version && stored.signed !== null && stored.signed_at !== null) {
    return published(stored.id, stored.version, stored.signed, stored.signed_at)
  }
  // Status lists are never deleted: the row just read is still there.
  const row = (await findStatusList(ctx.db, listId))!
  const signedAt = new Date()
  const body = await signStatusList(ctx, row, signedAt)
  // Not stored when a bit flipped meanwhile; this answer still shows the version it was read at.
  await saveSignedStatusList(ctx.db, row.id, row.version, body, signedAt)
  return published(row.id, row.version, body, signedAt)
}

function published(listId: string, version: number, body: string, signedAt: Date): PublishedStatusList {
  const hash = createHash('sha256').update(`${listId}\n${version}\n${signedAt.toISOString()}`).digest('base64url').slice(0, 22)
  return { body, version, etag: `"${version}-${hash}"`, signedAt }
}

async function signStatusList(ctx: ServiceContext, row: StatusListRow, now: Date): Promise<string> {
  const url = statusListUrl(ctx.publicUrl, row.id)
  const signer = await issuerSigner(ctx, STATUS_LIST_CALLER, row.issuer_id, 'Ed25519')
  const credential = {
    '@context': [VC_V2_CONTEXT],
    id: url,
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: signer.controller,
    validFrom: w3cDate(now),
    credentialSubject: { id: `${url}#list`, type: 'BitstringStatusList', statusPurpose: row.purpose, encodedList: encodedList(row.bits) }
  }
  // proof.created at the same instant as validFrom (both whole seconds), so the proof never predates the credential.
  return JSON.stringify(await ctx.signDataIntegrity(credential, { suite: 'eddsa-rdfc-2022', key: signer, created: now }))
}

/** The spec's encodedList: the bitstring GZIP-compressed, as multibase base64url without padding (prefix `u`). */
function encodedList(bits: Uint8Array): string {
  return `u${gzipSync(bits).toString('base64url')}`
}
