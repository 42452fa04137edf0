// `npm run measure:revocation`: revocations per second (single, concurrent; and bulk), and the time to serve a
// 131,072-entry status list cold (re-signed after a change) and cached. A measurement, not a test: figures on a shared
// VM move ±30 % between runs.
import { percentile, runConcurrently, startMeasuredLanyard } from './measure-kit.js'

const CONCURRENCY = 8
const SINGLES = 500
const BULK = 1000

const lanyard = await startMeasuredLanyard()
type Issued = { credentials: { id: string; credential: { credentialStatus: { statusListCredential: string } } }[] }
const issue = async (count: number) => (await lanyard.post<Issued>('/v1/credentials/batch', {
  achievementId: lanyard.achievementId, format: 'vc-jwt', jwtAlg: 'EdDSA',
  items: Array.from({ length: count }, (_, i) => ({ recipient: { did: `did:example:${i}` } }))
})).credentials

console.log(`database: ${lanyard.databaseLabel}; status lists of 131,072 entries`)
const singles = [...await issue(SINGLES / 2), ...await issue(SINGLES / 2)]
const started = performance.now()
const latencies = await runConcurrently(singles.length, CONCURRENCY, (n) => lanyard.post(`/v1/credentials/${singles[n]!.id}/revoke`, { reason: 'measure' }))
console.log(`single revoke, ${CONCURRENCY} concurrent: ${(singles.length / ((performance.now() - started) / 1000)).toFixed(0)}/s ` +
  `(p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms)`)

const bulk = await issue(BULK)
const bulkStarted = performance.now()
await lanyard.post('/v1/credentials/revoke', { ids: bulk.map((c) => c.id), reason: 'measure' })
console.log(`bulk revoke of ${BULK}: ${(BULK / ((performance.now() - bulkStarted) / 1000)).toFixed(0)}/s`)

const listPath = new URL(bulk[0]!.credential.credentialStatus.statusListCredential).pathname
const timed = async (headers: Record<string, string> = {}) => {
  const t0 = performance.now()
  const res = await lanyard.get(listPath, headers)
  await res.arrayBuffer()
  return { ms: performance.now() - t0, etag: res.headers.get('etag') ?? '', status: res.status }
}
const cold = await timed()
const cached: number[] = []
for (let i = 0; i < 50; i++) cached.push((await timed()).ms)
const notModified: number[] = []
for (let i = 0; i < 50; i++) notModified.push((await timed({ 'if-none-match': cold.etag })).ms)
cached.sort((a, b) => a - b)
notModified.sort((a, b) => a - b)
console.log(`GET /status/:listId (131,072 entries): cold ${cold.ms.toFixed(1)} ms (signs the changed list), ` +
  `cached median ${percentile(cached, 0.5).toFixed(2)} ms, 304 median ${percentile(notModified, 0.5).toFixed(2)} ms`)
await lanyard.close()
