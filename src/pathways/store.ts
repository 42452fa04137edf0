// SQL for pathways: the definitions and the indexes of their leaves, the graph of nested pathways, one learner's
// credentials across issuers, and the awards (one per pathway and learner).
import { sql, type Insertable, type RawBuilder } from 'kysely'
import { RECORD_COLUMNS, type AchievementWithCreator } from '../achievements/store.js'
import type { Db, PathwayRow, PathwaysTable, RecipientIdentityType } from '../db/schema.js'

export type NewPathwayRow = Omit<Insertable<PathwaysTable>, 'created_at' | 'updated_at'>
export type PathwayChanges = Partial<Pick<NewPathwayRow, 'name' | 'description' | 'award_achievement_id' | 'requirement'>>

/** A learner: the same person whichever issuer's recipient row names them (a lower-cased email, a DID or a URL). */
export interface Learner {
  identityType: RecipientIdentityType
  identity: string
}

/** The leaves a pathway's tree has, kept beside it: which achievements count towards it, which pathways it nests. */
export interface PathwayLeaves {
  achievementIds: string[]
  pathwayIds: string[]
}

/**
 * Serializes changes to the graph of nested pathways: two edits that would each close half of a cycle cannot both pass
 * their check. Edits of pathways are rare; a transaction-scoped advisory lock costs them nothing else.
 */
