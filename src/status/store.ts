// SQL for status lists: reserving positions, flipping bits, and keeping the signed list of the current version.
import { randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import { v7 as uuidv7 } from 'uuid'
import type { Db, StatusListRow } from '../db/schema.js'
import { lockIssuer } from '../issuers/store.js'

export type StatusPurpose = StatusListRow['purpose']

/** A run of consecutive positions reserved in one list. */
export interface Reservation {
  listId: string
  size: number
  permutationKey: string
  /** Positions start, start + 1, …, end - 1. */
  start: number
  end: number
}

/**
 * Takes up to `count` positions from the issuer's oldest list that has room, in one statement: the row lock is held only
 * for that statement, so concurrent issuers (in any number of processes) queue for microseconds, never for a whole issue.
 */
export async function reserveInOpenList(db: Db, issuerId: string, purpose: StatusPurpose, count: number): Promise<Reservation | undefined> {
  const { rows } = await sql<{ id: string; size: number; permutation_key: string; start: number; end: number }>`
    with target as (
      select id, allocated from status_lists
      where issuer_id = ${issuerId} and purpose = ${purpose} and allocated < size
      order by id limit 1 for update
    )
    update status_lists as list set allocated = least(list.size, list.allocated + ${count}), updated_at = now()
    from target where list.id = target.id and target.allocated < list.size
    returning list.id, list.size, list.permutation_key, target.allocated as start, list.allocated as end`.execute(db)
  const row = rows[0]
  return row === undefined ? undefined : { listId: row.id, size: row.size, permutationKey: row.permutation_key, start: row.start, end: row.end }
}

/** A new, empty list for the issuer, unless one with room appeared meanwhile (the issuer row lock serialises the check). */
export async function openNewList(db: Db, issuerId: string, purpose: StatusPurpose, size: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await lockIssuer(trx, issuerId)
    const open = await trx.selectFrom('status_lists').select('id')
      .where('issuer_id', '=', issuerId).where('purpose', '=', purpose).whereRef('allocated', '<', 'size').executeTakeFirst()
    if (open !== undefined) return
    await trx.insertInto('status_lists').values({
      id: uuidv7(), issuer_id: issuerId, purpose, size, permutation_key: randomBytes(32).toString('hex'), bits: Buffer.alloc(size / 8)
    }).execute()
  })
}

export async function findStatusList(db: Db, id: string): Promise<StatusListRow | undefined> {
  return db.selectFrom('status_lists').selectAll().where('id', '=', id).executeTakeFirst()
}

/** A status list's version and signed copy, without its bits (16 KB and more): all that serving a current copy needs. */
export async function findSignedStatusList(db: Db, id: string) {
  return db.selectFrom('status_lists').select(['id', 'version', 'signed', 'signed_version', 'signed_at']).where('id', '=', id).executeTakeFirst()
}

/**
 * Sets the bit of `index` (index 0 is the most significant bit of the first byte, as the spec numbers them; PostgreSQL's
 * set_bit counts from the least significant bit of each byte) and bumps the version so the signed list is renewed.
 */
export async function setStatusBit(db: Db, listId: string, index: number): Promise<void> {
  const bit = (index >> 3) * 8 + (7 - (index & 7))
  await db.updateTable('status_lists')
    .set({ bits: sql`set_bit(bits, ${bit}, 1)`, version: sql`version + 1`, updated_at: new Date() })
    .where('id', '=', listId).execute()
}

/**
 * Sets the bits of all `indexes` in one list, with one new version of its row: a bulk revocation rewrites each 16 KB+
 * row once, not once per credential. One index is setStatusBit's single statement; more are read, set and written back
 * under the row lock (two statements).
 */
export async function setStatusBits(db: Db, listId: string, indexes: number[]): Promise<void> {
  if (indexes.length === 1) return setStatusBit(db, listId, indexes[0]!)
  const { bits } = await db.selectFrom('status_lists').select('bits').where('id', '=', listId).forUpdate().executeTakeFirstOrThrow()
  const updated = Buffer.from(bits)
  for (const index of indexes) updated[index >> 3] = updated[index >> 3]! | (0x80 >> (index & 7))
  await db.updateTable('status_lists').set({ bits: updated, version: sql`version + 1`, updated_at: new Date() })
    .where('id', '=', listId).execute()
}

/** Keeps a signed list for its version, unless the list changed while it was being signed. */
export async function saveSignedStatusList(db: Db, listId: string, version: number, signed: string, signedAt: Date): Promise<void> {
  await db.updateTable('status_lists').set({ signed, signed_version: version, signed_at: signedAt })
    .where('id', '=', listId).where('version', '=', version).execute()
}
