// Long loops over a batch, cut into slices with a yield to the event loop between them: a batch of 1000 credentials
// must not stall every other request (the /health probe, single issues) for the whole of its synchronous work.
import { Readable } from 'node:stream'
import { setImmediate } from 'node:timers/promises'

/**
 * `items.map(fn)`, `slice` items at a time, each slice started after a yield; `fn` may be async (a slice's calls run
 * together and are awaited). The default slice is ~1–5 ms of work for the loops Lanyard slices (building, schema checks, views).
 */
export async function mapInSlices<T, R>(items: readonly T[], fn: (item: T, index: number) => R | Promise<R>, slice = 50): Promise<R[]> {
  const results: R[] = []
  for (let start = 0; start < items.length; start += slice) {
    if (start > 0) await setImmediate()
    results.push(...await Promise.all(items.slice(start, start + slice).map((item, offset) => fn(item, start + offset))))
  }
  return results
}

/**
 * `{"<key>":[…items]}` as a stream of JSON text, `slice` items per chunk with a yield between chunks: a reply of 1000
 * signed credentials (megabytes) is never serialized in one go.
 */
export function jsonArrayStream(key: string, items: readonly unknown[], slice = 50): Readable {
  return Readable.from((async function* () {
    yield `{${JSON.stringify(key)}:[`
    for (let start = 0; start < items.length; start += slice) {
      if (start > 0) await setImmediate()
      yield `${start > 0 ? ',' : ''}${items.slice(start, start + slice).map((item) => JSON.stringify(item)).join(',')}`
    }
    yield ']}'
  })())
}
