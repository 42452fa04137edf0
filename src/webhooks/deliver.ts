// One delivery attempt: the event as a Standard Webhooks message, signed, POSTed through the SSRF guard, and what came of it.
import { Webhook } from 'standardwebhooks'
import { guardedPost, type FetchPolicy, type FetchRefusedError } from '../http/guarded-fetch.js'
import type { AttemptOutcome } from './store.js'

/** What is sent: the message id (the event's, the same on every retry and to every webhook: receivers de-duplicate by it). */
export interface Message {
  id: string
  type: string
  occurredAt: Date
  data: Record<string, unknown>
}

/** The start of a reply body kept with an attempt: enough to see why a receiver refused, never the whole of it. */
export const EXCERPT_BYTES = 200

export interface AttemptSettings {
  policy: FetchPolicy
  /** The waits before each retry (LANYARD_WEBHOOK_RETRY_DELAYS_MS). */
  retryDelaysMs: readonly number[]
}

/** The request body, and the headers that sign it (webhook-timestamp is this attempt's time, as the specification says). */
export function signedMessage(secret: string, message: Message, now: Date): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({ type: message.type, timestamp: message.occurredAt.toISOString(), data: message.data })
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'user-agent': 'Lanyard-Webhooks/1',
      'webhook-id': message.id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(message.id, now, body)
    }
  }
}

/** PostgreSQL text holds no NUL: a reply body with one would make the attempt unrecordable, and the delivery retried forever. */
function storable(excerpt: string): string {
  return excerpt.replaceAll('\u0000', '\uFFFD')
}

/**
 * Sends attempt number `attempt` and says what came of it (when, how long, the answer) and what the delivery becomes:
 * delivered on a 2xx, else retried or, after the last, failed.
 */
export async function attempt(url: string, secret: string, message: Message, attemptNumber: number, settings: AttemptSettings): Promise<AttemptOutcome> {
  const now = new Date()
  const started = performance.now()
  const { body, headers } = signedMessage(secret, message, now)
  const timing = () => ({ startedAt: now, durationMs: Math.round(performance.now() - started) })
  let statusCode: number | null = null
  let responseExcerpt: string | null = null
  let error: string
  try {
    const reply = await guardedPost(url, { body, headers, policy: settings.policy, excerptBytes: EXCERPT_BYTES })
    statusCode = reply.status
    responseExcerpt = reply.excerpt === '' ? null : storable(reply.excerpt)
    if (reply.status >= 200 && reply.status < 300) return { status: 'delivered', nextAttemptAt: null, statusCode, error: null, responseExcerpt, ...timing() }
    error = reply.status >= 300 && reply.status < 400
      ? `HTTP ${reply.status}: redirects are not followed; subscribe the final URL`
      : `HTTP ${reply.status}${responseExcerpt === null ? '' : `: ${responseExcerpt}`}`
  } catch (refusal) {
    // guardedPost says every failure (address, timeout, network) as a FetchRefusedError written for a person.
    error = (refusal as FetchRefusedError).message
  }
  const delay = settings.retryDelaysMs[attemptNumber - 1]
  return delay === undefined
    ? { status: 'failed', nextAttemptAt: null, statusCode, error, responseExcerpt, ...timing() }
    : { status: 'pending', nextAttemptAt: new Date(now.getTime() + delay), statusCode, error, responseExcerpt, ...timing() }
}
