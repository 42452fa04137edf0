// `npm run measure:issuing`: credentials per second for single and batch issue over real HTTP, in each format.
// A measurement, not a test: run it on an idle machine; figures on a shared VM move ±30 % between runs.
// DATABASE_URL=postgres://… measures PostgreSQL (in a throwaway schema); without it, embedded PGlite in memory.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { hashToken } from '../src/api-keys/tokens.js'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { createKeyring } from '../src/crypto/keyring.js'
import { openDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrate.js'

const CONCURRENCY = 8
const VARIANTS = [
  { format: 'eddsa-rdfc-2022', singles: 200 },
  { format: 'Ed25519Signature2020', singles: 200 },
  { format: 'vc-jwt', jwtAlg: 'RS256', singles: 1000 },
  { format: 'vc-jwt', jwtAlg: 'ES256', singles: 1000 },
  { format: 'vc-jwt', jwtAlg: 'EdDSA', singles: 1000 }
] as const
const BATCH_SIZE = 1000

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

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!
}

const base = process.env.DATABASE_URL
const schema = base === undefined ? undefined : await throwawaySchema(base)
const { db } = await openDatabase({ url: schema?.url })
await migrateToLatest(db)
const token = randomBytes(24).toString('hex')
const app = await buildApp({
  config: loadConfig({ LOG_LEVEL: 'silent', PUBLIC_RATE_LIMIT: '1000000' }), db, keyring: createKeyring(randomBytes(32)),
  adminTokenHash: hashToken(token), logger: false
})
const origin = await app.listen({ host: '127.0.0.1', port: 0 })
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }

async function post(path: string, body: unknown): Promise<{ id: string }> {
  const res = await fetch(`${origin}${path}`, { method: 'POST', headers, body: JSON.stringify(body) })
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`)
  return res.json() as Promise<{ id: string }>
}

const issuer = await post('/v1/issuers', { name: 'Measure College', url: 'https://measure.example.edu' })
const achievement = await post(`/v1/issuers/${issuer.id}/achievements`, {
  name: 'Safe Welding', description: 'Welds a butt joint to code.', criteria: { narrative: 'Pass the practical exam.' }, achievementType: 'Certificate'
})

console.log(`database: ${base === undefined ? 'PGlite (in memory)' : 'PostgreSQL'}; ${CONCURRENCY} concurrent clients for single issue`)
console.log('format                 | single: credentials/s | p50 ms | p99 ms | batch of 1000: credentials/s')
console.log('-----------------------|-----------------------|--------|--------|-----------------------------')
for (const variant of VARIANTS) {
  const proof = { format: variant.format, ...('jwtAlg' in variant ? { jwtAlg: variant.jwtAlg } : {}) }
  // Warm up: first use compiles the schema, loads contexts, and makes RSA / P-256 keys.
  await post('/v1/credentials', { achievementId: achievement.id, recipient: { email: 'warm@example.com' }, ...proof })

  const latencies: number[] = []
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < variant.singles) {
      const n = next++
      const t0 = performance.now()
      await post('/v1/credentials', { achievementId: achievement.id, recipient: { email: `learner${n}@example.com` }, ...proof })
      latencies.push(performance.now() - t0)
    }
  }))
  const singleRate = variant.singles / ((performance.now() - started) / 1000)
  latencies.sort((a, b) => a - b)

  const items = Array.from({ length: BATCH_SIZE }, (_, i) => ({ recipient: { email: `cohort${i}@example.com` } }))
  const batchStarted = performance.now()
  await post('/v1/credentials/batch', { achievementId: achievement.id, ...proof, items })
  const batchRate = BATCH_SIZE / ((performance.now() - batchStarted) / 1000)

  const name = 'jwtAlg' in variant ? `${variant.format} ${variant.jwtAlg}` : variant.format
  console.log(`${name.padEnd(22)} | ${singleRate.toFixed(0).padStart(21)} | ${percentile(latencies, 0.5).toFixed(1).padStart(6)} | ` +
    `${percentile(latencies, 0.99).toFixed(1).padStart(6)} | ${batchRate.toFixed(0).padStart(27)}`)
}

await app.close()
await db.destroy()
await schema?.drop()
