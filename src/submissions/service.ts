// Submissions: a learner's evidence for an achievement, sent by the LMS, kept version by version with its files, and
// shown with its reviews. Deciding them is review.ts's job.
import { v7 as uuidv7 } from 'uuid'
import { visibleAchievement } from '../achievements/service.js'
import { findAchievement } from '../achievements/store.js'
import { recordAuditEvent } from '../audit/store.js'
import type { Caller, ServiceContext } from '../context.js'
import type { AchievementRow, Db, EvidenceItem, SubmissionRow, SubmissionStatus } from '../db/schema.js'
import { eventsCommitted } from '../events/notify.js'
import { appendEvent } from '../events/store.js'
import type { EventType } from '../events/types.js'
import { actorOf, assertIssuerAccess, issuerScope } from '../http/auth.js'
import { AppError, notFound } from '../http/errors.js'
import { pageFrom, type Page } from '../pagination.js'
import { recipientIdentity, type RecipientInput } from '../recipients/identity.js'
import { fileSize, insertSubmissionFile, submissionFiles } from './file-store.js'
import type { SpooledFile } from './uploads.js'
import {
  approvalsOf, findSubmission, insertSubmission, insertVersion, listSubmissions as listSubmissionRows, lockSubmission, reviewsOf, updateSubmission,
  versionsOf
} from './store.js'
import { reviewView, type ReviewView } from './views.js'

const SUBMISSION = 'submission'

export interface EvidenceInput {
  evidence: EvidenceItem[]
  /** Whether the files are open to anyone with their URL (published in the credential's evidence), or private. */
  public: boolean
}

export interface SubmissionInput extends EvidenceInput {
  recipient: RecipientInput
}

export interface FileView {
  id: string
  version: number
  name: string
  contentType: string
  size: number
  sha256: string
  public: boolean
  /** Where the file is read: public files by anyone; private ones by the issuer, its reviewers and the learner's claim link. */
  url: string
}

export interface SubmissionView {
  id: string
  issuerId: string
  achievementId: string
  status: SubmissionStatus
  version: number
  recipient: RecipientInput
  /** The evidence of the version under review (or decided). */
  evidence: EvidenceItem[]
  files: FileView[]
  /** Every version, oldest first: a revision keeps what came before. */
  versions: { version: number; submittedAt: string; evidence: EvidenceItem[] }[]
  reviews: ReviewView[]
  approvals: { required: number; count: number }
  credentialId?: string
  credentialUrl?: string
  /** Why the approved submission's credential could not be issued, while it cannot. */
  issueError?: string
  createdAt: string
  updatedAt: string
}

export const fileUrl = (publicUrl: string, submissionId: string, fileId: string) => `${publicUrl}/submissions/${submissionId}/files/${fileId}`

/** Approvals by distinct reviewers that issue the achievement's credential: its policy's, or one. */
export function approvalsRequired(achievement: Pick<AchievementRow, 'review_policy'>): number {
  return achievement.review_policy?.approvals ?? 1
}

export function recipientOf(row: SubmissionRow): RecipientInput {
  return {
    [row.identity_type]: row.identity,
    ...(row.recipient_name !== null && { name: row.recipient_name }),
    ...(row.external_id !== null && { externalId: row.external_id })
  }
}

/** What events about a submission say: ids and URLs, and the learner as the issuer's own systems know them. */
export function submissionEventData(publicUrl: string, row: SubmissionRow, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    submissionId: row.id,
    url: `${publicUrl}/v1/submissions/${row.id}`,
    issuerId: row.issuer_id,
    achievementId: row.achievement_id,
    version: row.version,
    recipient: { identityType: row.identity_type, identity: row.identity },
    externalId: row.external_id,
    ...extra
  }
}

export async function submissionView(ctx: ServiceContext, row: SubmissionRow, required?: number): Promise<SubmissionView> {
  const [versions, files, reviews, count, approvals] = await Promise.all([
    versionsOf(ctx.db, row.id), submissionFiles(ctx.db, row.id), reviewsOf(ctx.db, row.id), approvalsOf(ctx.db, row.id, row.version),
    required ?? findAchievement(ctx.db, row.achievement_id).then((achievement) => approvalsRequired(achievement!))
  ])
  return {
    id: row.id,
    issuerId: row.issuer_id,
    achievementId: row.achievement_id,
    status: row.status,
    version: row.version,
    recipient: recipientOf(row),
    evidence: versions.find((v) => v.version === row.version)!.evidence,
    files: files.map((file) => ({
      id: file.id, version: file.version, name: file.name, contentType: file.content_type, size: fileSize(file), sha256: file.sha256,
      public: file.public, url: fileUrl(ctx.publicUrl, row.id, file.id)
    })),
    versions: versions.map((v) => ({ version: v.version, submittedAt: v.submitted_at.toISOString(), evidence: v.evidence })),
    reviews: reviews.map(reviewView),
    approvals: { required: approvals, count },
    ...(row.credential_id !== null && { credentialId: row.credential_id, credentialUrl: `${ctx.publicUrl}/credentials/${row.credential_id}` }),
    ...(row.issue_error !== null && { issueError: row.issue_error }),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString()
  }
}

