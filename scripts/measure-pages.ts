// `npm run measure:pages`: server time to render a badge page (which verifies the badge live) and to bake its PNG and
// SVG, and how much bigger a baked PNG is than its source image. MEASURE_CONCURRENCY (default 8) sets the load; 1 gives
// the server time of one request. A measurement, not a test: figures on a shared VM move ±30 % between runs.
import { deflateSync } from 'node:zlib'
import { encodePng } from '../src/baking/png-chunks.js'
import { percentile, runConcurrently, startMeasuredLanyard } from './measure-kit.js'

const COUNT = 200
const CONCURRENCY = Number(process.env.MEASURE_CONCURRENCY ?? 8)

/** A 256×256 RGB gradient: about the size and entropy of a small badge image. */
function gradientPng(size = 256): Buffer {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(size, 0)
  ihdr.writeUInt32BE(size, 4)
  ihdr.set([8, 2, 0, 0, 0], 8)
  const rows = Array.from({ length: size }, (_, y) => Buffer.from([0, ...Array.from({ length: size }, (_, x) => [x, y, (x * y) % 256]).flat()]))
  return encodePng([{ type: 'IHDR', data: ihdr }, { type: 'IDAT', data: deflateSync(Buffer.concat(rows)) }, { type: 'IEND', data: new Uint8Array(0) }])
}

const png = gradientPng()
const lanyard = await startMeasuredLanyard()
const achievement = await lanyard.post('/v1/issuers/' + (await lanyard.post<{ id: string }>('/v1/issuers', { name: 'Page College', url: 'https://page.example.edu' })).id + '/achievements', {
  name: 'Safe Welding', description: 'Welds a butt joint to code.', criteria: { narrative: 'Pass the practical exam.' },
  image: { id: `data:image/png;base64,${png.toString('base64')}` }
})
type Issued = { credentials: { id: string; credential: object; jwt?: string }[] }
const { credentials } = await lanyard.post<Issued>('/v1/credentials/batch', {
  achievementId: achievement.id, items: Array.from({ length: COUNT }, (_, i) => ({ recipient: { email: `l${i}@example.com`, name: `Learner ${i}` } }))
})
console.log(`database: ${lanyard.databaseLabel}; ${COUNT} requests per row, ${CONCURRENCY} concurrent`)

for (const [label, path, accept] of [
  ['badge page (text/html, live verify)', '', 'text/html'],
  ['badge.png (bake)', '/badge.png', 'image/png'],
  ['badge.svg (bake)', '/badge.svg', 'image/svg+xml']
] as const) {
  const started = performance.now()
  const latencies = await runConcurrently(COUNT, CONCURRENCY, async (n) => {
    const res = await lanyard.get(`/credentials/${credentials[n]!.id}${path}`, { accept })
    if (!res.ok) throw new Error(`${path} answered ${res.status}`)
    await res.arrayBuffer()
  })
  console.log(`${label.padEnd(36)} ${(COUNT / ((performance.now() - started) / 1000)).toFixed(0).padStart(5)}/s  (p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms)`)
}

const baked = Buffer.from(await (await lanyard.get(`/credentials/${credentials[0]!.id}/badge.png`)).arrayBuffer())
const credentialBytes = Buffer.byteLength(JSON.stringify(credentials[0]!.credential))
console.log(`baked PNG: ${baked.length} bytes from a ${png.length}-byte image and a ${credentialBytes}-byte credential ` +
  `(+${baked.length - png.length} bytes, ${((baked.length / png.length - 1) * 100).toFixed(1)} % larger)`)
await lanyard.close()
