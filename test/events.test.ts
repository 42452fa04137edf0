import t from 'tap'
import { Kysely } from 'kysely'
import type { Database } from '../src/db/schema.js'
import { eventsCommitted, onEventsCommitted } from '../src/events/notify.js'

// A handle is only a key here: nothing is queried.
const handle = () => ({}) as Kysely<Database>

t.test('a commit nudges the listeners of its own database only, until they stop', async (t) => {
  const [one, other] = [handle(), handle()]
  const heard: string[] = []
  const stop = onEventsCommitted(one, () => heard.push('one'))
  onEventsCommitted(other, () => heard.push('other'))
  eventsCommitted(one)
  t.same(heard, ['one'])
  stop()
  eventsCommitted(one)
  t.same(heard, ['one'])
})

t.test('a commit on a database nobody listens to is no one\'s business', async (t) => {
  t.doesNotThrow(() => eventsCommitted(handle()))
})
