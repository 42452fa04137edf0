// SQL for reviewers: the people, the achievements they review, their single-use sign-in links and their sessions.
import type { Db, ReviewerRow } from '../db/schema.js'

/** The reviewer with this email, made when new; a name given later fills one not known yet. */
export async function upsertReviewer(db: Db, reviewer: { id: string; email: string; name: string | null }): Promise<ReviewerRow> {
  return db.insertInto('reviewers').values(reviewer)
    .onConflict((c) => c.column('email').doUpdateSet((eb) => ({ name: eb.fn.coalesce('excluded.name', 'reviewers.name') })))
    .returningAll().executeTakeFirstOrThrow()
}

export async function findReviewerByEmail(db: Db, email: string): Promise<ReviewerRow | undefined> {
  return db.selectFrom('reviewers').selectAll().where('email', '=', email).executeTakeFirst()
}

export async function assignReviewer(db: Db, assignment: { reviewerId: string; achievementId: string; issuerId: string }): Promise<Date> {
  const row = await db.insertInto('reviewer_assignments')
    .values({ reviewer_id: assignment.reviewerId, achievement_id: assignment.achievementId, issuer_id: assignment.issuerId })
    // Invited again: the first invitation's date stands.
    .onConflict((c) => c.columns(['reviewer_id', 'achievement_id']).doUpdateSet({ issuer_id: assignment.issuerId }))
    .returning('invited_at').executeTakeFirstOrThrow()
  return row.invited_at
}

export async function unassignReviewer(db: Db, reviewerId: string, achievementId: string): Promise<boolean> {
  const result = await db.deleteFrom('reviewer_assignments').where('reviewer_id', '=', reviewerId).where('achievement_id', '=', achievementId).executeTakeFirst()
  return result.numDeletedRows > 0n
}

export async function isAssigned(db: Db, reviewerId: string, achievementId: string): Promise<boolean> {
  return (await db.selectFrom('reviewer_assignments').select('reviewer_id')
    .where('reviewer_id', '=', reviewerId).where('achievement_id', '=', achievementId).executeTakeFirst()) !== undefined
}

export async function hasAssignments(db: Db, reviewerId: string): Promise<boolean> {
  return (await db.selectFrom('reviewer_assignments').select('reviewer_id').where('reviewer_id', '=', reviewerId).executeTakeFirst()) !== undefined
}

export type AssignedReviewer = ReviewerRow & { invited_at: Date }

export async function reviewersOf(db: Db, achievementId: string): Promise<AssignedReviewer[]> {
  return db.selectFrom('reviewer_assignments').innerJoin('reviewers', 'reviewers.id', 'reviewer_assignments.reviewer_id')
    .selectAll('reviewers').select('reviewer_assignments.invited_at')
    .where('reviewer_assignments.achievement_id', '=', achievementId).orderBy('reviewers.id').execute()
}

export async function insertSignIn(db: Db, signIn: { tokenHash: string; reviewerId: string; expiresAt: Date }): Promise<void> {
  await db.insertInto('reviewer_sign_ins').values({ token_hash: signIn.tokenHash, reviewer_id: signIn.reviewerId, expires_at: signIn.expiresAt }).execute()
}

export async function findSignIn(db: Db, tokenHash: string): Promise<{ reviewer_id: string; expires_at: Date; used_at: Date | null } | undefined> {
  return db.selectFrom('reviewer_sign_ins').select(['reviewer_id', 'expires_at', 'used_at']).where('token_hash', '=', tokenHash).executeTakeFirst()
}

/** Marks the link used; only the first of two racing uses gets its reviewer back. */
export async function useSignIn(db: Db, tokenHash: string, now: Date): Promise<string | undefined> {
  const row = await db.updateTable('reviewer_sign_ins').set({ used_at: now })
    .where('token_hash', '=', tokenHash).where('used_at', 'is', null).where('expires_at', '>', now)
    .returning('reviewer_id').executeTakeFirst()
  return row?.reviewer_id
}

export async function insertSession(db: Db, session: { tokenHash: string; reviewerId: string; expiresAt: Date }): Promise<void> {
  await db.insertInto('reviewer_sessions').values({ token_hash: session.tokenHash, reviewer_id: session.reviewerId, expires_at: session.expiresAt }).execute()
}

export async function findSessionReviewer(db: Db, tokenHash: string, now: Date): Promise<ReviewerRow | undefined> {
  return db.selectFrom('reviewer_sessions').innerJoin('reviewers', 'reviewers.id', 'reviewer_sessions.reviewer_id')
    .selectAll('reviewers').where('reviewer_sessions.token_hash', '=', tokenHash).where('reviewer_sessions.expires_at', '>', now)
    .executeTakeFirst()
}

export async function deleteSession(db: Db, tokenHash: string): Promise<void> {
  await db.deleteFrom('reviewer_sessions').where('token_hash', '=', tokenHash).execute()
}
