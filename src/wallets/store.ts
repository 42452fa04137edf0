// SQL for wallet delivery: claims, OID4VCI access tokens and nonces. Single use is the database's to enforce:
// each redemption is one `update … where used_at is null and expires_at > now() returning`.
import { sql, type Insertable } from 'kysely'
import type { ClaimRow, ClaimsTable, ClaimUse, Db } from '../db/schema.js'

export type NewClaimRow = Omit<Insertable<ClaimsTable>, 'created_at' | 'used_at' | 'used_by' | 'copy_credential_id' | 'tx_code_attempts'>

/** Wrong transaction codes a claim takes before it locks (a six-digit PIN must not be guessable online). */
export const MAX_TX_CODE_ATTEMPTS = 5

export async function insertClaims(db: Db, rows: NewClaimRow[]): Promise<ClaimRow[]> {
  return db.insertInto('claims').values(rows).returningAll().execute()
}

export type ClaimSecret = 'token_hash' | 'exchange_hash' | 'code_hash'

export async function findClaim(db: Db, secret: ClaimSecret, hash: string): Promise<ClaimRow | undefined> {
  return db.selectFrom('claims').selectAll().where(secret, '=', hash).executeTakeFirst()
}

/** Marks an open claim used; undefined when it was used or expired meanwhile (another instance may have won). */
export async function redeemClaim(db: Db, id: string, use: ClaimUse): Promise<ClaimRow | undefined> {
  return db.updateTable('claims').set({ used_at: sql`now()`, used_by: use })
    .where('id', '=', id).where('used_at', 'is', null).where('expires_at', '>', sql<Date>`now()`)
    .returningAll().executeTakeFirst()
}

/** Redeems the pre-authorized code when the transaction code (if the claim has one) matches. */
export async function redeemPreAuthorizedCode(db: Db, codeHash: string, txCodeHash: string | null): Promise<ClaimRow | undefined> {
  return db.updateTable('claims').set({ used_at: sql`now()`, used_by: 'oid4vci' })
    .where('code_hash', '=', codeHash).where('used_at', 'is', null).where('expires_at', '>', sql<Date>`now()`)
    .where((eb) => eb.or([eb('tx_code_hash', 'is', null), eb('tx_code_hash', '=', txCodeHash)]))
    .returningAll().executeTakeFirst()
}

/** Counts a wrong transaction code; the last allowed one locks the claim for every flow. */
export async function recordWrongTxCode(db: Db, id: string): Promise<void> {
  await db.updateTable('claims')
    .set({
      tx_code_attempts: sql`tx_code_attempts + 1`,
      used_at: sql`case when tx_code_attempts + 1 >= ${MAX_TX_CODE_ATTEMPTS} then now() end`,
      used_by: sql`case when tx_code_attempts + 1 >= ${MAX_TX_CODE_ATTEMPTS} then 'locked' end`
    })
    .where('id', '=', id).where('used_at', 'is', null).execute()
}

export async function setClaimCopy(db: Db, id: string, copyId: string): Promise<void> {
  await db.updateTable('claims').set({ copy_credential_id: copyId }).where('id', '=', id).execute()
}

export async function insertAccessToken(db: Db, tokenHash: string, claimId: string, expiresAt: Date): Promise<void> {
  await db.insertInto('oid4vci_access_tokens').values({ token_hash: tokenHash, claim_id: claimId, expires_at: expiresAt }).execute()
}

/** The open access token's claim, or undefined (unknown, used or expired). */
export async function findOpenAccessToken(db: Db, tokenHash: string): Promise<ClaimRow | undefined> {
  return db.selectFrom('oid4vci_access_tokens').innerJoin('claims', 'claims.id', 'oid4vci_access_tokens.claim_id')
    .selectAll('claims')
    .where('oid4vci_access_tokens.token_hash', '=', tokenHash).where('oid4vci_access_tokens.used_at', 'is', null)
    .where('oid4vci_access_tokens.expires_at', '>', sql<Date>`now()`)
    .executeTakeFirst()
}

export async function useAccessToken(db: Db, tokenHash: string): Promise<boolean> {
  const row = await db.updateTable('oid4vci_access_tokens').set({ used_at: sql`now()` })
    .where('token_hash', '=', tokenHash).where('used_at', 'is', null).where('expires_at', '>', sql<Date>`now()`)
    .returning('token_hash').executeTakeFirst()
  return row !== undefined
}

/** Stores a fresh nonce, and clears those that expired (so the table stays the size of the nonces in flight). */
export async function insertNonce(db: Db, nonce: string, expiresAt: Date): Promise<void> {
  await sql`
    with cleared as (delete from oid4vci_nonces where expires_at < now())
    insert into oid4vci_nonces (nonce, expires_at) values (${nonce}, ${expiresAt})`.execute(db)
}

export async function useNonce(db: Db, nonce: string): Promise<boolean> {
  const row = await db.updateTable('oid4vci_nonces').set({ used_at: sql`now()` })
    .where('nonce', '=', nonce).where('used_at', 'is', null).where('expires_at', '>', sql<Date>`now()`)
    .returning('nonce').executeTakeFirst()
  return row !== undefined
}
