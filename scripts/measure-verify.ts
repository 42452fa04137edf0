// `npm run measure:verify`: verifications per second over HTTP (POST /verify, 8 concurrent) of Lanyard's own credentials
// in each format, and of one baked into a PNG (which `npm run bench` does not send). A measurement, not a test: figures
// on a shared VM move ±30 % between runs.
import { deflateSync } from 'node:zlib'
import { bakePng } from '../src/baking/bake.js'
import { encodePng } from '../src/baking/png-chunks.js'
import { percentile, runConcurrently, startMeasuredLanyard } from './measure-kit.js'

const CONCURRENCY = 8
const COUNT = 200

const FORMATS = [
  { format: 'eddsa-rdfc-2022' }, { format: 'Ed25519Signature2020' },
  { format: 'vc-jwt', jwtAlg: 'RS256' }, { format: 'vc-jwt', jwtAlg: 'ES256' }, { format: 'vc-jwt', jwtAlg: 'EdDSA' }
]

/** A 1×1 PNG with the credential baked in, by the same code that serves /credentials/:id/badge.png. */
function bakedPng(text: string): Buffer {
  const image = encodePng([
    { type: 'IHDR', data: Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0) },
    { type: 'IDAT', data: deflateSync(Uint8Array.of(0, 0)) },
    { type: 'IEND', data: new Uint8Array(0) }
  ])
  return bakePng(image, text)
}

const lanyard = await startMeasuredLanyard()
console.log(`database: ${lanyard.databaseLabel}; POST /verify, ${CONCURRENCY} concurrent, ${COUNT} verifications per row`)

async function measure(label: string, bodies: { body: BodyInit; type: string }[]) {
  const started = performance.now()
  const latencies = await runConcurrently(bodies.length, CONCURRENCY, async (n) => {
    const res = await lanyard.raw('/verify', bodies[n]!.body, bodies[n]!.type)
    const report = await res.json() as { verified: boolean }
    if (!report.verified) throw new Error(`${label}: a credential did not verify: ${JSON.stringify(report)}`)
  })
  const seconds = (performance.now() - started) / 1000
  console.log(`${label.padEnd(28)} ${(bodies.length / seconds).toFixed(0).padStart(5)}/s  (p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms)`)
}

type Issued = { credentials: { credential: object; jwt?: string }[] }
for (const variant of FORMATS) {
  const { credentials } = await lanyard.post<Issued>('/v1/credentials/batch', {
    achievementId: lanyard.achievementId, ...variant,
    items: Array.from({ length: COUNT }, (_, i) => ({ recipient: { email: `learner${i}@example.com` } }))
  })
  const bodies = credentials.map((c) => c.jwt === undefined
    ? { body: JSON.stringify(c.credential), type: 'application/json' }
    : { body: c.jwt, type: 'application/vc+jwt' })
  await measure(`${variant.format}${variant.jwtAlg ? ` ${variant.jwtAlg}` : ''}`, bodies)
  if (variant.format === 'eddsa-rdfc-2022') {
    await measure('baked PNG (eddsa-rdfc-2022)', credentials.map((c) => ({ body: new Uint8Array(bakedPng(JSON.stringify(c.credential))), type: 'image/png' })))
  }
}
await lanyard.close()
