// Revoking credentials: the bit in the public status list, the credential's state, and the audit log change together.
import { recordAuditEvents } from '../audit/store.js'
import type { Caller, ServiceContext } from '../context.js'
import { actorOf, issuerScope } from '../http/auth.js'
import { AppError, type FieldError } from '../http/errors.js'
import { eventsCommitted } from '../events/notify.js'
import { appendEvents } from '../events/store.js'
import { setStatusBits } from '../status/store.js'
import { credentialRevokedData } from './events.js'
import { findCredentialsByIds, lockActiveCopies, lockCredentials, markRevoked } from './store.js'
import { credentialView, type CredentialView } from './view.js'

/**
 * Revokes all of `ids` or none: an id that is unknown or another issuer's is a 404, one without a public status entry a 409.
 * Revoking a revoked credential changes nothing (its first reason and time stay). `pointerOf(i)` locates id i in the request.
 */
export async function revokeCredentials(
  ctx: ServiceContext, caller: Caller, ids: string[], reason: string | null, pointerOf: (index: number) => string
): Promise<CredentialView[]> {
  const scope = issuerScope(caller.principal)
  await ctx.db.transaction().execute(async (trx) => {
    const rows = new Map((await lockCredentials(trx, ids)).map((row) => [row.id, row]))
    const visible = (id: string) => rows.get(id) !== undefined && (scope === undefined || rows.get(id)!.issuer_id === scope)
    const missing = ids.flatMap((id, index): FieldError[] => visible(id) ? [] : [{ pointer: pointerOf(index), message: `no credential ${id}` }])
    if (missing.length > 0) {
      throw new AppError('not-found', 404, `${missing.map((e) => e.message).join('; ')}: nothing was revoked`, missing)
    }
    const unlisted = ids.flatMap((id, index): FieldError[] => rows.get(id)!.status_list_id === null
      ? [{ pointer: pointerOf(index), message: `credential ${id} has no status list entry` }]
      : [])
    if (unlisted.length > 0) {
      throw new AppError('not-publicly-revocable', 409,
        'these credentials carry no credentialStatus (they were issued before Lanyard published status lists, or through the VC-API ' +
        'without one), so no verifier could learn of a revocation; nothing was revoked', unlisted)
    }
    const now = new Date()
    // Wallet copies go with their original (they are the same award, bound to the holder's DID).
    const copies = (await lockActiveCopies(trx, ids)).filter((copy) => !rows.has(copy.id))
    const toRevoke = [...[...rows.values()].filter((row) => row.status !== 'revoked'), ...copies]
    // Each list's row is rewritten once (a bulk revocation would otherwise write its 16 KB+ once per credential), and the
    // lists are locked in id order, so two bulk revocations over the same lists cannot deadlock.
    const indexesByList = new Map<string, number[]>()
    for (const row of toRevoke) {
      const indexes = indexesByList.get(row.status_list_id!) ?? []
      indexes.push(row.status_list_index!)
      indexesByList.set(row.status_list_id!, indexes)
    }
    for (const listId of [...indexesByList.keys()].sort()) await setStatusBits(trx, listId, indexesByList.get(listId)!)
    if (toRevoke.length === 0) return
    await markRevoked(trx, toRevoke.map((row) => row.id), reason, now)
    await recordAuditEvents(trx, toRevoke.map((row) => ({
      actor: actorOf(caller.principal), action: 'credential.revoked', issuerId: row.issuer_id, targetType: 'credential', targetId: row.id,
      details: {
        reason, statusListId: row.status_list_id, statusListIndex: row.status_list_index,
        ...(row.original_credential_id !== null && { originalCredentialId: row.original_credential_id })
      },
      requestId: caller.requestId
    })))
    await appendEvents(trx, toRevoke.map((row) => ({
      type: 'credential.revoked', issuerId: row.issuer_id, data: credentialRevokedData(ctx.publicUrl, row, reason)
    })))
  })
  eventsCommitted(ctx.db)
  return (await findCredentialsByIds(ctx.db, ids)).map((row) => credentialView(ctx, row))
}
