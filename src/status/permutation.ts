// A keyed shuffle of list positions: the n-th credential of a list gets index permute(n), so indexes are spread over the
// whole list (not issue order) and, being a bijection, never repeat. O(1) per credential, no scan of the list.
import { createHmac } from 'node:crypto'

const ROUNDS = 4

/** A balanced Feistel network over `2 * halfBits` bits, keyed by HMAC-SHA-256; cycle-walking keeps the result below `size`. */
export function permute(position: number, size: number, key: string): number {
  if (!Number.isInteger(position) || position < 0 || position >= size) throw new RangeError(`position ${position} is outside 0..${size - 1}`)
  const halfBits = Math.ceil(Math.ceil(Math.log2(Math.max(size, 2))) / 2)
  const mask = (1 << halfBits) - 1
  const secret = Buffer.from(key, 'hex')
  let value = position
  do {
    let left = value >>> halfBits
    let right = value & mask
    for (let round = 0; round < ROUNDS; round++) {
      const mixed = left ^ (roundFunction(secret, round, right) & mask)
      left = right
      right = mixed
    }
    value = (left << halfBits) | right
  } while (value >= size)
  return value
}

function roundFunction(secret: Buffer, round: number, half: number): number {
  return createHmac('sha256', secret).update(Uint8Array.of(round)).update(String(half)).digest().readUInt32BE(0)
}
