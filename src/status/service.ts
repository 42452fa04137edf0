// Revocation status for issued credentials: a place in one of the issuer's bitstring status lists, and its entry in the credential.
import type { ServiceContext } from '../context.js'
import { permute } from './permutation.js'
import { openNewList, reserveInOpenList } from './store.js'

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

/**
 * Reserves `count` revocation entries for the issuer's next credentials, opening a new list when the current one fills.
 * Reserved in their own short statements, before the issuing transaction: a position of a failed issue stays unused
 * (its bit stays clear), which costs nothing and keeps "never reused" true.
 */
export async function allocateStatusEntries(ctx: ServiceContext, issuerId: string, count: number): Promise<StatusEntry[]> {
  const entries: StatusEntry[] = []
  while (entries.length < count) {
    const reservation = await reserveInOpenList(ctx.db, issuerId, 'revocation', count - entries.length)
    if (reservation === undefined) {
      await openNewList(ctx.db, issuerId, 'revocation', ctx.statusListSize)
      continue
    }
    for (let position = reservation.start; position < reservation.end; position++) {
      entries.push({ listId: reservation.listId, index: permute(position, reservation.size, reservation.permutationKey) })
    }
  }
  return entries
}
