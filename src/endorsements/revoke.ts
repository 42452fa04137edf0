// Revoking an endorsement: its bit in the endorser's public status list, its state, what its subject embeds and the
// audit log change together.
import { recordAuditEvent } from '../audit/store.js'
import type { Caller, ServiceContext } from '../context.js'
import { actorOf, issuerScope } from '../http/auth.js'
import { AppError } from '../http/errors.js'
import { setStatusBit } from '../status/store.js'
import { embeddingSubjectOf, lockSubject, refreshEmbedded } from './embed.js'
import { ENDORSEMENT, visibleEndorsement } from './service.js'
import { lockEndorsement, markRevoked } from './store.js'
import { endorsementView, type EndorsementView } from './view.js'

/**
 * Revokes an endorsement its endorser signed here: the endorser's (or the admin's) to do. Revoking a revoked one
 * changes nothing (its first reason and time stay). The endorsed issuer sees it but may not revoke it (403), and one
 * signed elsewhere only its endorser can revoke (409); an endorsed achievement's issuer can detach either.
 */
export async function revokeEndorsement(ctx: ServiceContext, caller: Caller, id: string, reason: string | null): Promise<EndorsementView> {
  const found = await visibleEndorsement(ctx, caller, id)
  const detach = found.achievement_id === null ? '' : `; to take it off the achievement, DELETE /v1/achievements/${found.achievement_id}/endorsements/${id}`
  if (found.endorser_id === null) {
    throw new AppError('not-revocable-here', 409, `this endorsement was signed elsewhere, so only its endorser can revoke it${detach}`)
  }
  const scope = issuerScope(caller.principal)
  if (scope !== undefined && scope !== found.endorser_id) throw new AppError('not-endorser', 403, `only its endorser can revoke an endorsement${detach}`)
  const subject = embeddingSubjectOf(found)
  const row = await ctx.db.transaction().execute(async (trx) => {
    if (subject !== undefined) await lockSubject(trx, subject)
    // Endorsements are never deleted: the one just read is there.
    const current = (await lockEndorsement(trx, id))!
    if (current.status === 'revoked') return current
    const now = new Date()
    await setStatusBit(trx, current.status_list_id!, current.status_list_index!)
    await markRevoked(trx, id, reason, now)
    if (subject !== undefined) await refreshEmbedded(trx, subject)
    await recordAuditEvent(trx, {
      actor: actorOf(caller.principal), action: 'endorsement.revoked', issuerId: current.endorser_id, targetType: ENDORSEMENT, targetId: id,
      details: { reason, subjectId: current.subject_id, statusListId: current.status_list_id, statusListIndex: current.status_list_index },
      requestId: caller.requestId
    })
    return { ...current, status: 'revoked' as const, revoked_at: now, revocation_reason: reason }
  })
  return endorsementView(ctx, row)
}
