// The evaluate-pathway job: its rows are the learners who might be complete (pathways/store.ts candidateLearners); each
// chunk evaluates its learners through the same award code as the subscriber, so a learner awarded meanwhile is found
// awarded, never awarded twice. Results: one per award, with its credential, and one per award that was refused.
import type { ChunkWork } from '../jobs/chunk.js'
import { awardCompleted } from './award.js'
import { findPathway, type Learner } from './store.js'

export const EVALUATE_JOB = 'evaluate-pathway' as const

export const evaluatePathwayChunk: ChunkWork = async (ctx, _caller, job, _claimed, rows) => {
  const pathway = await findPathway(ctx.db, (job.params as { pathwayId: string }).pathwayId)
  if (pathway === undefined) return { jobError: 'the pathway was deleted: learners not yet evaluated were not' }
  const outcomes = await awardCompleted(ctx, rows.map((row) => ({ pathway, learner: row.input as unknown as Learner })))
  return rows.flatMap((row, index) => {
    const outcome = outcomes[index]!
    if (outcome.kind === 'incomplete') return []
    return [{
      job_id: job.id, row: row.row, external_id: null,
      credential_id: outcome.kind === 'awarded' ? outcome.credentialId : null,
      error: outcome.kind === 'refused' ? outcome.error : null
    }]
  })
}
