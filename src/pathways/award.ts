// The award: evaluates pathways for learners and issues each completed pathway's award credential, once per (pathway,
// learner). Both the subscriber of credential events and the evaluate job come here.
//
// Exactly once, without locks in memory: the award is issued under an Idempotency-Key of (pathway, learner), so two
// evaluations racing to it (two instances, or the subscriber and a job) get one credential, the loser a replay; then the
// (pathway, learner) key of pathway_awards lets one of them record it, and only that one appends pathway.completed, in the
// same transaction. A crash between the two leaves the credential issued and the award unrecorded: the event that led
// here is read again, the issue replays, and the record is made then.
import { createHash } from 'node:crypto'
import type { Caller, ServiceContext } from '../context.js'
import { proofOf } from '../credentials/award-input.js'
import { issueCredentials } from '../credentials/service.js'
import type { PathwayRow } from '../db/schema.js'
import { mapInSlices } from '../event-loop.js'
import { eventsCommitted } from '../events/notify.js'
import { appendEvent } from '../events/store.js'
import { AppError } from '../http/errors.js'
import { identityKey } from '../recipients/identity.js'
import { evaluate, leavesOf, type EvaluatedNode, type RequirementNode } from './requirement.js'
import {
  achievementNames, awardsOf, findPathways, heldCredentials, recipientNamed, recordAward, type Learner
} from './store.js'

export interface Candidate {
  pathway: PathwayRow
  learner: Learner
}

export type AwardOutcome =
  /** The learner has the award: issued now, or before. */
  | { kind: 'awarded'; credentialId: string }
  | { kind: 'incomplete' }
  /** The award could not be issued, for a reason a retry would not change (say, the award fails the OB 3.0 schema). */
  | { kind: 'refused'; error: string }

/** Awards issued at once, at most: each is a signature and a write, and the issue writer groups concurrent writes. */
const AWARDS_IN_FLIGHT = 8

export const requirementOf = (pathway: PathwayRow): RequirementNode => pathway.requirement as RequirementNode

/** The Idempotency-Key of the award of `pathwayId` to `learner`; hashed, so no email address is kept in it. */
export function awardKey(pathwayId: string, learner: Learner): string {
  return `lanyard-pathway:${pathwayId}:${createHash('sha256').update(identityKey(learner)).digest('hex').slice(0, 32)}`
}

export interface Evaluations {
  /** Each candidate's tree, evaluated. */
  trees: EvaluatedNode[]
  /** The achievement of every credential that counted. */
  achievementOf: Map<string, string>
}

/**
 * Evaluates each candidate's tree against what its learner holds: one query for the nested pathways' awards and one for
 * every learner's credentials that count, whatever the number of candidates.
 */
export async function evaluateAll(ctx: ServiceContext, candidates: Candidate[]): Promise<Evaluations> {
  const leaves = candidates.map((candidate) => leavesOf(requirementOf(candidate.pathway)))
  const nested = await findPathways(ctx.db, [...new Set(leaves.flatMap((leaf) => leaf.pathways.map((p) => p.id)))])
  const awardOf = new Map(nested.map((pathway) => [pathway.id, pathway.award_achievement_id]))
  const achievementIds = [...new Set([...leaves.flatMap((leaf) => leaf.achievements.map((a) => a.id)), ...awardOf.values()])]
  const learners: Learner[] = []
  const indexOf = new Map<string, number>()
  for (const { learner } of candidates) {
    if (indexOf.has(identityKey(learner))) continue
    indexOf.set(identityKey(learner), learners.length)
    learners.push(learner)
  }
  const byLearner = new Map<number, Map<string, string[]>>()
  const achievementOf = new Map<string, string>()
  for (const row of await heldCredentials(ctx.db, learners, achievementIds)) {
    achievementOf.set(row.credentialId, row.achievementId)
    let credentials = byLearner.get(row.n)
    if (credentials === undefined) byLearner.set(row.n, credentials = new Map())
    credentials.set(row.achievementId, [...credentials.get(row.achievementId) ?? [], row.credentialId])
  }
  const trees = candidates.map(({ pathway, learner }) => evaluate(requirementOf(pathway), {
    credentials: byLearner.get(indexOf.get(identityKey(learner))!) ?? new Map(), awardOf
  }))
  return { trees, achievementOf }
}

