// Claims: a single-use, expiring invitation for the learner to put a credential in a wallet, by LCW (VC-API exchange
// with DID Authentication) or by any OID4VCI wallet (pre-authorized code). Only hashes of its secrets are stored.
import { v7 as uuidv7 } from 'uuid'
import type { Caller, ServiceContext } from '../context.js'
import { findCredential } from '../credentials/store.js'
import { issuerIdOf } from '../crypto/credential-issuer.js'
import type { ClaimRow } from '../db/schema.js'
import { recordAuditEvents } from '../audit/store.js'
import { actorOf, assertIssuerAccess } from '../http/auth.js'
import { AppError, notFound } from '../http/errors.js'
import { credentialDocument } from '../credentials/view.js'
import { hasPngBadge } from '../credentials/badge-image.js'
import type { ClaimPageModel } from '../pages/claim-page.js'
import { assertDeliverable } from './holder-copy.js'
import { credentialOffer } from './offer.js'
import { challengeOf, exchangeIdOf, hashToken, newClaimToken, newTxCode, preAuthorizedCodeOf, txCodeHash } from './secrets.js'
import { findClaim, insertClaims, type ClaimSecret } from './store.js'

export interface ClaimSettings {
  /** How long a new claim stays open (LANYARD_CLAIM_TTL_HOURS), in ms. */
  ttlMs: number
}

export interface ClaimOptions {
  /** Ask OID4VCI wallets for a six-digit transaction code, returned once here for the issuer to send the learner apart. */
  txCode: boolean
}

export interface ClaimLinks {
  claimUrl: string
  /** Opens LCW on the exchange: LCW signs a DID Authentication presentation with the challenge and posts it to vc_request_url. */
  lcwDeepLink: string
  /** The OID4VCI offer by value: openid-credential-offer://?credential_offer=… */
  credentialOffer: string
  /** The same offer by reference: openid-credential-offer://?credential_offer_uri=… */
  credentialOfferUri: string
}

export interface ClaimView extends ClaimLinks {
  id: string
  credentialId: string
  expiresAt: string
  /** Present when a transaction code was asked for: shown this once. */
  txCode?: string
}

/** What a claim for one credential needs to know of it. */
export interface ClaimTarget {
  id: string
  issuerId: string
  /** The issuer's DID, named in the LCW deep link. */
  issuerDid: string
}

export const LCW_REQUEST_URL = 'https://lcw.app/request.html'

export function exchangeUrl(publicUrl: string, exchangeId: string): string {
  return `${publicUrl}/exchanges/${exchangeId}`
}

export function claimLinks(publicUrl: string, token: string, issuerDid: string, txCodeRequired: boolean): ClaimLinks {
  const exchangeId = exchangeIdOf(token)
  const claimUrl = `${publicUrl}/claim/${token}`
  const lcw = new URLSearchParams({ issuer: issuerDid, auth_type: 'bearer', challenge: challengeOf(exchangeId), vc_request_url: exchangeUrl(publicUrl, exchangeId) })
  const offer = credentialOffer(publicUrl, preAuthorizedCodeOf(token), txCodeRequired)
  return {
    claimUrl,
    lcwDeepLink: `${LCW_REQUEST_URL}?${lcw}`,
    credentialOffer: `openid-credential-offer://?${new URLSearchParams({ credential_offer: JSON.stringify(offer) })}`,
    credentialOfferUri: `openid-credential-offer://?${new URLSearchParams({ credential_offer_uri: `${claimUrl}/offer` })}`
  }
}

/** One new claim per target, in one statement. The tokens exist only in the reply. */
export async function createClaims(ctx: ServiceContext, settings: ClaimSettings, caller: Caller, targets: ClaimTarget[], options: ClaimOptions): Promise<ClaimView[]> {
  const expiresAt = new Date(Date.now() + settings.ttlMs)
  const made = targets.map((target) => {
    const token = newClaimToken()
    const codeHash = hashToken(preAuthorizedCodeOf(token))
    const txCode = options.txCode ? newTxCode() : undefined
    return {
      target, token, txCode,
      row: {
        id: uuidv7(), issuer_id: target.issuerId, credential_id: target.id, token_hash: hashToken(token),
        exchange_hash: hashToken(exchangeIdOf(token)), code_hash: codeHash,
        tx_code_hash: txCode === undefined ? null : txCodeHash(codeHash, txCode), expires_at: expiresAt
      }
    }
  })
  await ctx.db.transaction().execute(async (trx) => {
    await insertClaims(trx, made.map((m) => m.row))
    await recordAuditEvents(trx, made.map(({ row }) => ({
      actor: actorOf(caller.principal), action: 'credential.claim.created', issuerId: row.issuer_id, targetType: 'credential', targetId: row.credential_id,
      details: { claimId: row.id, expiresAt: expiresAt.toISOString(), txCode: row.tx_code_hash !== null }, requestId: caller.requestId
    })))
  })
  return made.map(({ target, token, txCode, row }) => ({
    id: row.id,
    credentialId: target.id,
    ...claimLinks(ctx.publicUrl, token, target.issuerDid, txCode !== undefined),
    expiresAt: expiresAt.toISOString(),
    ...(txCode !== undefined && { txCode })
  }))
}

