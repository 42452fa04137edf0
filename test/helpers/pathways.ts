// Test helpers for pathways: define a stack, issue its badges, wait for the award that follows by itself.
import type { FastifyInstance } from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Kysely } from 'kysely'
import type { Database } from '../../src/db/schema.js'
import { hasEventsAfterCursor } from '../../src/events/store.js'
import { admin } from './app.js'

type Json = Record<string, any>
type Headers = Record<string, string>

export async function createPathway(app: FastifyInstance, issuerId: string, body: Json, headers: Headers = admin) {
  const res = await app.inject({ method: 'POST', url: `/v1/issuers/${issuerId}/pathways`, headers, payload: { name: 'Data-Informed Educator', ...body } })
  if (res.statusCode !== 201) throw new Error(`creating a pathway answered ${res.statusCode}: ${res.body}`)
  return res.json()
}

export async function issue(app: FastifyInstance, achievementId: string, recipient: Json, extra: Json = {}, headers: Headers = admin) {
  const res = await app.inject({ method: 'POST', url: '/v1/credentials', headers, payload: { achievementId, recipient, ...extra } })
  if (res.statusCode !== 201) throw new Error(`issuing answered ${res.statusCode}: ${res.body}`)
  return res.json()
}

export async function progressOf(app: FastifyInstance, pathwayId: string, query: string, headers: Headers = admin) {
  const res = await app.inject({ method: 'GET', url: `/v1/pathways/${pathwayId}/progress?${query}`, headers })
  if (res.statusCode !== 200) throw new Error(`progress answered ${res.statusCode}: ${res.body}`)
  return res.json()
}

/** Polls progress until the award is there (at most `ms`); answers the progress and how long it took. */
export async function awaitAward(app: FastifyInstance, pathwayId: string, query: string, ms = 10_000) {
  const started = Date.now()
  for (;;) {
    const progress = await progressOf(app, pathwayId, query)
    if (progress.award !== null) return { progress, ms: Date.now() - started }
    if (Date.now() - started > ms) throw new Error(`no award after ${ms} ms: ${JSON.stringify(progress)}`)
    await sleep(10)
  }
}

/**
 * Waits until the pathway subscriber has read every committed event and holds no lease: whatever those events were to
 * award is awarded by then (for tests asserting that nothing came, or that it came once).
 */
export async function settled(db: Kysely<Database>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms
  for (;;) {
    const cursor = await db.selectFrom('event_cursors').select('leased_until').where('consumer', '=', 'pathways').executeTakeFirstOrThrow()
    if (cursor.leased_until === null && !await hasEventsAfterCursor(db, 'pathways')) return
    if (Date.now() > until) throw new Error(`the pathway subscriber did not catch up in ${ms} ms`)
    await sleep(10)
  }
}
