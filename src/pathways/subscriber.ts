// Pathways as a subscriber of credential events: each credential.issued is evaluated, for its learner, against every
// pathway its achievement counts towards, and the pathways it completes are awarded. The award's own credential.issued
// comes back here and completes the pathways that nest that one.
import type { FastifyBaseLogger } from 'fastify'
import type { ServiceContext } from '../context.js'
import type { RecipientIdentityType } from '../db/schema.js'
import type { OutboxEvent } from '../events/store.js'
import { startSubscriber, type Subscriber, type SubscriberPace } from '../events/subscriber.js'
import { identityKey } from '../recipients/identity.js'
import { awardCompleted, type Candidate } from './award.js'
import { findPathways, pathwaysCounting } from './store.js'

/** The cursor of this subscriber (a row made by migration 0008). */
export const PATHWAYS_CONSUMER = 'pathways'


/** What credential.issued says that matters here (see credentials/events.ts). */
interface IssuedData {
  achievementId: string | null
  recipient: { identityType: RecipientIdentityType; identity: string } | null
}

/** The (pathway, learner) pairs a batch of events asks to evaluate, each once. */
export async function candidatesOf(ctx: ServiceContext, events: OutboxEvent[]): Promise<Candidate[]> {
  // VC-API credentials name no achievement and no recipient: nothing here can count them.
  const issued = events.flatMap((event) => {
    const data = event.data as unknown as IssuedData
    return event.type === 'credential.issued' && data.achievementId !== null && data.recipient !== null
      ? [{ achievementId: data.achievementId, learner: { identityType: data.recipient.identityType, identity: data.recipient.identity } }]
      : []
  })
  const counting = await pathwaysCounting(ctx.db, [...new Set(issued.map((item) => item.achievementId))])
  if (counting.length === 0) return []
  const pathways = new Map((await findPathways(ctx.db, [...new Set(counting.map((row) => row.pathwayId))])).map((row) => [row.id, row]))
  const candidates = new Map<string, Candidate>()
  for (const { achievementId, learner } of issued) {
    for (const row of counting) {
      const pathway = pathways.get(row.pathwayId)
      // A pathway deleted since the first query has nothing to award.
      if (row.achievementId !== achievementId || pathway === undefined) continue
      candidates.set(`${pathway.id}\u0000${identityKey(learner)}`, { pathway, learner })
    }
  }
  return [...candidates.values()]
}

export async function handleEvents(ctx: ServiceContext, log: FastifyBaseLogger, events: OutboxEvent[]): Promise<void> {
  const candidates = await candidatesOf(ctx, events)
  const outcomes = await awardCompleted(ctx, candidates)
  outcomes.forEach((outcome, index) => {
    if (outcome.kind !== 'refused') return
    // Nothing a retry would change: the evaluate job (POST /v1/pathways/:id/evaluate) awards it once the cause is fixed.
    log.warn({ pathwayId: candidates[index]!.pathway.id, reason: outcome.error }, 'a pathway award could not be issued')
  })
}

export function startPathwaySubscriber(ctx: ServiceContext, log: FastifyBaseLogger, pace: SubscriberPace): Subscriber {
  return startSubscriber({ db: ctx.db, consumer: PATHWAYS_CONSUMER, log, ...pace, handle: (events) => handleEvents(ctx, log, events) })
}
