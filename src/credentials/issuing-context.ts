// The issuing context (achievement, issuer, active key) of recent issues, kept per database handle: an LMS issues one
// achievement over and over, and reading it again costs every request a statement. It is never trusted blindly: the
// write checks the row versions the credentials were built from (insertIssued), and the caller reads afresh and
// retries when they changed, so an update made anywhere (another process included) is never missed.
import type { Db, KeyAlgorithm } from '../db/schema.js'
import { lruPer } from '../lru.js'
import { findIssuingContext, type IssuingContext } from './store.js'

const cacheOf = lruPer<Db, string, IssuingContext>(1000)

/** The context to build from: a remembered one, or (`fresh`, or none remembered) the database's; and which it is. */
export async function issuingContext(
  db: Db, achievementId: string, algorithm: KeyAlgorithm, fresh: boolean
): Promise<{ context: IssuingContext | undefined; remembered: boolean }> {
  const cache = cacheOf(db)
  const key = `${achievementId}|${algorithm}`
  if (!fresh) {
    const known = cache.get(key)
    if (known !== undefined) return { context: known, remembered: true }
  }
  const context = await findIssuingContext(db, achievementId, algorithm)
  // Only a context with its key: without one, the key is made on first use and this context would be stale at once.
  if (context?.key !== undefined) cache.set(key, context)
  return { context, remembered: false }
}