/** POST /v1/credentials/:id/claims: a claim for one of the caller's credentials that is active and an award of its own. */
export async function createClaim(ctx: ServiceContext, settings: ClaimSettings, caller: Caller, credentialId: string, options: ClaimOptions): Promise<ClaimView> {
  const row = await findCredential(ctx.db, credentialId)
  if (row === undefined) throw notFound('credential')
  assertIssuerAccess(caller.principal, row.issuer_id, 'credential')
  if (row.original_credential_id !== null || row.achievement_id === null) {
    throw new AppError('not-claimable', 409, row.original_credential_id !== null
      ? 'this credential is already a wallet copy; create the claim for its original'
      : 'only Open Badges issued through /v1/credentials can be claimed into a wallet')
  }
  assertDeliverable(row)
  return (await createClaims(ctx, settings, caller, [{ id: row.id, issuerId: row.issuer_id, issuerDid: issuerIdOf(credentialDocument(row))! }], options))[0]!
}

/** Why a claim cannot be redeemed now, or undefined when it can. */
export function claimClosed(claim: ClaimRow, now = new Date()): AppError | undefined {
  if (claim.used_at !== null) {
    return new AppError('claim-used', 410, claim.used_by === 'locked'
      ? 'this claim was locked after too many wrong transaction codes; ask the issuer for a new one'
      : 'this claim was already used to add the badge to a wallet; ask the issuer for a new one')
  }
  if (claim.expires_at <= now) return new AppError('claim-expired', 410, 'this claim has expired; ask the issuer for a new one')
  return undefined
}

/** The open claim whose secret hashes to `hash`: 404 when there is none, 410 when it was used or has expired. */
export async function openClaim(ctx: ServiceContext, secret: ClaimSecret, value: string): Promise<ClaimRow> {
  const claim = await findClaim(ctx.db, secret, hashToken(value))
  if (claim === undefined) throw new AppError('not-found', 404, 'there is no such claim')
  const closed = claimClosed(claim)
  if (closed !== undefined) throw closed
  return claim
}

type Json = Record<string, unknown>

/** What the claim page shows, for an open claim's token. */
export async function claimPageModel(ctx: ServiceContext, token: string): Promise<ClaimPageModel> {
  const claim = await openClaim(ctx, 'token_hash', token)
  const row = (await findCredential(ctx.db, claim.credential_id))!
  const credential = credentialDocument(row)
  // Claims are made for Open Badges issued here only: their achievement has a name and a description, their issuer a name.
  const achievement = (credential.credentialSubject as Json).achievement as Json
  const links = claimLinks(ctx.publicUrl, token, issuerIdOf(credential)!, claim.tx_code_hash !== null)
  const url = `${ctx.publicUrl}/credentials/${row.id}`
  const png = await hasPngBadge(ctx, row) ? `${url}/badge.png` : null
  return {
    publicUrl: ctx.publicUrl,
    badgeName: String(achievement.name),
    issuerName: String((credential.issuer as Json).name),
    description: String(achievement.description),
    image: png ?? `${url}/badge.svg`,
    lcwDeepLink: links.lcwDeepLink,
    credentialOffer: links.credentialOffer,
    txCodeRequired: claim.tx_code_hash !== null,
    expiresAt: claim.expires_at,
    downloads: { json: url, png, svg: `${url}/badge.svg` }
  }
}

/** The OID4VCI offer behind credential_offer_uri. */
export async function offerForToken(ctx: ServiceContext, token: string): Promise<Record<string, unknown>> {
  const claim = await openClaim(ctx, 'token_hash', token)
  return credentialOffer(ctx.publicUrl, preAuthorizedCodeOf(token), claim.tx_code_hash !== null)
}

/** `deliver` on issue: a claim for each credential just issued (true, or the claim options), added to its view. */
export async function deliverClaims<T extends { id: string; issuerId: string; credential: Record<string, unknown> }>(
  ctx: ServiceContext, settings: ClaimSettings, caller: Caller, views: T[], deliver: boolean | ClaimOptions | undefined
): Promise<(T & { claim?: ClaimView })[]> {
  if (deliver === undefined || deliver === false) return views
  const targets = views.map((view) => ({ id: view.id, issuerId: view.issuerId, issuerDid: issuerIdOf(view.credential)! }))
  const made = await createClaims(ctx, settings, caller, targets, deliver === true ? { txCode: false } : deliver)
  return views.map((view, index) => ({ ...view, claim: made[index]! }))
}