/**
 * Evaluates each (pathway, learner) not yet awarded and awards those complete. Answers an outcome per candidate, in order;
 * throws on a fault worth retrying (the database, signing), having awarded what it could.
 */
export async function awardCompleted(ctx: ServiceContext, candidates: Candidate[]): Promise<AwardOutcome[]> {
  const made = await awardsOf(ctx.db, candidates.map(({ pathway, learner }) => ({ pathwayId: pathway.id, learner })))
  const open = candidates.filter((_, index) => !made.has(index))
  const { trees, achievementOf } = await evaluateAll(ctx, open)
  const complete = open.flatMap((candidate, index) => trees[index]!.satisfied ? [{ candidate, tree: trees[index]! }] : [])
  const nameOf = await achievementNames(ctx.db, [...new Set(achievementOf.values())])
  const evidenceName = (credentialId: string) => nameOf.get(achievementOf.get(credentialId)!)!
  const awarded = new Map<Candidate, AwardOutcome>()
  await mapInSlices(complete, async ({ candidate, tree }) => {
    awarded.set(candidate, await issueAward(ctx, candidate, tree, evidenceName))
  }, AWARDS_IN_FLIGHT)
  return candidates.map((candidate, index): AwardOutcome => made.has(index)
    ? { kind: 'awarded', credentialId: made.get(index)! }
    : awarded.get(candidate) ?? { kind: 'incomplete' })
}

async function issueAward(
  ctx: ServiceContext, { pathway, learner }: Candidate, tree: EvaluatedNode, evidenceName: (credentialId: string) => string
): Promise<AwardOutcome> {
  const known = await recipientNamed(ctx.db, pathway.issuer_id, learner)
  // Lanyard acts by itself here, for the pathway's issuer; the audit log names the pathway as the request.
  const caller: Caller = { principal: { kind: 'admin' }, requestId: `pathway:${pathway.id}` }
  let credentialId: string
  try {
    const { credentials } = await issueCredentials(ctx, caller, {
      achievementId: pathway.award_achievement_id,
      proof: proofOf({ format: 'eddsa-rdfc-2022' }),
      awards: [{
        recipient: {
          [learner.identityType]: learner.identity,
          ...(known?.name != null && { name: known.name }),
          ...(known?.externalId != null && { externalId: known.externalId })
        },
        narrative: `Completed the learning stack “${pathway.name}”.`,
        evidence: tree.credentialIds.map((id) => ({ id: `${ctx.publicUrl}/credentials/${id}`, name: evidenceName(id) }))
      }]
    }, () => '/awardAchievementId', { key: awardKey(pathway.id, learner), operation: 'pathway-award', body: { pathwayId: pathway.id, learner } })
    credentialId = credentials[0]!.id
  } catch (error) {
    if (error instanceof AppError && error.status < 500) return { kind: 'refused', error: error.detail }
    throw error
  }
  const recorded = await ctx.db.transaction().execute(async (trx) => {
    if (!await recordAward(trx, pathway.id, learner, credentialId)) return false
    await appendEvent(trx, {
      type: 'pathway.completed',
      issuerId: pathway.issuer_id,
      data: {
        pathwayId: pathway.id,
        pathwayUrl: `${ctx.publicUrl}/pathways/${pathway.id}`,
        credentialId,
        url: `${ctx.publicUrl}/credentials/${credentialId}`,
        recipient: learner,
        evidence: tree.credentialIds.map((id) => `${ctx.publicUrl}/credentials/${id}`)
      }
    })
    return true
  })
  if (recorded) eventsCommitted(ctx.db)
  return { kind: 'awarded', credentialId }
}
