// How reviews appear in the admin API: the decision, the rubric results, and who decided.
import type { ReviewDecision, ReviewResult, SubmissionReviewRow } from '../db/schema.js'

export interface ReviewView {
  id: string
  version: number
  decision: ReviewDecision
  comment: string | null
  results: ReviewResult[]
  /** A signed-in reviewer (id, email, name), or the person an LMS named, or only the API caller. */
  reviewer: { id?: string; email?: string; name?: string }
  actor: string
  createdAt: string
}

export function reviewView(row: SubmissionReviewRow): ReviewView {
  return {
    id: row.id,
    version: row.version,
    decision: row.decision,
    comment: row.comment,
    results: row.results,
    reviewer: {
      ...(row.reviewer_id !== null && { id: row.reviewer_id }),
      ...(row.reviewer_email !== null && { email: row.reviewer_email }),
      ...(row.reviewer_name !== null && { name: row.reviewer_name })
    },
    actor: row.actor,
    createdAt: row.created_at.toISOString()
  }
}
