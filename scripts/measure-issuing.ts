// `npm run measure:issuing`: credentials per second for single and batch issue over real HTTP, in each format.
// A measurement, not a test: run it on an idle machine; figures on a shared VM move ±30 % between runs.
// DATABASE_URL=postgres://… measures PostgreSQL (in a throwaway schema); without it, embedded PGlite in memory.
import { percentile, runConcurrently, startMeasuredLanyard } from './measure-kit.js'

const CONCURRENCY = 8
const VARIANTS = [
  { format: 'eddsa-rdfc-2022', singles: 200 },
  { format: 'Ed25519Signature2020', singles: 200 },
  { format: 'vc-jwt', jwtAlg: 'RS256', singles: 1000 },
  { format: 'vc-jwt', jwtAlg: 'ES256', singles: 1000 },
  { format: 'vc-jwt', jwtAlg: 'EdDSA', singles: 1000 }
] as const
const BATCH_SIZE = 1000

const lanyard = await startMeasuredLanyard()
const { achievementId } = lanyard

console.log(`database: ${lanyard.databaseLabel}; ${CONCURRENCY} concurrent clients for single issue`)
console.log('format                 | single: credentials/s | p50 ms | p99 ms | batch of 1000: credentials/s')
console.log('-----------------------|-----------------------|--------|--------|-----------------------------')
for (const variant of VARIANTS) {
  const proof = { format: variant.format, ...('jwtAlg' in variant ? { jwtAlg: variant.jwtAlg } : {}) }
  // Warm up: first use compiles the schema, loads contexts, and makes RSA / P-256 keys.
  await lanyard.post('/v1/credentials', { achievementId, recipient: { email: 'warm@example.com' }, ...proof })

  const started = performance.now()
  const latencies = await runConcurrently(variant.singles, CONCURRENCY, (n) =>
    lanyard.post('/v1/credentials', { achievementId, recipient: { email: `learner${n}@example.com` }, ...proof }))
  const singleRate = variant.singles / ((performance.now() - started) / 1000)

  const items = Array.from({ length: BATCH_SIZE }, (_, i) => ({ recipient: { email: `cohort${i}@example.com` } }))
  const batchStarted = performance.now()
  await lanyard.post('/v1/credentials/batch', { achievementId, ...proof, items })
  const batchRate = BATCH_SIZE / ((performance.now() - batchStarted) / 1000)

  const name = 'jwtAlg' in variant ? `${variant.format} ${variant.jwtAlg}` : variant.format
  console.log(`${name.padEnd(22)} | ${singleRate.toFixed(0).padStart(21)} | ${percentile(latencies, 0.5).toFixed(1).padStart(6)} | ` +
    `${percentile(latencies, 0.99).toFixed(1).padStart(6)} | ${batchRate.toFixed(0).padStart(27)}`)
}
await lanyard.close()
