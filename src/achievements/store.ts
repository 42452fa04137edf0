// SQL for achievements (badge definitions); image bytes are read only by the image route.
import type { Insertable } from 'kysely'
import type { AchievementRow, AchievementsTable, Db } from '../db/schema.js'

/** An achievement without its stored image bytes: what every reader but the image route needs. */
export type AchievementRecord = Omit<AchievementRow, 'image_data'>

/** An achievement with the DID and name of the issuer that defines it. */
export type AchievementWithCreator = AchievementRecord & { creator_did: string; creator_name: string }

export type AchievementImageRow = Pick<AchievementRow, 'image_url' | 'image_media_type' | 'image_data'>

export type NewAchievementRow = Omit<Insertable<AchievementsTable>, 'created_at' | 'updated_at'>
export type AchievementChanges = Partial<Omit<NewAchievementRow, 'id' | 'issuer_id' | 'embedded_endorsements'>>

/** The columns of an AchievementRecord, for selects that join other tables (issuing reads its issuer and key too). */
export const RECORD_COLUMNS = [
  'achievements.id', 'achievements.issuer_id', 'achievements.name', 'achievements.description', 'achievements.criteria',
  'achievements.image_url', 'achievements.image_caption', 'achievements.image_media_type', 'achievements.achievement_type',
  'achievements.tags', 'achievements.alignments', 'achievements.created_at', 'achievements.updated_at', 'achievements.embedded_endorsements',
  'achievements.result_descriptions', 'achievements.review_policy'
] as const

export async function insertAchievement(db: Db, row: NewAchievementRow): Promise<AchievementRecord> {
  return db.insertInto('achievements').values(row).returning(RECORD_COLUMNS).executeTakeFirstOrThrow()
}

export async function findAchievement(db: Db, id: string): Promise<AchievementRecord | undefined> {
  return db.selectFrom('achievements').select(RECORD_COLUMNS).where('id', '=', id).executeTakeFirst()
}

export async function findAchievementWithCreator(db: Db, id: string): Promise<AchievementWithCreator | undefined> {
  return db.selectFrom('achievements')
    .innerJoin('issuers', 'issuers.id', 'achievements.issuer_id')
    .select([...RECORD_COLUMNS, 'issuers.did as creator_did', 'issuers.name as creator_name'])
    .where('achievements.id', '=', id)
    .executeTakeFirst()
}

export async function findAchievementImage(db: Db, id: string): Promise<AchievementImageRow | undefined> {
  return db.selectFrom('achievements').select(['image_url', 'image_media_type', 'image_data']).where('id', '=', id).executeTakeFirst()
}

export async function listAchievements(db: Db, filter: { issuerId: string; after?: string; limit: number }): Promise<AchievementRecord[]> {
  let query = db.selectFrom('achievements').select(RECORD_COLUMNS).where('issuer_id', '=', filter.issuerId).orderBy('id').limit(filter.limit)
  if (filter.after !== undefined) query = query.where('id', '>', filter.after)
  return query.execute()
}

/** Changes the achievement; with `onlyIssuerId`, only when that issuer defines it (undefined otherwise). */
export async function updateAchievement(
  db: Db, id: string, changes: AchievementChanges, onlyIssuerId?: string
): Promise<AchievementRecord | undefined> {
  let query = db.updateTable('achievements').set({ ...changes, updated_at: new Date() }).where('id', '=', id)
  if (onlyIssuerId !== undefined) query = query.where('issuer_id', '=', onlyIssuerId)
  return query.returning(RECORD_COLUMNS).executeTakeFirst()
}

/** Locks the achievement row for the rest of the transaction (serialises changes to the endorsements it embeds). */
export async function lockAchievement(db: Db, id: string): Promise<{ id: string } | undefined> {
  return db.selectFrom('achievements').select('id').where('id', '=', id).forUpdate().executeTakeFirst()
}

/**
 * Replaces the endorsements the achievement embeds (`json`: the JSON text of the list, each signed document's members in
 * their signed order). Not `updated_at`: the definition is unchanged. The row's new version is what tells issuing that
 * a remembered context of this achievement is stale.
 */
export async function setEmbeddedEndorsements(db: Db, id: string, json: string): Promise<void> {
  await db.updateTable('achievements').set({ embedded_endorsements: json }).where('id', '=', id).execute()
}
