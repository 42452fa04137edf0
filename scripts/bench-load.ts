// The load generator of `npm run bench`: autocannon in a child process of its own, so its CPU is not Lanyard's event loop.
// The bench sends it one job at a time over IPC and gets back requests/s and latency percentiles.
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'

export interface LoadJob {
  origin: string
  method: 'GET' | 'POST'
  /** In path and body, `{n}` becomes a number no other request of this load generator got, and `{v}` the next of `values`. */
  path: string
  body?: string
  headers?: Record<string, string>
  values?: string[]
  /** Each value once (ids to revoke): the run also ends when they run out. */
  valuesOnce?: boolean
  connections: number
  /** The time window; a run over `amount` requests has none. */
  seconds: number
  /** A fixed number of requests instead of a time window (batches). */
  amount?: number
  timeoutSeconds?: number
  /** Requests per second over all connections (a probe, not a load); absent: as fast as answers come. */
  rate?: number
}

export interface LoadResult {
  /** 2xx responses per second, from the first request to the last 2xx response. */
  perSecond: number
  ok: number
  /** Non-2xx responses, connection errors and timeouts. */
  failed: number
  p50Ms: number
  p99Ms: number
  /** How many of `values` were used (sent, or about to be): the caller skips them next time. */
  taken: number
}

export interface LoadGenerator {
  /** The load generator's process, to tell its CPU time from Lanyard's. */
  pid: number
  run(job: LoadJob): Promise<LoadResult>
  close(): void
}

const CHILD_ARG = 'bench-load-generator'

/** Forks this module as the load generator; it runs one job at a time. */
export function startLoadGenerator(): LoadGenerator {
  // Inherits this process's execArgv, so the child loads TypeScript the way the bench itself does (tsx).
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [CHILD_ARG], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return {
    pid: child.pid!,
    run: (job) => new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the load generator exited (${code})`))
      child.once('exit', onExit)
      child.once('message', (message) => {
        child.off('exit', onExit)
        const answer = message as { result?: LoadResult; error?: string }
        if (answer.result === undefined) reject(new Error(`load generator: ${answer.error}`))
        else resolve(answer.result)
      })
      child.send(job)
    }),
    close: () => { child.disconnect() }
  }
}

let unique = 0

function runJob(job: LoadJob): Promise<LoadResult> {
  const values = job.values
  let cursor = 0
  const amount = job.valuesOnce ? values!.length : job.amount
  let ok = 0
  let lastOk = 0
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const instance = autocannon({
      url: job.origin,
      connections: Math.min(job.connections, amount ?? Infinity),
      ...(amount === undefined ? { duration: job.seconds } : { amount }),
      timeout: job.timeoutSeconds ?? 10,
      ...(job.rate !== undefined && { overallRate: job.rate }),
      // autocannon ends a run on its next sample tick: every 0.1 s, not every 1 s.
      sampleInt: 100,
      requests: [{
        method: job.method,
        headers: job.headers ?? {},
        setupRequest: (request) => {
          const n = String(unique++)
          const v = values === undefined ? '' : values[cursor++ % values.length]!
          // {n} first: a value (a credential) is put in as it is.
          const fill = (template: string) => template.replaceAll('{n}', n).replaceAll('{v}', () => v)
          return { ...request, path: fill(job.path), ...(job.body === undefined ? {} : { body: fill(job.body) }) }
        }
      }]
    }, (error, result) => {
      clearTimeout(timer)
      if (error) return reject(error instanceof Error ? error : new Error(String(error)))
      const seconds = (lastOk - started) / 1000
      resolve({
        perSecond: seconds > 0 ? ok / seconds : 0,
        ok,
        failed: result.non2xx + result.errors,
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        taken: Math.min(cursor, values?.length ?? 0)
      })
    })
    // Ids to use once bound the run by their number; the window still bounds it in time.
    const timer = job.valuesOnce ? setTimeout(() => instance.stop(), job.seconds * 1000) : undefined
    instance.on('response', (_client, status) => {
      if (status < 200 || status > 299) return
      ok++
      lastOk = performance.now()
    })
  })
}

if (process.argv[2] === CHILD_ARG) {
  process.on('disconnect', () => process.exit(0))
  process.on('message', (job: LoadJob) => {
    runJob(job).then(
      (result) => process.send!({ result }),
      (error: Error) => process.send!({ error: error.message })
    )
  })
}
