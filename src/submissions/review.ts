// Deciding a submission: approve, ask for a revision, or reject, with rubric results; the last approval issues the badge.
//
// Exactly once, without locks in memory: a decision locks the submission row, so two reviewers deciding at once are
// taken one after the other and the second finds the first's outcome (a 409 once decided). The approving transaction
// chooses the credential's id and records it with the decision and its event; the credential is then issued under an
// Idempotency-Key of the submission, by the request at once or, after a crash, by the subscriber that reads
// submission.approved. Whoever comes second replays the first's credential.
import { v7 as uuidv7 } from 'uuid'
import { resultEntries, resultErrors } from '../achievements/rubric.js'
import { findAchievement } from '../achievements/store.js'
import type { Caller, ServiceContext } from '../context.js'
import { proofOf } from '../credentials/award-input.js'
import { issueCredentials } from '../credentials/service.js'
import { findCredential } from '../credentials/store.js'
import type { EvidenceInput as CredentialEvidence } from '../credentials/build.js'
import type { ResultDescription, ReviewDecision, ReviewerRow, ReviewResult, SubmissionRow, SubmissionStatus } from '../db/schema.js'
import { eventsCommitted } from '../events/notify.js'
import type { EventType } from '../events/types.js'
import { actorOf } from '../http/auth.js'
import { AppError, notFound } from '../http/errors.js'
import { recordAuditEvent } from '../audit/store.js'
import { submissionFiles } from './file-store.js'
import { isAssigned } from './reviewer-store.js'
import {
  approvalsRequired, fileUrl, recipientOf, recordChange, submissionView, visibleSubmission, type Actor, type SubmissionView
} from './service.js'
import { approvalsOf, findSubmission, insertReview, lockSubmission, recordIssueError, reviewsOf, updateSubmission, versionsOf } from './store.js'
import { reviewView, type ReviewView } from './views.js'

export interface DecisionInput {
  decision: ReviewDecision
  comment?: string
  results: ReviewResult[]
}

/** Who decides: the issuer's LMS through the API (optionally naming the person), or a reviewer signed in to the review page. */
export type Reviewer =
  | { kind: 'api'; caller: Caller; person?: { email: string; name?: string } }
  | { kind: 'reviewer'; reviewer: ReviewerRow; requestId: string }

export interface DecisionOutcome {
  review: ReviewView
  submission: SubmissionView
}

const OUTCOME: Record<ReviewDecision, { status: SubmissionStatus; event: EventType }> = {
  approve: { status: 'approved', event: 'submission.approved' },
  reject: { status: 'rejected', event: 'submission.rejected' },
  revise: { status: 'revision_requested', event: 'submission.revision_requested' }
}

function actorOfReviewer(reviewer: Reviewer): Actor {
  return reviewer.kind === 'api'
    ? { actor: actorOf(reviewer.caller.principal), requestId: reviewer.caller.requestId }
    : { actor: `reviewer:${reviewer.reviewer.id}`, requestId: reviewer.requestId }
}

/** The person deciding, as the review records them; one decision per person per version. */
function personOf(reviewer: Reviewer): { key: string; reviewerId: string | null; email: string | null; name: string | null } {
  if (reviewer.kind === 'reviewer') {
    return { key: `reviewer:${reviewer.reviewer.id}`, reviewerId: reviewer.reviewer.id, email: reviewer.reviewer.email, name: reviewer.reviewer.name }
  }
  const person = reviewer.person
  if (person !== undefined) {
    const email = person.email.trim().toLowerCase()
    return { key: `email:${email}`, reviewerId: null, email, name: person.name ?? null }
  }
  return { key: actorOf(reviewer.caller.principal), reviewerId: null, email: null, name: null }
}

/** The submission, when this reviewer may decide it: the issuer's own, or one of an achievement the reviewer was invited to. */
export async function decidableSubmission(ctx: ServiceContext, reviewer: Reviewer, id: string): Promise<SubmissionRow> {
  if (reviewer.kind === 'api') return visibleSubmission(ctx, reviewer.caller, id)
  const row = await findSubmission(ctx.db, id)
  if (row === undefined || !await isAssigned(ctx.db, reviewer.reviewer.id, row.achievement_id)) throw notFound('submission')
  return row
}

/** True when the person deciding is the submission's learner (by email: the identity both can have). */
export function isOwnSubmission(row: Pick<SubmissionRow, 'identity_type' | 'identity'>, email: string | null): boolean {
  return email !== null && row.identity_type === 'email' && row.identity === email
}

export const ownSubmission = () => new AppError('own-submission', 403, 'a reviewer never decides their own submission: another reviewer must')

/** Why a submission in this state takes no decision. */
export function notDecidable(row: SubmissionRow): AppError {
  return new AppError('submission-decided', 409, row.status === 'revision_requested'
    ? 'a revision was asked for: the submission takes decisions again once the learner sends the new version'
    : `this submission was already ${row.status}`)
}

/**
 * The rubric results a decision may carry: levels of the achievement's rubrics. An approval must also meet every required
 * level; a revision or rejection may grade below it (that is the feedback).
 */
function checkResults(rubrics: ResultDescription[], input: DecisionInput): void {
  const against = input.decision === 'approve' ? rubrics : rubrics.map(({ requiredLevel: _required, ...rubric }) => rubric)
  const errors = resultErrors(against, input.results)
  if (errors.length > 0) {
    throw new AppError('results-invalid', 422, `the rubric results do not fit the achievement's rubrics: ${errors.map((e) => e.message).join('; ')}`,
      errors.map((error) => ({ ...error, in: 'body' as const })))
  }
}