export async function lockPathwayGraph(db: Db): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('lanyard:pathway-graph'))`.execute(db)
}

async function writeLeaves(db: Db, pathwayId: string, leaves: PathwayLeaves): Promise<void> {
  await db.deleteFrom('pathway_components').where('pathway_id', '=', pathwayId).execute()
  await db.deleteFrom('pathway_dependencies').where('pathway_id', '=', pathwayId).execute()
  const achievements = [...new Set(leaves.achievementIds)]
  const pathways = [...new Set(leaves.pathwayIds)]
  if (achievements.length > 0) {
    await db.insertInto('pathway_components').values(achievements.map((id) => ({ pathway_id: pathwayId, achievement_id: id }))).execute()
  }
  if (pathways.length > 0) {
    await db.insertInto('pathway_dependencies').values(pathways.map((id) => ({ pathway_id: pathwayId, depends_on: id }))).execute()
  }
}

export async function insertPathway(db: Db, row: NewPathwayRow, leaves: PathwayLeaves): Promise<PathwayRow> {
  const inserted = await db.insertInto('pathways').values(row).returningAll().executeTakeFirstOrThrow()
  await writeLeaves(db, row.id, leaves)
  return inserted
}

/** Changes the pathway, and its leaves when its tree changes. */
export async function updatePathway(db: Db, id: string, changes: PathwayChanges, leaves?: PathwayLeaves): Promise<PathwayRow> {
  const row = await db.updateTable('pathways').set({ ...changes, updated_at: sql`now()` }).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
  if (leaves !== undefined) await writeLeaves(db, id, leaves)
  return row
}

/** Deletes the pathway with its leaves and award records (the credentials it awarded stay: credentials are never deleted). */
export async function deletePathway(db: Db, id: string): Promise<void> {
  await db.deleteFrom('pathways').where('id', '=', id).execute()
}

export async function findPathway(db: Db, id: string): Promise<PathwayRow | undefined> {
  return db.selectFrom('pathways').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function findPathways(db: Db, ids: string[]): Promise<PathwayRow[]> {
  if (ids.length === 0) return []
  return db.selectFrom('pathways').selectAll().where('id', 'in', ids).execute()
}

export async function listPathways(db: Db, filter: { issuerId: string; after?: string; limit: number }): Promise<PathwayRow[]> {
  let query = db.selectFrom('pathways').selectAll().where('issuer_id', '=', filter.issuerId).orderBy('id').limit(filter.limit)
  if (filter.after !== undefined) query = query.where('id', '>', filter.after)
  return query.execute()
}

/** The pathways that nest this one. */
export async function dependentsOf(db: Db, id: string): Promise<string[]> {
  const rows = await db.selectFrom('pathway_dependencies').select('pathway_id').where('depends_on', '=', id).orderBy('pathway_id').execute()
  return rows.map((row) => row.pathway_id)
}

/** Of `ids`, those that reach `target` through nested pathways (themselves included): nesting one in `target` closes a cycle. */
export async function pathwaysReaching(db: Db, ids: string[], target: string): Promise<Set<string>> {
  if (ids.length === 0) return new Set()
  const { rows } = await sql<{ start: string }>`
    with recursive reach (start, at) as (
      select id, id from unnest(${ids}::uuid[]) as id
      union
      select reach.start, d.depends_on from reach join pathway_dependencies d on d.pathway_id = reach.at
    )
    select distinct start from reach where at = ${target}::uuid`.execute(db)
  return new Set(rows.map((row) => row.start))
}

/** Which of these achievement ids (never none: the award's is one) exist, with their issuer. */
export async function achievementIssuers(db: Db, ids: string[]): Promise<Map<string, string>> {
  const rows = await db.selectFrom('achievements').select(['id', 'issuer_id']).where('id', 'in', ids).execute()
  return new Map(rows.map((row) => [row.id, row.issuer_id]))
}

/** Achievement names by id. */
export async function achievementNames(db: Db, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map()
  const rows = await db.selectFrom('achievements').select(['id', 'name']).where('id', 'in', ids).execute()
  return new Map(rows.map((row) => [row.id, row.name]))
}

/** The achievements (never none: the award is one) with the DID and name of their issuer, for the public document and page. */
export async function achievementsWithCreators(db: Db, ids: string[]): Promise<AchievementWithCreator[]> {
  return db.selectFrom('achievements')
    .innerJoin('issuers', 'issuers.id', 'achievements.issuer_id')
    .select([...RECORD_COLUMNS, 'issuers.did as creator_did', 'issuers.name as creator_name'])
    .where('achievements.id', 'in', ids)
    .execute()
}

/** For each of these achievements, the pathways it counts towards: as a component, or as the award of a nested pathway. */
export async function pathwaysCounting(db: Db, achievementIds: string[]): Promise<{ achievementId: string; pathwayId: string }[]> {
  if (achievementIds.length === 0) return []
  const { rows } = await sql<{ achievementId: string; pathwayId: string }>`
    select achievement_id as "achievementId", pathway_id as "pathwayId" from pathway_components where achievement_id = any(${achievementIds}::uuid[])
    union
    select nested.award_achievement_id, d.pathway_id from pathways nested join pathway_dependencies d on d.depends_on = nested.id
    where nested.award_achievement_id = any(${achievementIds}::uuid[])`.execute(db)
  return rows
}

type LearnerRow = Learner & { n: number }
const learnerRows = (learners: Learner[]): string => JSON.stringify(learners.map((learner, n): LearnerRow => ({ n, ...learner })))

/** A held credential that counts: active, valid now, not a wallet copy (that is the same award again). */
export interface HeldCredential {
  /** Index of the learner in the list asked about. */
  n: number
  achievementId: string
  credentialId: string
}

/**
 * The credentials these learners hold of these achievements, from any issuer: found through every issuer's recipient
 * row with the learner's identity. Revoked, expired and not yet valid credentials do not count.
 */
export async function heldCredentials(db: Db, learners: Learner[], achievementIds: string[]): Promise<HeldCredential[]> {
  if (learners.length === 0 || achievementIds.length === 0) return []
  const { rows } = await sql<HeldCredential>`
    select l.n, c.achievement_id as "achievementId", c.id as "credentialId"
    from jsonb_to_recordset(${learnerRows(learners)}::jsonb) as l(n integer, "identityType" text, identity text)
    join recipients r on r.identity_type = l."identityType" and r.identity = l.identity
    join credentials c on c.recipient_id = r.id
    where c.achievement_id = any(${achievementIds}::uuid[]) and c.original_credential_id is null and c.status = 'active'
      and (c.valid_until is null or c.valid_until > now()) and (c.valid_from is null or c.valid_from <= now())
    order by l.n, c.id`.execute(db)
  return rows
}

/** The awards already made of these (pathway, learner) pairs, by index in the list. */
export async function awardsOf(db: Db, pairs: { pathwayId: string; learner: Learner }[]): Promise<Map<number, string>> {
  if (pairs.length === 0) return new Map()
  const values = JSON.stringify(pairs.map((pair, n) => ({ n, pathwayId: pair.pathwayId, ...pair.learner })))
  const { rows } = await sql<{ n: number; credentialId: string }>`
    select p.n, a.credential_id as "credentialId"
    from jsonb_to_recordset(${values}::jsonb) as p(n integer, "pathwayId" uuid, "identityType" text, identity text)
    join pathway_awards a on a.pathway_id = p."pathwayId" and a.identity_type = p."identityType" and a.identity = p.identity`.execute(db)
  return new Map(rows.map((row) => [row.n, row.credentialId]))
}

/** What the award's issuer knows the learner as (its recipient row), to name them in the award as its own issues would. */
export async function recipientNamed(db: Db, issuerId: string, learner: Learner): Promise<{ name: string | null; externalId: string | null } | undefined> {
  return db.selectFrom('recipients').select(['name', 'external_id as externalId'])
    .where('issuer_id', '=', issuerId).where('identity_type', '=', learner.identityType).where('identity', '=', learner.identity)
    .executeTakeFirst()
}

/** A recipient row's learner and issuer. */
export async function recipientLearner(db: Db, recipientId: string): Promise<(Learner & { issuerId: string }) | undefined> {
  return db.selectFrom('recipients').select(['identity_type as identityType', 'identity', 'issuer_id as issuerId'])
    .where('id', '=', recipientId).executeTakeFirst()
}

/**
 * Records the award of `credentialId` unless the pair has one: true when this call recorded it. A pathway deleted
 * meanwhile records nothing (the insert selects it).
 */
export async function recordAward(db: Db, pathwayId: string, learner: Learner, credentialId: string): Promise<boolean> {
  const { rows } = await sql`
    insert into pathway_awards (pathway_id, identity_type, identity, credential_id)
    select id, ${learner.identityType}, ${learner.identity}, ${credentialId}::uuid from pathways where id = ${pathwayId}::uuid
    on conflict (pathway_id, identity_type, identity) do nothing
    returning pathway_id`.execute(db)
  return rows.length > 0
}

/**
 * The learners an evaluation of the pathway looks at, as job rows (`input`: the learner): everyone holding a credential
 * that counts of a component or of a nested pathway's award, and not yet awarded. Nobody else can be complete.
 */
export function candidateLearners(pathwayId: string): RawBuilder<{ input: unknown }> {
  return sql<{ input: unknown }>`
    select jsonb_build_object('identityType', r.identity_type, 'identity', r.identity) as input
    from credentials c join recipients r on r.id = c.recipient_id
    where c.achievement_id in (
        select achievement_id from pathway_components where pathway_id = ${pathwayId}::uuid
        union
        select nested.award_achievement_id from pathway_dependencies d join pathways nested on nested.id = d.depends_on
        where d.pathway_id = ${pathwayId}::uuid
      )
      and c.original_credential_id is null and c.status = 'active'
      and (c.valid_until is null or c.valid_until > now()) and (c.valid_from is null or c.valid_from <= now())
      and not exists (
        select from pathway_awards a where a.pathway_id = ${pathwayId}::uuid and a.identity_type = r.identity_type and a.identity = r.identity
      )
    group by r.identity_type, r.identity
    order by r.identity_type, r.identity`
}
