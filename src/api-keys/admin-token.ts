// The admin bearer token: LANYARD_ADMIN_TOKEN, else one generated on first start (only its hash is kept, in the database).
import type { Config } from '../config.js'
import type { Db } from '../db/schema.js'
import { readAdminTokenHash, storeAdminTokenHash } from './store.js'
import { hashToken, newAdminToken } from './tokens.js'

export interface AdminToken {
  hash: string
  /** The plaintext, only when this start generated it: print it once, then forget it. */
  generated?: string
}

export async function ensureAdminToken(db: Db, config: Config): Promise<AdminToken> {
  if (config.LANYARD_ADMIN_TOKEN !== undefined) return { hash: hashToken(config.LANYARD_ADMIN_TOKEN) }
  const stored = await readAdminTokenHash(db)
  if (stored !== undefined) return { hash: stored }
  const token = newAdminToken()
  const hash = await storeAdminTokenHash(db, hashToken(token))
  return hash === hashToken(token) ? { hash, generated: token } : { hash }
}
