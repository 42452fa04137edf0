// Endorsing: an issuer here signs an OB 3.0 EndorsementCredential of an achievement or a profile (here or elsewhere),
// revocable on its status list; an endorsed achievement or profile here embeds it. Reading them back.
import { v7 as uuidv7 } from 'uuid'
import { recordAuditEvent } from '../audit/store.js'
import type { Caller, ServiceContext } from '../context.js'
import { keyAlgorithmFor, signCredential } from '../credentials/sign.js'
import { wholeSeconds } from '../crypto/w3c-date.js'
import type { CredentialFormat, EndorsementRow, JwtAlg } from '../db/schema.js'
import { eventsCommitted } from '../events/notify.js'
import { appendEvent } from '../events/store.js'
import { actorOf, issuerScope } from '../http/auth.js'
import { AppError, notFound } from '../http/errors.js'
import { profileDocument, signerFor, visibleIssuer } from '../issuers/service.js'
import { ob3SchemaErrors } from '../ob3/schema.js'
import { pageFrom, type Page } from '../pagination.js'
import { allocateStatusEntries, credentialStatusEntry } from '../status/service.js'
import { buildEndorsementCredential } from './build.js'
import { embeddingSubjectOf, lockSubject, refreshEmbedded } from './embed.js'
import { findEndorsement, insertIssuedEndorsement, listEndorsements as listEndorsementRows, type EndorsementRecord } from './store.js'
import { resolveSubject } from './subject.js'
import { endorsementUrl, endorsementView, type EndorsementView } from './view.js'

export const ENDORSEMENT = 'endorsement'

export interface EndorseRequest {
  subjectId: string
  comment: string
  format: CredentialFormat
  /** vc-jwt only; default RS256, or EdDSA for a did:key endorser (its only key). */
  jwtAlg?: JwtAlg
}

/** The data of endorsement.issued: what an endorser's systems act on. */
function issuedEventData(publicUrl: string, row: EndorsementRow): Record<string, unknown> {
  return {
    endorsementId: row.id,
    url: endorsementUrl(publicUrl, row.id),
    endorserId: row.endorser_id,
    subjectId: row.subject_id,
    achievementId: row.achievement_id,
    subjectIssuerId: row.subject_issuer_id
  }
}

/** Refuses a document that fails the official EndorsementCredential schema: it would be signed and published as it is. */
export function assertEndorsementSchema(document: Record<string, unknown>): void {
  const errors = ob3SchemaErrors('EndorsementCredential', document)
  if (errors.length === 0) return
  throw new AppError('credential-invalid', 422, 'the endorsement built from this request does not meet the official Open Badges 3.0 ' +
    `EndorsementCredential schema, so it was not signed: ${errors.map((error) => `${error.pointer || '/'} ${error.message}`).join('; ')}`)
}

/**
 * Signs and stores `endorserId`'s endorsement of `subjectId`, with a revocation entry on the endorser's status list, and
 * (for a subject here) embeds it in the same transaction, with its audit and outbox events. One live endorsement per
 * endorser and subject (409); an issuer does not endorse its own achievements or itself (422).
 */