function assertSomeEvidence(input: EvidenceInput, files: SpooledFile[]): void {
  if (input.evidence.length === 0 && files.length === 0) {
    throw new AppError('evidence-required', 422, 'a submission needs evidence: at least one evidence item or one file',
      [{ pointer: '/evidence', message: 'give at least one evidence item, or upload a file', in: 'body' }])
  }
}

/** Stores one version's files, streaming each from where the upload spooled it. */
async function storeFiles(trx: Db, submissionId: string, version: number, files: SpooledFile[], isPublic: boolean): Promise<void> {
  for (const file of files) {
    await insertSubmissionFile(trx, {
      id: uuidv7(), submission_id: submissionId, version, position: file.position, name: file.name, content_type: file.contentType,
      size: file.size, sha256: file.sha256, public: isPublic
    }, file.path)
  }
}

/** Who acted, as the audit log names them: an API caller (`admin`, `api-key:<id>`) or a signed-in reviewer (`reviewer:<id>`). */
export interface Actor {
  actor: string
  requestId: string
}

export const actorOfCaller = (caller: Caller): Actor => ({ actor: actorOf(caller.principal), requestId: caller.requestId })

/** The audit entry and the event of a change to a submission, in the transaction that makes it. */
export async function recordChange(
  trx: Db, ctx: ServiceContext, by: Actor, row: SubmissionRow, event: EventType, details: Record<string, unknown>, data: Record<string, unknown> = {}
): Promise<void> {
  await recordAuditEvent(trx, {
    actor: by.actor, action: event, issuerId: row.issuer_id, targetType: SUBMISSION, targetId: row.id, details, requestId: by.requestId
  })
  await appendEvent(trx, { type: event, issuerId: row.issuer_id, data: submissionEventData(ctx.publicUrl, row, data) })
}

/** POST /v1/achievements/:id/submissions: the learner's evidence, pending review; its files are stored with it or not at all. */
export async function createSubmission(
  ctx: ServiceContext, caller: Caller, achievementId: string, input: SubmissionInput, files: SpooledFile[]
): Promise<SubmissionView> {
  const achievement = await visibleAchievement(ctx, caller, achievementId)
  assertSomeEvidence(input, files)
  const recipient = recipientIdentity(input.recipient)
  const row = await ctx.db.transaction().execute(async (trx) => {
    const row = await insertSubmission(trx, {
      id: uuidv7(), issuer_id: achievement.issuer_id, achievement_id: achievement.id, identity_type: recipient.identityType,
      identity: recipient.identity, recipient_name: recipient.name, external_id: recipient.externalId
    }, input.evidence)
    await storeFiles(trx, row.id, 1, files, input.public)
    await recordChange(trx, ctx, actorOfCaller(caller), row, 'submission.created', { evidence: input.evidence.length, files: files.length })
    return row
  })
  eventsCommitted(ctx.db)
  return submissionView(ctx, row, approvalsRequired(achievement))
}

export async function visibleSubmission(ctx: ServiceContext, caller: Caller, id: string): Promise<SubmissionRow> {
  const row = await findSubmission(ctx.db, id)
  if (row === undefined) throw notFound(SUBMISSION)
  assertIssuerAccess(caller.principal, row.issuer_id, SUBMISSION)
  return row
}

export async function getSubmission(ctx: ServiceContext, caller: Caller, id: string): Promise<SubmissionView> {
  return submissionView(ctx, await visibleSubmission(ctx, caller, id))
}

export interface SubmissionQuery {
  achievementId?: string
  status?: SubmissionStatus
  limit: number
  cursor?: string
}

export async function listSubmissions(ctx: ServiceContext, caller: Caller, query: SubmissionQuery): Promise<Page<SubmissionView>> {
  const rows = await listSubmissionRows(ctx.db, {
    issuerId: issuerScope(caller.principal), achievementId: query.achievementId, status: query.status, after: query.cursor, limit: query.limit + 1
  })
  const page = pageFrom(rows, query.limit, (row) => row, (row) => row.id)
  return { items: await Promise.all(page.items.map((row) => submissionView(ctx, row))), nextCursor: page.nextCursor }
}

/**
 * POST /v1/submissions/:id/versions: the learner's revised evidence, after a reviewer asked for a revision. The earlier
 * versions, their files and their reviews stay; the submission is pending again, on the new version.
 */
export async function reviseSubmission(
  ctx: ServiceContext, caller: Caller, id: string, input: EvidenceInput, files: SpooledFile[]
): Promise<SubmissionView> {
  await visibleSubmission(ctx, caller, id)
  assertSomeEvidence(input, files)
  const row = await ctx.db.transaction().execute(async (trx) => {
    const current = (await lockSubmission(trx, id))!
    if (current.status !== 'revision_requested') {
      throw new AppError('submission-not-open', 409, current.status === 'pending'
        ? 'this submission is waiting for review: a new version can be sent once a reviewer asks for a revision'
        : `this submission was ${current.status}: it takes no new version`)
    }
    const version = current.version + 1
    await insertVersion(trx, id, version, input.evidence)
    await storeFiles(trx, id, version, files, input.public)
    const row = await updateSubmission(trx, id, { status: 'pending', version })
    await recordChange(trx, ctx, actorOfCaller(caller), row, 'submission.revised', { version, evidence: input.evidence.length, files: files.length })
    return row
  })
  eventsCommitted(ctx.db)
  return submissionView(ctx, row)
}
