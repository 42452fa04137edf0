// The cohort figures of `npm run bench`: one issue job over HTTP (rows/s, wall time, Lanyard's RSS, and the latency of
// /health and of single issues while it runs), and webhook deliveries per second to a receiver in a process of its own
// that verifies every signature as an LMS would (standardwebhooks).
import { fork, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import { Webhook } from 'standardwebhooks'
import type { LoadGenerator, LoadResult } from './bench-load.js'
import type { MeasuredLanyard } from './measure-kit.js'

export interface JobFigures {
  rows: number
  /** Rows done per second, from the 202 to the job's end as Lanyard recorded it. */
  rowsPerSecond: number
  wallSeconds: number
  rssBeforeBytes: number
  rssPeakBytes: number
  health: LoadResult
  singleIssue: LoadResult
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface JobView { status: string; succeeded: number; failed: number; total: number; startedAt: string | null; finishedAt: string | null }

async function waitForEnd(lanyard: MeasuredLanyard, id: string): Promise<JobView> {
  for (;;) {
    const job = await (await lanyard.get(`/v1/jobs/${id}`, lanyard.adminHeaders)).json() as JobView
    if (job.finishedAt !== null) return job
    await sleep(250)
  }
}

/**
 * Submits a job of `rows` distinct learners and, while it runs, probes /health (20/s, on `probe`) and single issues
 * (5/s, on `load`) for `probeSeconds` (the caller makes that shorter than the job), sampling this process's RSS: Lanyard
 * runs in it. The body is built before the first RSS sample, so the figure is Lanyard's, not the client's.
 */
export async function measureJob(
  lanyard: MeasuredLanyard, generators: { load: LoadGenerator; probe: LoadGenerator }, rows: number, probeSeconds: number
): Promise<JobFigures> {
  const body = JSON.stringify({
    type: 'issue', achievementId: lanyard.achievementId, format: 'eddsa-rdfc-2022',
    items: Array.from({ length: rows }, (_, i) => ({ recipient: { email: `cohort-job-${i}@example.com`, externalId: `lms-${i}` } }))
  })
  global.gc?.()
  const rssBeforeBytes = process.memoryUsage().rss
  let rssPeakBytes = rssBeforeBytes
  const sampler = setInterval(() => { rssPeakBytes = Math.max(rssPeakBytes, process.memoryUsage().rss) }, 100)
  const started = performance.now()
  const submitted = await fetch(`${lanyard.origin}/v1/jobs`, { method: 'POST', headers: lanyard.adminHeaders, body })
  if (submitted.status !== 202) throw new Error(`POST /v1/jobs answered ${submitted.status}: ${await submitted.text()}`)
  const { id } = await submitted.json() as { id: string }
  const probing = { origin: lanyard.origin, seconds: probeSeconds, connections: 1 }
  const [health, singleIssue, job] = await Promise.all([
    generators.probe.run({ ...probing, method: 'GET', path: '/health', rate: 20 }),
    generators.load.run({
      ...probing, method: 'POST', path: '/v1/credentials', headers: lanyard.adminHeaders, rate: 5,
      body: JSON.stringify({ achievementId: lanyard.achievementId, recipient: { email: 'during-job-{n}@example.com' }, format: 'eddsa-rdfc-2022' })
    }),
    waitForEnd(lanyard, id)
  ])
  const wallSeconds = (performance.now() - started) / 1000
  clearInterval(sampler)
  if (job.status !== 'completed' || job.succeeded !== rows) throw new Error(`the job ended ${job.status} with ${job.succeeded} of ${rows} rows issued`)
  const ranSeconds = (Date.parse(job.finishedAt!) - Date.parse(job.startedAt!)) / 1000
  return { rows, rowsPerSecond: rows / ranSeconds, wallSeconds, rssBeforeBytes, rssPeakBytes, health, singleIssue }
}

export interface WebhookFigures {
  deliveries: number
  /** Deliveries per second, from the first to the last that reached the receiver. */
  perSecond: number
  /** From the issue's reply to the last delivery. */
  drainSeconds: number
}

const RECEIVER_ARG = 'bench-webhook-receiver'

interface ReceiverCount { received: number; verified: number }

/** A webhook receiver in a child process: it verifies each delivery's signature and answers 204, counting both. */
function startReceiver(secret: string): Promise<{ url: string; count(): Promise<ReceiverCount & { firstAt: number; lastAt: number }>; close(): void }> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [RECEIVER_ARG, secret], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((resolve) => child.once('message', (message) => {
    const { port } = message as { port: number }
    resolve({
      url: `http://127.0.0.1:${port}/hook`,
      count: () => new Promise((answer) => {
        child.once('message', (counted) => answer(counted as ReceiverCount & { firstAt: number; lastAt: number }))
        child.send('count')
      }),
      close: () => { child.disconnect() }
    })
  }))
}

/**
 * Subscribes a webhook to credential.issued, issues `count` credentials in batches of up to 1,000, and waits until
 * the receiver has verified every delivery. The secret is known only after the webhook exists, so the receiver starts
 * then and the webhook's URL is pointed at it.
 */
export async function measureWebhooks(lanyard: MeasuredLanyard, count: number): Promise<WebhookFigures> {
  const placeholder = await lanyard.post<{ id: string; secret: string }>('/v1/webhooks', { url: 'http://127.0.0.1:9/unused', events: ['credential.issued'] })
  const receiver = await startReceiver(placeholder.secret)
  const patched = await fetch(`${lanyard.origin}/v1/webhooks/${placeholder.id}`, {
    method: 'PATCH', headers: lanyard.adminHeaders, body: JSON.stringify({ url: receiver.url })
  })
  if (!patched.ok) throw new Error(`PATCH /v1/webhooks answered ${patched.status}: ${await patched.text()}`)
  try {
    for (let issued = 0; issued < count; issued += 1000) {
      const size = Math.min(1000, count - issued)
      await lanyard.post('/v1/credentials/batch', {
        achievementId: lanyard.achievementId, format: 'vc-jwt', jwtAlg: 'EdDSA',
        items: Array.from({ length: size }, (_, i) => ({ recipient: { email: `webhook-${issued + i}@example.com` } }))
      })
    }
    const issuedAt = Date.now()
    for (;;) {
      const counted = await receiver.count()
      if (counted.received > counted.verified) throw new Error(`the receiver could not verify ${counted.received - counted.verified} deliveries`)
      if (counted.verified >= count) {
        return {
          deliveries: counted.verified,
          perSecond: counted.verified / Math.max((counted.lastAt - counted.firstAt) / 1000, 0.001),
          drainSeconds: (counted.lastAt - issuedAt) / 1000
        }
      }
      await sleep(100)
    }
  } finally {
    await fetch(`${lanyard.origin}/v1/webhooks/${placeholder.id}`, { method: 'DELETE', headers: lanyard.adminHeaders })
    receiver.close()
  }
}

if (process.argv[2] === RECEIVER_ARG) {
  const webhook = new Webhook(process.argv[3]!)
  const counted = { received: 0, verified: 0, firstAt: 0, lastAt: 0 }
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      counted.received++
      try {
        webhook.verify(Buffer.concat(chunks).toString(), request.headers as Record<string, string>)
        counted.verified++
        counted.lastAt = Date.now()
        if (counted.firstAt === 0) counted.firstAt = counted.lastAt
        response.writeHead(204).end()
      } catch {
        response.writeHead(400).end()
      }
    })
  })
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }))
  process.on('message', () => process.send!(counted))
  process.on('disconnect', () => process.exit(0))
}
