// `npm run profile:issue` / `npm run profile:verify`: where one request's time goes. Lanyard signs in-process (no
// threads, so every CPU sample is on this thread) while the bench's load generator sends requests one after another; the
// V8 CPU profile (what `node --cpu-prof` records) is split by the code each sample ran in, and the database statements
// are counted. Issue: `-- --format vc-jwt` profiles VC-JWT EdDSA instead. Verify (`--verify`): POST /verify of the
// bench's foreign did:key credential. `-- --requests 500` sets how many; `-- --threads 2 --connections 10` loads it.
import { readFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { cpus } from 'node:os'
import pg from 'pg'
import { dataIntegrityFloors } from './bench-floors.js'
import { startLoadGenerator } from './bench-load.js'
import { startMeasuredLanyard } from './measure-kit.js'

const argument = (name: string, fallback: string) => {
  const index = process.argv.indexOf(`--${name}`)
  return index > 0 ? process.argv[index + 1]! : fallback
}
const requests = Number(argument('requests', '300'))
const connections = Number(argument('connections', '1'))
const threads = argument('threads', '0')
const proof = argument('format', 'eddsa-rdfc-2022') === 'vc-jwt' ? { format: 'vc-jwt', jwtAlg: 'EdDSA' } : { format: 'eddsa-rdfc-2022' }

// Counting statements: the pg client is the one place every query passes (PostgreSQL only; PGlite has no client).
let statements = 0
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  statements++
  return query.apply(this, args)
} as typeof pg.Client.prototype.query

const lanyard = await startMeasuredLanyard(
  { LANYARD_SIGNING_THREADS: threads }, { databaseUrl: process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL }
)
const load = startLoadGenerator()
const issueBody = (email: string) => JSON.stringify({ achievementId: lanyard.achievementId, recipient: { email }, ...proof })
const verify = process.argv.includes('--verify')
const request = verify
  ? { path: '/verify', headers: { 'content-type': 'application/json' }, body: JSON.stringify((await dataIntegrityFloors(await issueOne())).signed) }
  : { path: '/v1/credentials', headers: lanyard.adminHeaders, body: issueBody('learner-{n}@example.com') }
const job = (amount: number) => load.run({ origin: lanyard.origin, method: 'POST', connections, seconds: 0, amount, ...request })
await job(100)

/** A credential Lanyard issued: the template of the bench's foreign one. */
async function issueOne(): Promise<Record<string, unknown>> {
  const response = await fetch(`${lanyard.origin}/v1/credentials`, {
    method: 'POST', headers: { ...lanyard.adminHeaders, 'content-type': 'application/json' }, body: issueBody('sample@example.com')
  })
  return ((await response.json()) as { credential: Record<string, unknown> }).credential
}

