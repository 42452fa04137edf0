// SQL for endorsements: those issuers here signed, those attached from elsewhere, and what each subject embeds.
import type { Insertable } from 'kysely'
import type { Db, EndorsementRow, EndorsementsTable } from '../db/schema.js'

export type NewEndorsementRow = Omit<Insertable<EndorsementsTable>, 'created_at' | 'status'>

/** An endorsement, with the issuer of the achievement it endorses (who may list and detach it) when that is one here. */
export type EndorsementRecord = EndorsementRow & { achievement_issuer_id: string | null }

/**
 * Stores an endorsement signed here, unless its endorser already has a live one of the same subject: then nothing
 * (undefined). The unique index decides, so two requests (or instances) racing cannot both endorse.
 */
export async function insertIssuedEndorsement(db: Db, row: NewEndorsementRow): Promise<EndorsementRow | undefined> {
  return db.insertInto('endorsements').values(row)
    .onConflict((conflict) => conflict.columns(['endorser_id', 'subject_id']).where('status', '=', 'active').doNothing())
    .returningAll().executeTakeFirst()
}

/** Stores an endorsement attached from elsewhere, unless the same credential is attached to the achievement already (undefined). */
export async function insertAttachedEndorsement(db: Db, row: NewEndorsementRow): Promise<EndorsementRow | undefined> {
  return db.insertInto('endorsements').values(row)
    .onConflict((conflict) => conflict.columns(['achievement_id', 'credential_id']).where('detached_at', 'is', null).doNothing())
    .returningAll().executeTakeFirst()
}

function withAchievementIssuer(db: Db) {
  return db.selectFrom('endorsements')
    .leftJoin('achievements', 'achievements.id', 'endorsements.achievement_id')
    .selectAll('endorsements')
    .select('achievements.issuer_id as achievement_issuer_id')
}

export async function findEndorsement(db: Db, id: string): Promise<EndorsementRecord | undefined> {
  return withAchievementIssuer(db).where('endorsements.id', '=', id).executeTakeFirst()
}

/** The endorsement, locked for the rest of the transaction (its subject's row is locked first: see embed.ts). */
export async function lockEndorsement(db: Db, id: string): Promise<EndorsementRow | undefined> {
  return db.selectFrom('endorsements').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
}

export interface EndorsementFilter {
  endorserId?: string
  achievementId?: string
  after?: string
  limit: number
}

export async function listEndorsements(db: Db, filter: EndorsementFilter): Promise<EndorsementRecord[]> {
  let query = withAchievementIssuer(db).orderBy('endorsements.id').limit(filter.limit)
  if (filter.endorserId !== undefined) query = query.where('endorsements.endorser_id', '=', filter.endorserId)
  if (filter.achievementId !== undefined) query = query.where('endorsements.achievement_id', '=', filter.achievementId)
  if (filter.after !== undefined) query = query.where('endorsements.id', '>', filter.after)
  return query.execute()
}

/** What a subject embeds: its live endorsements (neither revoked nor detached), oldest first. */
export async function embeddableEndorsements(
  db: Db, subject: { achievementId: string } | { issuerId: string }
): Promise<Pick<EndorsementRow, 'format' | 'signed'>[]> {
  const query = db.selectFrom('endorsements').select(['format', 'signed'])
    .where('status', '=', 'active').where('detached_at', 'is', null).orderBy('created_at').orderBy('id')
  return ('achievementId' in subject
    ? query.where('achievement_id', '=', subject.achievementId)
    : query.where('subject_issuer_id', '=', subject.issuerId)).execute()
}

export async function markRevoked(db: Db, id: string, reason: string | null, at: Date): Promise<void> {
  await db.updateTable('endorsements').set({ status: 'revoked', revoked_at: at, revocation_reason: reason }).where('id', '=', id).execute()
}

export async function markDetached(db: Db, id: string, at: Date): Promise<void> {
  await db.updateTable('endorsements').set({ detached_at: at }).where('id', '=', id).execute()
}