export async function decide(ctx: ServiceContext, reviewer: Reviewer, id: string, input: DecisionInput): Promise<DecisionOutcome> {
  const found = await decidableSubmission(ctx, reviewer, id)
  // Decided already: that is the answer, before anything about this decision's own fields (checked again under the lock).
  if (found.status !== 'pending') throw notDecidable(found)
  const achievement = (await findAchievement(ctx.db, found.achievement_id))!
  checkResults(achievement.result_descriptions, input)
  if (input.decision === 'revise' && input.comment === undefined) {
    throw new AppError('comment-required', 422, 'a request for a revision needs a comment telling the learner what to change',
      [{ pointer: '/comment', message: 'Say what the learner should change: a revision needs a comment.', in: 'body' }])
  }
  const person = personOf(reviewer)
  if (isOwnSubmission(found, person.email)) throw ownSubmission()
  const by = actorOfReviewer(reviewer)
  const required = approvalsRequired(achievement)

  const { review, row } = await ctx.db.transaction().execute(async (trx) => {
    const current = (await lockSubmission(trx, id))!
    if (current.status !== 'pending') throw notDecidable(current)
    const review = await insertReview(trx, {
      id: uuidv7(), submission_id: id, version: current.version, decision: input.decision, comment: input.comment ?? null,
      results: JSON.stringify(input.results), reviewer_id: person.reviewerId, reviewer_key: person.key, reviewer_email: person.email,
      reviewer_name: person.name, actor: by.actor
    })
    if (review === undefined) throw new AppError('already-reviewed', 409, `you already decided version ${current.version} of this submission`)
    if (input.decision === 'approve' && await approvalsOf(trx, id, current.version) < required) {
      await recordAuditEvent(trx, {
        actor: by.actor, action: 'submission.review.recorded', issuerId: current.issuer_id, targetType: 'submission', targetId: id,
        details: { decision: input.decision, version: current.version, reviewId: review.id, approvalsRequired: required }, requestId: by.requestId
      })
      return { review, row: current }
    }
    const { status, event } = OUTCOME[input.decision]
    const row = await updateSubmission(trx, id, { status, ...(status === 'approved' && { credential_id: uuidv7() }) })
    await recordChange(trx, ctx, by, row, event, { version: row.version, reviewId: review.id, results: input.results.length }, {
      reviewId: review.id,
      ...(row.credential_id !== null && { credentialId: row.credential_id, credentialUrl: `${ctx.publicUrl}/credentials/${row.credential_id}` })
    })
    return { review, row }
  })
  if (row.status !== 'pending') eventsCommitted(ctx.db)
  if (row.status === 'approved') await issueApproved(ctx, id)
  return { review: reviewView(review), submission: await submissionView(ctx, (await findSubmission(ctx.db, id))!, required) }
}

/** The credential's evidence: the learner's items, then each file of the approved version by its URL. */
async function evidenceOf(ctx: ServiceContext, row: SubmissionRow): Promise<CredentialEvidence[]> {
  const versions = await versionsOf(ctx.db, row.id)
  const items = versions.find((v) => v.version === row.version)!.evidence
  const files = (await submissionFiles(ctx.db, row.id)).filter((file) => file.version === row.version)
  return [
    ...items.map((item) => ({ ...(item.url !== undefined && { id: item.url }), name: item.name, ...(item.narrative !== undefined && { narrative: item.narrative }),
      ...(item.genre !== undefined && { genre: item.genre }) })),
    ...files.map((file) => ({ id: fileUrl(ctx.publicUrl, row.id, file.id), name: file.name, description: `${file.content_type} file, SHA-256 ${file.sha256}` }))
  ]
}

/** The rubric results the credential states: those of the approval that completed the review. */
async function decisiveResults(ctx: ServiceContext, row: SubmissionRow): Promise<ReviewResult[]> {
  const approvals = (await reviewsOf(ctx.db, row.id)).filter((review) => review.version === row.version && review.decision === 'approve')
  return approvals[approvals.length - 1]!.results
}

/**
 * Issues an approved submission's credential, with the id its approval chose; does nothing when it exists. A refusal no
 * retry would change (the achievement no longer fits the OB 3.0 schema, its issuer cannot sign) is kept on the submission
 * as `issueError`; a fault worth retrying (the database, signing) throws, and the subscriber tries again.
 */
export async function issueApproved(ctx: ServiceContext, id: string): Promise<void> {
  const row = await findSubmission(ctx.db, id)
  if (row === undefined || row.status !== 'approved' || row.credential_id === null) return
  if (await findCredential(ctx.db, row.credential_id) !== undefined) return
  const achievement = (await findAchievement(ctx.db, row.achievement_id))!
  // Lanyard acts by itself here, for the achievement's issuer; the audit log names the submission as the request.
  const caller: Caller = { principal: { kind: 'admin' }, requestId: `submission:${id}` }
  try {
    await issueCredentials(ctx, caller, {
      achievementId: row.achievement_id,
      proof: proofOf({ format: 'eddsa-rdfc-2022' }),
      reviewed: true,
      awards: [{
        id: row.credential_id,
        recipient: recipientOf(row),
        evidence: await evidenceOf(ctx, row),
        results: resultEntries(achievement.result_descriptions, await decisiveResults(ctx, row))
      }]
    }, () => '/submission', { key: `lanyard-submission:${id}`, operation: 'submission-approval', body: { submissionId: id, credentialId: row.credential_id } })
  } catch (error) {
    if (!(error instanceof AppError) || error.status >= 500) throw error
    await recordIssueError(ctx.db, id, error.detail)
    return
  }
  if (row.issue_error !== null) await recordIssueError(ctx.db, id, null)
}
