// An achievement's endorsements as its issuer manages them: attaching one signed elsewhere once Lanyard's verifier
// accepts it, listing them, and detaching one so that it is no longer embedded.
import { v7 as uuidv7 } from 'uuid'
import { visibleAchievement } from '../achievements/service.js'
import { recordAuditEvent } from '../audit/store.js'
import type { Caller, ServiceContext } from '../context.js'
import { issuerIdOf } from '../crypto/credential-issuer.js'
import type { EndorsementFormat } from '../db/schema.js'
import { actorOf } from '../http/auth.js'
import { AppError, notFound, type FieldError } from '../http/errors.js'
import { pageFrom, type Page } from '../pagination.js'
import { firstSubject, type DecodedCredential, type Verifier } from '../verify/pipeline.js'
import { lockSubject, refreshEmbedded } from './embed.js'
import { ENDORSEMENT } from './service.js'
import { insertAttachedEndorsement, listEndorsements, lockEndorsement, markDetached } from './store.js'
import { endorsementView, type EndorsementView } from './view.js'

type Json = Record<string, unknown>

const refused = (code: string, detail: string, errors?: FieldError[], extra?: Json) => new AppError(code, 422, detail, errors, extra)

/**
 * Attaches an EndorsementCredential signed elsewhere (JSON or VC-JWT) to the achievement: it must endorse this very
 * achievement (credentialSubject.id is its URL) and pass every check of Lanyard's verifier (schema, signature, issuer
 * key, dates, status), else 422 naming why. Lanyard keeps its exact bytes and embeds it like its own endorsements.
 * `pointer` says where the credential was in the request.
 */
export async function attachEndorsement(
  ctx: ServiceContext, caller: Caller, verifier: Verifier, achievementId: string, decoded: DecodedCredential, pointer: string
): Promise<EndorsementView> {
  const achievement = await visibleAchievement(ctx, caller, achievementId)
  const url = `${ctx.publicUrl}/achievements/${achievement.id}`
  const { credential } = decoded
  if (!Array.isArray(credential.type) || !credential.type.includes('EndorsementCredential')) {
    throw refused('not-an-endorsement', 'this is not an EndorsementCredential: its type must include "EndorsementCredential"', [{ pointer: `${pointer}/type`, message: 'must include EndorsementCredential', in: 'body' }])
  }
  const subject = firstSubject(credential)
  if (subject?.id !== url) {
    throw refused('endorsement-subject-mismatch', `this endorsement endorses ${JSON.stringify(subject?.id ?? null)}, not this achievement (${url})`,
      [{ pointer: `${pointer}/credentialSubject/id`, message: `must be ${url}`, in: 'body' }])
  }
  const report = await verifier.verify(decoded)
  if (!report.verified) {
    const failures = report.checks.filter((check) => check.status === 'failed')
    throw refused('endorsement-not-verified', `this endorsement does not verify, so it was not attached: ${failures.map((check) => `${check.check}: ${check.message}`).join('; ')}`,
      failures.map((check) => ({ pointer, message: `${check.check}: ${check.message}`, in: 'body' })), { checks: report.checks })
  }

  const id = uuidv7()
  const row = await ctx.db.transaction().execute(async (trx) => {
    await lockSubject(trx, { achievementId: achievement.id })
    const inserted = await insertAttachedEndorsement(trx, {
      id,
      endorser_id: null,
      endorser_key_id: null,
      // A credential that verified names its issuer, and meets the schema: it has an id.
      endorser: issuerIdOf(credential)!,
      endorser_name: report.summary.issuer.name,
      subject_id: url,
      achievement_id: achievement.id,
      subject_issuer_id: null,
      credential_id: credential.id as string,
      comment: typeof subject.endorsementComment === 'string' ? subject.endorsementComment : null,
      // A verified proof names its format.
      format: report.format as EndorsementFormat,
      jwt_alg: null,
      signed: decoded.jwt?.jwt ?? JSON.stringify(credential),
      status_list_id: null,
      status_list_index: null
    })
    if (inserted === undefined) throw new AppError('already-attached', 409, `the endorsement ${String(credential.id)} is attached to this achievement already`)
    await refreshEmbedded(trx, { achievementId: achievement.id })
    await recordAuditEvent(trx, {
      actor: actorOf(caller.principal), action: 'endorsement.attached', issuerId: achievement.issuer_id, targetType: ENDORSEMENT, targetId: id,
      details: { achievementId: achievement.id, credentialId: inserted.credential_id, endorser: inserted.endorser, format: inserted.format },
      requestId: caller.requestId
    })
    return inserted
  })
  return endorsementView(ctx, row)
}

/** Every endorsement of the achievement, signed here or attached, live or not (their `embedded` says which it carries). */
export async function listAchievementEndorsements(
  ctx: ServiceContext, caller: Caller, achievementId: string, page: { limit: number; cursor?: string }
): Promise<Page<EndorsementView>> {
  await visibleAchievement(ctx, caller, achievementId)
  const rows = await listEndorsements(ctx.db, { achievementId, after: page.cursor, limit: page.limit + 1 })
  return pageFrom(rows, page.limit, (row) => endorsementView(ctx, row), (item) => item.id)
}

/**
 * Takes an endorsement (signed here or attached) off the achievement: it stays valid and published, but the achievement
 * no longer embeds it, nor do credentials issued from now on. Detaching a detached one changes nothing.
 */
export async function detachEndorsement(ctx: ServiceContext, caller: Caller, achievementId: string, endorsementId: string): Promise<void> {
  const achievement = await visibleAchievement(ctx, caller, achievementId)
  await ctx.db.transaction().execute(async (trx) => {
    await lockSubject(trx, { achievementId: achievement.id })
    const row = await lockEndorsement(trx, endorsementId)
    if (row === undefined || row.achievement_id !== achievement.id) throw notFound(ENDORSEMENT)
    if (row.detached_at !== null) return
    await markDetached(trx, row.id, new Date())
    await refreshEmbedded(trx, { achievementId: achievement.id })
    await recordAuditEvent(trx, {
      actor: actorOf(caller.principal), action: 'endorsement.detached', issuerId: achievement.issuer_id, targetType: ENDORSEMENT, targetId: row.id,
      details: { achievementId: achievement.id, endorser: row.endorser }, requestId: caller.requestId
    })
  })
}
