// A durable subscriber of the outbox: reads every event once committed, in commit order, from a cursor of its own in the
// database, so it misses none across crashes and restarts. Each instance runs one; a lease on the cursor lets one read at
// a time and a crashed one's run out. It is nudged after commits in this process and polls for the others' events.
import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../db/schema.js'
import { startPassLoop } from './pass-loop.js'
import { eventsAfter, hasEventsAfterCursor, leaseCursor, releaseCursor, type OutboxEvent } from './store.js'

export interface SubscriberOptions {
  db: Db
  /** The cursor's name (a row of event_cursors, made by the subscriber's migration). */
  consumer: string
  log: FastifyBaseLogger
  /** How often the outbox is looked at when nothing nudges. */
  pollMs: number
  /** Events handled per pass; a full batch is followed by another at once. */
  batch: number
  /** How long a pass may hold the cursor before another instance may take it over. */
  leaseMs: number
  /**
   * Handles a batch; the cursor moves past it only when this resolves, so a throw (a database fault) has the batch read
   * again later, and a crash in the middle has it read again by whichever instance comes next. Handling must therefore be
   * idempotent, and must not throw for an event it will never handle (that would stop the subscriber at it).
   */
  handle(events: OutboxEvent[]): Promise<void>
}

/** How a subscriber paces itself: its poll interval, its batch, and its lease on the cursor. */
export type SubscriberPace = Pick<SubscriberOptions, 'pollMs' | 'batch' | 'leaseMs'>

export interface Subscriber {
  /** Reads and handles one batch; answers how many events it read (0 when there were none, or another instance holds the cursor). */
  pass(): Promise<number>
  /** Stops polling and waits for the pass in hand. */
  stop(): Promise<void>
}

/**
 * A nudge waits this long, so a stream of commits makes one pass, not one each: a pass that reads writes the cursor twice
 * (lease, release), which single issues at hundreds a second would otherwise pay for.
 */
const NUDGE_DELAY_MS = 50

export function startSubscriber(options: SubscriberOptions): Subscriber {
  const { db, consumer } = options

  async function pass(): Promise<number> {
    if (!await hasEventsAfterCursor(db, consumer)) return 0
    const lease = await leaseCursor(db, consumer, randomUUID(), options.leaseMs)
    if (lease === undefined) return 0
    let events: OutboxEvent[] = []
    try {
      events = await eventsAfter(db, lease, options.batch)
      if (events.length > 0) await options.handle(events)
    } catch (error) {
      await releaseCursor(db, lease)
      throw error
    }
    const last = events[events.length - 1]
    await releaseCursor(db, lease, last)
    return events.length
  }

  // A pass that read events is followed by another: more may have committed while it worked, their nudges having found
  // this instance busy or another holding the cursor.
  const loop = startPassLoop({
    db, pollMs: options.pollMs, nudgeDelayMs: NUDGE_DELAY_MS,
    pass: async () => await pass() > 0,
    onError: (error) => options.log.error({ err: error, consumer }, 'event subscriber pass failed')
  })
  return { pass, stop: () => loop.stop() }
}