/** Buckets, first match wins: a sample counts for the code it ran in (self time). */
const BUCKETS: [string, (url: string, name: string) => boolean][] = [
  ['JSON-LD expansion to RDF (jsonld.js)', (url) => /\/jsonld\/|\/jsonld-signatures\/|\/canonicalize\//.test(url)],
  ['RDF canonicalization (rdf-canonize)', (url) => url.includes('/rdf-canonize/')],
  ['proof suite, hashing, Ed25519, JWT', (url) => /data-integrity|eddsa-rdfc|ed25519|@noble|base58|base64url|multiformats|\/jose\//.test(url)],
  ['OB 3.0 schema check (ajv)', (url) => url.includes('/ajv') || url.includes('/src/ob3/')],
  ['database driver (pg, kysely)', (url) => /\/(pg|pg-protocol|pg-pool|kysely|pglite|@electric-sql)\//.test(url)],
  ['HTTP, routing, request validation', (url) => /fastify|find-my-way|avvio|light-my-request|pino|\/zod\/|node:_http|node:http|node:net|node:internal\/(http|stream|net)/.test(url)],
  ['garbage collection', (_url, name) => name === '(garbage collector)'],
  ['Lanyard code', (url) => url.includes('/src/')],
  ['other libraries', (url) => url.includes('/node_modules/')],
  ['Node and V8 internals', (url, name) => url.startsWith('node:') || name === '(program)' || url === '']
]
const IDLE = 'idle: waiting for PostgreSQL and the client'

/** CPU time in ms: the whole machine (from /proc/stat), this process (all its threads), the load generator. */
const CLOCK_TICK_MS = 10
function cpuNow(): { machine: number; lanyard: number; load: number } {
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
  const busy = ticks.reduce((sum, t) => sum + t, 0) - ticks[3]! - ticks[4]!
  const loadStat = readFileSync(`/proc/${load.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  const usage = process.cpuUsage()
  return { machine: busy * CLOCK_TICK_MS, lanyard: (usage.user + usage.system) / 1000, load: (Number(loadStat[11]) + Number(loadStat[12])) * CLOCK_TICK_MS }
}

const session = new Session()
session.connect()
await session.post('Profiler.enable')
await session.post('Profiler.setSamplingInterval', { interval: 100 })
const before = statements
const cpuBefore = cpuNow()
const started = performance.now()
await session.post('Profiler.start')
const result = await job(requests)
const { profile } = await session.post('Profiler.stop')
const wallMs = performance.now() - started
const cpuAfter = cpuNow()
const perRequest = (statements - before) / requests

const byNode = new Map(profile.nodes.map((node) => [node.id, node]))
const totals = new Map<string, number>()
for (const [i, id] of (profile.samples ?? []).entries()) {
  const { url, functionName } = byNode.get(id)!.callFrame
  const bucket = functionName === '(idle)' ? IDLE : BUCKETS.find(([, match]) => match(url, functionName))?.[0] ?? 'Node and V8 internals'
  totals.set(bucket, (totals.get(bucket) ?? 0) + profile.timeDeltas![i]! / 1000)
}
const sampledMs = [...totals.values()].reduce((sum, ms) => sum + ms, 0)
const rows = [...totals.entries()].sort((a, b) => b[1] - a[1])
const what = verify ? 'a foreign eddsa-rdfc-2022 credential' : `${proof.format}${'jwtAlg' in proof ? ` ${proof.jwtAlg}` : ''}`
console.log(`POST ${request.path} (${what}, ${lanyard.databaseLabel}): ` +
  `${requests} requests one after another, ${(wallMs / requests).toFixed(2)} ms each (p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms)` +
  (lanyard.databaseLabel === 'PostgreSQL' ? `, ${perRequest.toFixed(1)} database statements each` : ''))
const cpu = (key: keyof ReturnType<typeof cpuNow>) => (cpuAfter[key] - cpuBefore[key]) / requests
console.log(`CPU per request, whole machine (${cpus().length} cores): ${cpu('machine').toFixed(2)} ms = Lanyard ${cpu('lanyard').toFixed(2)} ms ` +
  `(all threads) + load generator ${cpu('load').toFixed(2)} ms + PostgreSQL and the rest ${(cpu('machine') - cpu('lanyard') - cpu('load')).toFixed(2)} ms`)
console.log('Lanyard\'s main thread, by where its CPU samples fell (self time per request):')
const width = Math.max(...rows.map(([name]) => name.length))
for (const [name, ms] of rows) {
  console.log(`  ${name.padEnd(width)}  ${(ms / requests).toFixed(3).padStart(7)} ms  ${(100 * ms / sampledMs).toFixed(1).padStart(5)} %`)
}
if (process.argv.includes('--top')) {
  const self = new Map<string, number>()
  for (const [i, id] of (profile.samples ?? []).entries()) {
    const { url, functionName, lineNumber } = byNode.get(id)!.callFrame
    const key = `${functionName} ${url.replace(/.*node_modules\//, '')}:${lineNumber}`
    self.set(key, (self.get(key) ?? 0) + profile.timeDeltas![i]! / 1000)
  }
  for (const [key, ms] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${(ms / requests).toFixed(3)} ms  ${key}`)
}
load.close()
session.disconnect()
await lanyard.close()
