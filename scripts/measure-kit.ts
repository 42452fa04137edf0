// Shared by the measure:* scripts and `npm run bench`: a Lanyard listening on a random port, on PostgreSQL (DATABASE_URL,
// in a throwaway schema) or on in-memory PGlite, with an admin token, an issuer and an achievement ready.
import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { hashToken } from '../src/api-keys/tokens.js'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { createKeyring } from '../src/crypto/keyring.js'
import { issueWriterOf, type IssueWriterStatistics } from '../src/credentials/issue-writer.js'
import { openDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrate.js'

async function throwawaySchema(base: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `lanyard_measure_${randomBytes(4).toString('hex')}`
  const run = async (statement: string) => {
    const client = new pg.Client({ connectionString: base })
    await client.connect()
    await client.query(statement)
    await client.end()
  }
  await run(`create schema ${schema}`)
  const url = new URL(base)
  url.searchParams.set('options', `-c search_path=${schema}`)
  return { url: url.toString(), drop: () => run(`drop schema ${schema} cascade`) }
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!
}

/** Runs `task(n)` for n in 0..count-1 with `concurrency` at a time; returns each call's latency in ms, sorted. */
export async function runConcurrently(count: number, concurrency: number, task: (n: number) => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = []
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const n = next++
      const started = performance.now()
      await task(n)
      latencies.push(performance.now() - started)
    }
  }))
  return latencies.sort((a, b) => a - b)
}

export interface MeasuredLanyard {
  databaseLabel: string
  /** Where it listens, e.g. http://127.0.0.1:41234, and the headers of an admin request: for clients in other processes. */
  origin: string
  adminHeaders: Record<string, string>
  post<T = { id: string }>(path: string, body: unknown): Promise<T>
  get(path: string, headers?: Record<string, string>): Promise<Response>
  /** POSTs a body as is, with its Content-Type (no bearer token: for the public endpoints). */
  raw(path: string, body: BodyInit, contentType: string): Promise<Response>
  achievementId: string
  /** The shape cache's counters, from wherever Lanyard canonicalizes (its proof threads, or in-process). */
  canonicalizationStats: FastifyInstance['canonicalizationStats']
  /** How issue writes went to the database: alone, or grouped with concurrent ones (src/credentials/issue-writer.ts). */
  issueWriterStats(): IssueWriterStatistics
  close(): Promise<void>
}

export async function startMeasuredLanyard(
  env: Record<string, string> = {}, options: { databaseUrl?: string } = { databaseUrl: process.env.DATABASE_URL }
): Promise<MeasuredLanyard> {
  const base = options.databaseUrl
  const schema = base === undefined ? undefined : await throwawaySchema(base)
  const { db } = await openDatabase({ url: schema?.url })
  await migrateToLatest(db)
  const token = randomBytes(24).toString('hex')
  const app = await buildApp({
    config: loadConfig({ LOG_LEVEL: 'silent', PUBLIC_RATE_LIMIT: '1000000', ...env }), db, keyring: createKeyring(randomBytes(32)),
    adminTokenHash: hashToken(token), logger: false
  })
  const origin = await app.listen({ host: '127.0.0.1', port: 0 })
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  async function post<T>(path: string, body: unknown): Promise<T> {
    const res = await fetch(`${origin}${path}`, { method: 'POST', headers, body: JSON.stringify(body) })
    if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`)
    return res.json() as Promise<T>
  }
  const issuer = await post<{ id: string }>('/v1/issuers', { name: 'Measure College', url: 'https://measure.example.edu' })
  const achievement = await post<{ id: string }>(`/v1/issuers/${issuer.id}/achievements`, {
    name: 'Safe Welding', description: 'Welds a butt joint to code.', criteria: { narrative: 'Pass the practical exam.' }, achievementType: 'Certificate'
  })
  return {
    databaseLabel: base === undefined ? 'PGlite (in memory)' : 'PostgreSQL',
    origin,
    adminHeaders: headers,
    post,
    get: (path, extra = {}) => fetch(`${origin}${path}`, { headers: extra }),
    raw: (path, body, contentType) => fetch(`${origin}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body }),
    achievementId: achievement.id,
    canonicalizationStats: () => app.canonicalizationStats(),
    issueWriterStats: () => issueWriterOf(db).statistics(),
    close: async () => {
      await app.close()
      await db.destroy()
      await schema?.drop()
    }
  }
}
