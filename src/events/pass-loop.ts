// The schedule of a reader of the outbox in this process: one pass at a time, run soon after a commit here appends
// events (nudges gathered for a moment, so a stream of commits makes one pass), right after a pass that asks for
// another, and otherwise every so often, for other instances' events.
import type { Db } from '../db/schema.js'
import { onEventsCommitted } from './notify.js'

export interface PassLoopOptions {
  db: Db
  /** One pass; resolves true when another should follow at once (it read a full batch, say). */
  pass(): Promise<boolean>
  /** A pass that threw: the loop goes on at its next poll. */
  onError(error: unknown): void
  /** How often a pass runs when nothing nudges. */
  pollMs: number
  /** How long nudges are gathered before the pass they ask for. */
  nudgeDelayMs: number
}

export interface PassLoop {
  /** Runs a pass now, or right after the one in hand. */
  wake(): void
  /** Stops scheduling and waits for the pass in hand. */
  stop(): Promise<void>
}

export function startPassLoop(options: PassLoopOptions): PassLoop {
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let again = false

  const wake = () => {
    if (stopped) return
    if (running !== undefined) {
      again = true
      return
    }
    clearTimeout(timer)
    running = options.pass().then((more) => {
      if (more) again = true
    }, options.onError).finally(() => {
      running = undefined
      if (stopped) return
      if (again) {
        again = false
        setImmediate(wake)
      } else {
        timer = setTimeout(wake, options.pollMs).unref()
      }
    })
  }

  let nudged = false
  const unsubscribe = onEventsCommitted(options.db, () => {
    if (nudged) return
    nudged = true
    setTimeout(() => {
      nudged = false
      wake()
    }, options.nudgeDelayMs).unref()
  })
  wake()
  return {
    wake,
    async stop() {
      stopped = true
      unsubscribe()
      clearTimeout(timer)
      await running
    }
  }
}
