// Revocation status for issued credentials: a place in one of the issuer's bitstring status lists, and its entry in the credential.
import type { ServiceContext } from '../context.js'
import { mapInSlices } from '../event-loop.js'
import { permute } from './permutation.js'
import { openNewList, reserveInOpenList, type Reservation } from './store.js'

export interface StatusEntry {
  listId: string
  index: number
}

export interface BitstringStatusListEntry {
  id: string
  type: 'BitstringStatusListEntry'
  statusPurpose: 'revocation'
  statusListIndex: string
  statusListCredential: string
}

export function statusListUrl(publicUrl: string, listId: string): string {
  return `${publicUrl}/status/${listId}`
}

export function credentialStatusEntry(publicUrl: string, entry: StatusEntry): BitstringStatusListEntry {
  const list = statusListUrl(publicUrl, entry.listId)
  return {
    id: `${list}#${entry.index}`,
    type: 'BitstringStatusListEntry',
    statusPurpose: 'revocation',
    statusListIndex: String(entry.index),
    statusListCredential: list
  }
}

/** A single issue reserves this many positions at once and keeps the rest for the next ones: a statement saved per issue. */
const RESERVE_AHEAD = 32

/**
 * Positions reserved in the database but not yet given out, per database handle and issuer. Reserved is never handed out
 * twice, by this process or another; what a process still holds when it stops stays unused (its bits stay clear).
 */
const spare = new WeakMap<object, Map<string, Reservation[]>>()
/** The reservation statement in flight per database handle and issuer: requests arriving meanwhile wait for it. */
const refilling = new WeakMap<object, Map<string, Promise<void>>>()

function perIssuer<T>(map: WeakMap<object, Map<string, T>>, db: object): Map<string, T> {
  const byIssuer = map.get(db) ?? new Map<string, T>()
  map.set(db, byIssuer)
  return byIssuer
}

/**
 * Reserves `count` revocation entries for the issuer's next credentials, opening a new list when the current one fills.
 * Reserved in their own short statements, before the issuing transaction: a position of a failed issue stays unused
 * (its bit stays clear), which costs nothing and keeps "never reused" true.
 */
export async function allocateStatusEntries(ctx: ServiceContext, issuerId: string, count: number): Promise<StatusEntry[]> {
  const heldByIssuer = perIssuer(spare, ctx.db)
  const held = heldByIssuer.get(issuerId) ?? []
  heldByIssuer.set(issuerId, held)
  const inFlight = perIssuer(refilling, ctx.db)
  const entries: { reservation: Reservation; position: number }[] = []
  // Taken synchronously, so concurrent requests of this process never take the same position.
  const take = () => {
    while (entries.length < count && held.length > 0) {
      const reservation = held[0]!
      entries.push({ reservation, position: reservation.start++ })
      if (reservation.start === reservation.end) held.shift()
    }
  }
  const refill = async (wanted: number) => {
    const reservation = await reserveInOpenList(ctx.db, issuerId, 'revocation', wanted)
    if (reservation === undefined) await openNewList(ctx.db, issuerId, 'revocation', ctx.statusListSize)
    else held.push(reservation)
  }
  take()
  while (entries.length < count) {
    const pending = inFlight.get(issuerId)
    if (pending === undefined) {
      const started = refill(Math.max(count - entries.length, RESERVE_AHEAD)).finally(() => inFlight.delete(issuerId))
      inFlight.set(issuerId, started)
      await started
    } else {
      // Its failure is its own request's to report; this one tries again.
      await Promise.allSettled([pending])
    }
    take()
  }
  return mapInSlices(entries, ({ reservation, position }) =>
    ({ listId: reservation.listId, index: permute(position, reservation.size, reservation.permutationKey) }))
}
