// The dispatcher: after commit, fans events out into deliveries and sends the due ones, a few at a time, off the request path.
// All its state is in the database, so it survives restarts, and several instances share the work without sending one
// attempt twice (SKIP LOCKED claims and leases). Issuing never waits for it: it only polls, and is nudged after commits.
import type { FastifyBaseLogger } from 'fastify'
import { v7 as uuidv7 } from 'uuid'
import type { Keyring } from '../crypto/keyring.js'
import type { Db } from '../db/schema.js'
import { startPassLoop } from '../events/pass-loop.js'
import { attempt, type AttemptSettings } from './deliver.js'
import { openWebhookSecret } from './secrets.js'
import { claimDue, fanOut, lockUndispatched, recordOutcome, type ClaimedDelivery } from './store.js'

export interface DispatcherOptions extends AttemptSettings {
  db: Db
  keyring: Keyring
  log: FastifyBaseLogger
  /** How often the outbox and the due deliveries are looked at when nothing nudges. */
  pollMs: number
  /** Attempts in flight at once, at most: a slow receiver holds one slot, never the event loop or a request. */
  concurrency: number
  /** Events fanned out per transaction; a full batch is followed by another at once. */
  fanOutBatch: number
}

export interface Dispatcher {
  /** Stops polling and waits for the attempts in flight (each ends by its timeout at the latest). */
  stop(): Promise<void>
}

/**
 * A nudge waits this long, so a stream of commits (single issues one after another) makes one pass, not one each: every
 * pass is a few statements that would otherwise compete with issuing for the database and the event loop.
 */
const NUDGE_DELAY_MS = 25
/** An attempt's lease outlasts its timeout by this much, so a live dispatcher always records its outcome first. */
const LEASE_MARGIN_MS = 30_000

export function startDispatcher(options: DispatcherOptions): Dispatcher {
  const inFlight = new Set<Promise<void>>()

  // A full fan-out batch may have left more behind: another pass follows at once. A finished attempt frees a slot: so does it.
  async function pass(): Promise<boolean> {
    const more = await fanOutEvents(options.db, options.fanOutBatch) === options.fanOutBatch
    const free = options.concurrency - inFlight.size
    if (free <= 0) return more
    for (const delivery of await claimDue(options.db, free, options.policy.timeoutMs + LEASE_MARGIN_MS)) {
      const sending = send(delivery).finally(() => {
        inFlight.delete(sending)
        loop.wake()
      })
      inFlight.add(sending)
    }
    return more
  }

  async function send(delivery: ClaimedDelivery): Promise<void> {
    try {
      const secret = openWebhookSecret(options.keyring, { ...delivery, id: delivery.webhook_id })
      const message = { id: delivery.event_id, type: delivery.type, occurredAt: delivery.occurred_at, data: delivery.data }
      const outcome = await attempt(delivery.url, secret, message, delivery.attempts, options)
      await recordOutcome(options.db, delivery, outcome)
      options.log.info({ deliveryId: delivery.id, webhookId: delivery.webhook_id, eventId: delivery.event_id, attempt: delivery.attempts,
        status: outcome.status, statusCode: outcome.statusCode }, 'webhook delivery attempt')
    } catch (error) {
      // The lease runs out and the delivery is tried again.
      options.log.error({ err: error, deliveryId: delivery.id }, 'webhook delivery attempt failed in Lanyard')
    }
  }

  const loop = startPassLoop({
    db: options.db, pollMs: options.pollMs, nudgeDelayMs: NUDGE_DELAY_MS, pass,
    onError: (error) => options.log.error({ err: error }, 'webhook dispatcher pass failed')
  })
  return {
    async stop() {
      await loop.stop()
      await Promise.all(inFlight)
    }
  }
}

/**
 * Gives each event not yet fanned out one delivery per receiving webhook, in the transaction that marks it fanned out;
 * answers how many events it fanned out.
 */
async function fanOutEvents(db: Db, limit: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const pairs = await lockUndispatched(trx, limit)
    if (pairs.length === 0) return 0
    const eventIds = [...new Set(pairs.map((pair) => pair.eventId))]
    const deliveries = pairs.flatMap((pair) => pair.webhookId === null ? [] : [{ id: uuidv7(), event_id: pair.eventId, webhook_id: pair.webhookId }])
    await fanOut(trx, eventIds, deliveries)
    return eventIds.length
  })
}
