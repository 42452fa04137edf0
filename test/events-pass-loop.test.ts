// The schedule of the outbox's readers: one pass at a time, nudged after commits, again when a pass asks, polled otherwise;
// a pass that throws is reported and the loop goes on.
import t from 'tap'
import { eventsCommitted } from '../src/events/notify.js'
import { startPassLoop } from '../src/events/pass-loop.js'
import { startDispatcher } from '../src/webhooks/dispatcher.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

t.test('a nudge after a commit runs a pass soon; a pass that asks for more is followed by another; a wake during a pass runs one after it', async (t) => {
  const db = {} as never
  let passes = 0
  let concurrent = 0
  let most = 0
  const loop = startPassLoop({
    db, pollMs: 60_000, nudgeDelayMs: 5,
    pass: async () => {
      passes++
      most = Math.max(most, ++concurrent)
      await sleep(10)
      concurrent--
      return passes === 2
    },
    onError: () => t.fail('no pass throws')
  })
  t.teardown(() => loop.stop())
  await sleep(30)
  t.equal(passes, 1, 'one pass at start, then none until nudged (the poll is a minute away)')
  eventsCommitted(db)
  eventsCommitted(db)
  await sleep(60)
  t.equal(passes, 3, 'two nudges gathered into one pass, which asked for the one after it')
  loop.wake()
  loop.wake()
  await sleep(60)
  t.equal(passes, 5, 'a wake during a pass runs one more after it')
  t.equal(most, 1, 'never two at once')
})

t.test('a pass that throws is reported, and the loop goes on at its next poll; stopped, it runs no more', async (t) => {
  const errors: unknown[] = []
  let passes = 0
  const loop = startPassLoop({
    db: {} as never, pollMs: 10, nudgeDelayMs: 5,
    pass: async () => {
      passes++
      if (passes === 1) throw new Error('database away')
      return false
    },
    onError: (error) => errors.push(error)
  })
  await sleep(50)
  await loop.stop()
  t.match(errors, [{ message: 'database away' }])
  t.ok(passes >= 2, 'polled again after the failure')
  const stoppedAt = passes
  loop.wake()
  await sleep(30)
  t.equal(passes, stoppedAt)
})

t.test('stop waits for the pass in hand and schedules none after it', async (t) => {
  let passes = 0
  const loop = startPassLoop({
    db: {} as never, pollMs: 5, nudgeDelayMs: 5,
    pass: async () => {
      passes++
      await sleep(20)
      return true
    },
    onError: () => t.fail('no pass throws')
  })
  await loop.stop()
  await sleep(30)
  t.equal(passes, 1, 'the pass that asked for another got none')
})

t.test('the webhook dispatcher reports a pass that fails (the database is away) and keeps polling', async (t) => {
  const logged: string[] = []
  const log = { error: (_: unknown, message: string) => logged.push(message), info() {}, child() { return log } }
  const dispatcher = startDispatcher({
    db: { transaction() { throw new Error('connection refused') } } as never, keyring: {} as never, log: log as never,
    pollMs: 10, concurrency: 1, fanOutBatch: 10, policy: { allowPrivate: false, timeoutMs: 100 } as never, retryDelaysMs: []
  })
  await sleep(40)
  await dispatcher.stop()
  t.ok(logged.length >= 2, 'every pass reported, the loop still polling')
  t.ok(logged.every((message) => message === 'webhook dispatcher pass failed'))
})
