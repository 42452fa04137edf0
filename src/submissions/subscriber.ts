// Submissions as a subscriber of their own events: each submission.approved has its credential issued, if the approving
// request did not (it crashed, or the database failed it after the commit). Issuing is idempotent, so the usual case, a
// credential already there, costs one read.
import type { FastifyBaseLogger } from 'fastify'
import type { ServiceContext } from '../context.js'
import { mapInSlices } from '../event-loop.js'
import type { OutboxEvent } from '../events/store.js'
import { startSubscriber, type Subscriber, type SubscriberPace } from '../events/subscriber.js'
import { issueApproved } from './review.js'

/** The cursor of this subscriber (a row made by migration 0010). */
export const SUBMISSIONS_CONSUMER = 'submissions'


export async function handleEvents(ctx: ServiceContext, events: OutboxEvent[]): Promise<void> {
  const approved = events.filter((event) => event.type === 'submission.approved').map((event) => String(event.data.submissionId))
  await mapInSlices(approved, (id) => issueApproved(ctx, id), 8)
}

export function startSubmissionSubscriber(ctx: ServiceContext, log: FastifyBaseLogger, pace: SubscriberPace): Subscriber {
  return startSubscriber({ db: ctx.db, consumer: SUBMISSIONS_CONSUMER, log, ...pace, handle: (events) => handleEvents(ctx, events) })
}
