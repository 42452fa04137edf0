// In-process nudges after a commit that appended events: subscribers in this process look at once instead of at their
// next poll. Only a hint: another instance's events are found by polling, and a lost nudge delays, never loses, an event.
import type { Db } from '../db/schema.js'

const listeners = new WeakMap<Db, Set<() => void>>()

/** Calls `listener` whenever events appended through `db` have committed; returns the function that stops it. */
export function onEventsCommitted(db: Db, listener: () => void): () => void {
  let set = listeners.get(db)
  if (set === undefined) listeners.set(db, set = new Set())
  set.add(listener)
  return () => set.delete(listener)
}

/** Says that a commit through `db` appended events. */
export function eventsCommitted(db: Db): void {
  for (const listener of listeners.get(db) ?? []) listener()
}
