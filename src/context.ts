// What services are given: the database, the keyring and the settings they need. No module-level singletons.
import type { Kysely } from 'kysely'
import type { Keyring } from './crypto/keyring.js'
import type { DataIntegritySigner } from './crypto/proof-pool.js'
import type { Database } from './db/schema.js'
import type { Principal } from './http/auth.js'

export interface ServiceContext {
  db: Kysely<Database>
  keyring: Keyring
  /** PUBLIC_URL without a trailing slash. */
  publicUrl: string
  /** Entries in each new status list (STATUS_LIST_SIZE). */
  statusListSize: number
  /** Signs a Data Integrity proof: on the signing threads (LANYARD_SIGNING_THREADS), or in-process when there are none. */
  signDataIntegrity: DataIntegritySigner
  /** How long an Idempotency-Key's record answers retries (LANYARD_IDEMPOTENCY_TTL_HOURS), in ms; older, the key is new again. */
  idempotencyTtlMs: number
}

/** Who is acting, for access checks and the audit log. */
export interface Caller {
  principal: Principal
  requestId: string
}
