// SQL for submissions: the learner's request, each version of its evidence, and the reviews of each version.
import { sql, type Insertable } from 'kysely'
import type {
  Db, EvidenceItem, ReviewDecision, SubmissionReviewRow, SubmissionReviewsTable, SubmissionRow, SubmissionsTable, SubmissionStatus
} from '../db/schema.js'

export type NewSubmissionRow = Omit<Insertable<SubmissionsTable>, 'created_at' | 'updated_at'>

export async function insertSubmission(db: Db, row: NewSubmissionRow, evidence: EvidenceItem[]): Promise<SubmissionRow> {
  const inserted = await db.insertInto('submissions').values(row).returningAll().executeTakeFirstOrThrow()
  await insertVersion(db, row.id, 1, evidence)
  return inserted
}

export async function insertVersion(db: Db, submissionId: string, version: number, evidence: EvidenceItem[]): Promise<void> {
  await db.insertInto('submission_versions').values({ submission_id: submissionId, version, evidence: JSON.stringify(evidence) }).execute()
}

export async function findSubmission(db: Db, id: string): Promise<SubmissionRow | undefined> {
  return db.selectFrom('submissions').selectAll().where('id', '=', id).executeTakeFirst()
}

/** The submission, locked for the rest of the transaction: decisions on one submission are made one at a time. */
export async function lockSubmission(db: Db, id: string): Promise<SubmissionRow | undefined> {
  return db.selectFrom('submissions').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
}

export async function findSubmissionByCredential(db: Db, credentialId: string): Promise<SubmissionRow | undefined> {
  return db.selectFrom('submissions').selectAll().where('credential_id', '=', credentialId).executeTakeFirst()
}

export interface SubmissionFilter {
  issuerId?: string
  achievementId?: string
  status?: SubmissionStatus
  after?: string
  limit: number
}

export async function listSubmissions(db: Db, filter: SubmissionFilter): Promise<SubmissionRow[]> {
  let query = db.selectFrom('submissions').selectAll().orderBy('id').limit(filter.limit)
  if (filter.issuerId !== undefined) query = query.where('issuer_id', '=', filter.issuerId)
  if (filter.achievementId !== undefined) query = query.where('achievement_id', '=', filter.achievementId)
  if (filter.status !== undefined) query = query.where('status', '=', filter.status)
  if (filter.after !== undefined) query = query.where('id', '>', filter.after)
  return query.execute()
}

export interface VersionRow {
  version: number
  evidence: EvidenceItem[]
  submitted_at: Date
}

export async function versionsOf(db: Db, submissionId: string): Promise<VersionRow[]> {
  return db.selectFrom('submission_versions').select(['version', 'evidence', 'submitted_at'])
    .where('submission_id', '=', submissionId).orderBy('version').execute()
}

export async function reviewsOf(db: Db, submissionId: string): Promise<SubmissionReviewRow[]> {
  return db.selectFrom('submission_reviews').selectAll().where('submission_id', '=', submissionId).orderBy('id').execute()
}

export type NewReviewRow = Omit<Insertable<SubmissionReviewsTable>, 'created_at'>

/** Records a review; false when this person already reviewed this version (the unique key says so, whoever came first). */
export async function insertReview(db: Db, row: NewReviewRow): Promise<SubmissionReviewRow | undefined> {
  return db.insertInto('submission_reviews').values(row)
    .onConflict((c) => c.columns(['submission_id', 'version', 'reviewer_key']).doNothing())
    .returningAll().executeTakeFirst()
}

export async function approvalsOf(db: Db, submissionId: string, version: number): Promise<number> {
  const { count } = await db.selectFrom('submission_reviews').select((eb) => eb.fn.countAll<string>().as('count'))
    .where('submission_id', '=', submissionId).where('version', '=', version).where('decision', '=', 'approve' satisfies ReviewDecision)
    .executeTakeFirstOrThrow()
  return Number(count)
}

/** Approvals of the pending version of each submission, for the queue. */
export async function approvalCounts(db: Db, submissions: { id: string; version: number }[]): Promise<Map<string, number>> {
  if (submissions.length === 0) return new Map()
  const rows = await db.selectFrom('submission_reviews')
    .innerJoin('submissions', (join) => join.onRef('submissions.id', '=', 'submission_reviews.submission_id').onRef('submissions.version', '=', 'submission_reviews.version'))
    .select(['submission_reviews.submission_id as id', (eb) => eb.fn.countAll<string>().as('count')])
    .where('submission_reviews.submission_id', 'in', submissions.map((s) => s.id))
    .where('submission_reviews.decision', '=', 'approve')
    .groupBy('submission_reviews.submission_id')
    .execute()
  return new Map(rows.map((row) => [row.id, Number(row.count)]))
}

export interface SubmissionChanges {
  status: SubmissionStatus
  version?: number
  credential_id?: string
}

export async function updateSubmission(db: Db, id: string, changes: SubmissionChanges): Promise<SubmissionRow> {
  return db.updateTable('submissions').set({ ...changes, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
}

/** Why an approved submission's credential could not be issued (null once it is). */
export async function recordIssueError(db: Db, id: string, error: string | null): Promise<void> {
  await db.updateTable('submissions').set({ issue_error: error }).where('id', '=', id).execute()
}

/** The pending submissions a reviewer may decide: of the achievements they were invited to, oldest first. */
export async function pendingForReviewer(db: Db, reviewerId: string, limit: number): Promise<(SubmissionRow & { achievement_name: string; issuer_name: string })[]> {
  return db.selectFrom('submissions')
    .innerJoin('reviewer_assignments', (join) => join.onRef('reviewer_assignments.achievement_id', '=', 'submissions.achievement_id')
      .on('reviewer_assignments.reviewer_id', '=', reviewerId))
    .innerJoin('achievements', 'achievements.id', 'submissions.achievement_id')
    .innerJoin('issuers', 'issuers.id', 'submissions.issuer_id')
    .selectAll('submissions')
    .select(['achievements.name as achievement_name', 'issuers.name as issuer_name'])
    .where('submissions.status', '=', 'pending')
    // Not in their own queue: a reviewer never decides their own submission.
    .where((eb) => eb.not(eb.and([eb('submissions.identity_type', '=', 'email'), eb('submissions.identity', '=',
      eb.selectFrom('reviewers').select('email').where('id', '=', reviewerId))])))
    .where((eb) => eb.not(eb.exists(eb.selectFrom('submission_reviews').select(sql<number>`1`.as('one'))
      .whereRef('submission_reviews.submission_id', '=', 'submissions.id').whereRef('submission_reviews.version', '=', 'submissions.version')
      .where('submission_reviews.reviewer_id', '=', reviewerId))))
    .orderBy('submissions.updated_at').orderBy('submissions.id')
    .limit(limit)
    .execute()
}
