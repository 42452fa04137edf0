// Test helpers for jobs: submit one, wait for it to end, read every result.
import type { FastifyInstance } from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import { admin } from './app.js'

export const learners = (count: number, cohort = 'a') =>
  Array.from({ length: count }, (_, i) => ({ recipient: { email: `learner${i}.${cohort}@example.com`, externalId: `lms-${cohort}-${i}` } }))

export async function submitJob(app: FastifyInstance, payload: Record<string, unknown>, headers: Record<string, string> = admin) {
  const res = await app.inject({ method: 'POST', url: '/v1/jobs', headers, payload })
  if (res.statusCode !== 202) throw new Error(`submitting a job answered ${res.statusCode}: ${res.body}`)
  return res.json()
}

/** Polls the job until it is no longer queued or running (at most `ms`). */
export async function waitForJob(app: FastifyInstance, id: string, headers: Record<string, string> = admin, ms = 60_000) {
  const until = Date.now() + ms
  for (;;) {
    const job = (await app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers })).json()
    if (job.status !== 'queued' && job.status !== 'running') return job
    if (Date.now() > until) throw new Error(`job ${id} still ${job.status} after ${ms} ms`)
    await sleep(25)
  }
}

/** Every result of a job, following nextCursor. */
export async function allResults(app: FastifyInstance, id: string, query = '', headers: Record<string, string> = admin) {
  const items: { row: number; externalId?: string; credentialId?: string; url?: string; error?: string }[] = []
  let cursor: string | null = null
  do {
    const res: { statusCode: number; body: string; json(): { items: typeof items; nextCursor: string | null } } = await app.inject({ method: 'GET', url: `/v1/jobs/${id}/results?limit=37${query}${cursor === null ? '' : `&cursor=${cursor}`}`, headers })
    if (res.statusCode !== 200) throw new Error(`results answered ${res.statusCode}: ${res.body}`)
    const page = res.json()
    items.push(...page.items)
    cursor = page.nextCursor
  } while (cursor !== null)
  return items
}