export async function issueEndorsement(ctx: ServiceContext, caller: Caller, endorserId: string, request: EndorseRequest): Promise<EndorsementView> {
  const endorser = await visibleIssuer(ctx, caller, endorserId)
  const subject = await resolveSubject(ctx, request.subjectId)
  if (subject.ownerId === endorser.id) {
    throw new AppError('self-endorsement', 422, 'an endorsement is another organisation\'s word: an issuer does not endorse itself or its own achievements',
      [{ pointer: '/subjectId', message: 'is the endorser or one of its achievements', in: 'body' }])
  }
  const id = uuidv7()
  const validFrom = wholeSeconds(new Date())
  const document = buildEndorsementCredential({
    url: endorsementUrl(ctx.publicUrl, id), endorser: profileDocument(endorser), subjectId: subject.url, subjectName: subject.name,
    comment: request.comment, validFrom
  })
  assertEndorsementSchema(document)

  const proof = { format: request.format, jwtAlg: request.jwtAlg ?? (endorser.did_method === 'key' ? 'EdDSA' : 'RS256') }
  // The signer first: an endorser that cannot sign this format (did:key and RS256) must not use up a status entry.
  const signer = await signerFor(ctx, caller, endorser, keyAlgorithmFor(proof))
  const [entry] = await allocateStatusEntries(ctx, endorser.id, 1)
  document.credentialStatus = credentialStatusEntry(ctx.publicUrl, entry!)
  const signed = await signCredential(document, proof, signer, ctx.signDataIntegrity)

  const embedding = embeddingSubjectOf({ achievement_id: subject.achievementId, subject_issuer_id: subject.subjectIssuerId })
  const row = await ctx.db.transaction().execute(async (trx) => {
    if (embedding !== undefined) await lockSubject(trx, embedding)
    const inserted = await insertIssuedEndorsement(trx, {
      id,
      endorser_id: endorser.id,
      endorser_key_id: signer.keyId,
      endorser: endorser.did,
      endorser_name: endorser.name,
      subject_id: subject.url,
      achievement_id: subject.achievementId,
      subject_issuer_id: subject.subjectIssuerId,
      credential_id: endorsementUrl(ctx.publicUrl, id),
      comment: request.comment,
      format: proof.format,
      jwt_alg: proof.format === 'vc-jwt' ? proof.jwtAlg : null,
      signed: signed.signed,
      status_list_id: entry!.listId,
      status_list_index: entry!.index
    })
    if (inserted === undefined) {
      // Its status entry stays unused (a gap, its bit clear), as for any issue that does not complete.
      throw new AppError('already-endorsed', 409,
        `this issuer already endorses ${subject.url}: revoke that endorsement (GET /v1/issuers/${endorser.id}/endorsements lists it) to endorse it anew`)
    }
    if (embedding !== undefined) await refreshEmbedded(trx, embedding)
    await recordAuditEvent(trx, {
      actor: actorOf(caller.principal), action: 'endorsement.issued', issuerId: endorser.id, targetType: ENDORSEMENT, targetId: id,
      details: { subjectId: subject.url, format: proof.format, statusListId: entry!.listId, statusListIndex: entry!.index }, requestId: caller.requestId
    })
    await appendEvent(trx, { type: 'endorsement.issued', issuerId: endorser.id, data: issuedEventData(ctx.publicUrl, inserted) })
    return inserted
  })
  eventsCommitted(ctx.db)
  return endorsementView(ctx, row)
}

/**
 * An endorsement the caller may see: its endorser's, or the endorsed issuer's (the achievement's issuer, or the issuer
 * itself); 404 for the rest, as for any other tenant's resource.
 */
export async function visibleEndorsement(ctx: ServiceContext, caller: Caller, id: string): Promise<EndorsementRecord> {
  const row = await findEndorsement(ctx.db, id)
  if (row === undefined) throw notFound(ENDORSEMENT)
  const scope = issuerScope(caller.principal)
  if (scope !== undefined && ![row.endorser_id, row.achievement_issuer_id, row.subject_issuer_id].includes(scope)) throw notFound(ENDORSEMENT)
  return row
}

export async function getEndorsement(ctx: ServiceContext, caller: Caller, id: string): Promise<EndorsementView> {
  return endorsementView(ctx, await visibleEndorsement(ctx, caller, id))
}

/** The endorsements an issuer has made (the endorser's view: live, revoked, detached by their subject's issuer). */
export async function listEndorsementsBy(
  ctx: ServiceContext, caller: Caller, endorserId: string, page: { limit: number; cursor?: string }
): Promise<Page<EndorsementView>> {
  await visibleIssuer(ctx, caller, endorserId)
  const rows = await listEndorsementRows(ctx.db, { endorserId, after: page.cursor, limit: page.limit + 1 })
  return pageFrom(rows, page.limit, (row) => endorsementView(ctx, row), (item) => item.id)
}
