// A bounded map that forgets its least recently used entry: a cache must not grow with its callers.

export class Lru<K, V> {
  private readonly entries = new Map<K, V>()
  /** The most recent key. Caches are mostly asked for the same entry again; it need not move (two Map operations saved). */
  private newest: K | undefined

  constructor(readonly capacity: number) {}

  get(key: K): V | undefined {
    const value = this.entries.get(key)
    if (value === undefined || key === this.newest) return value
    // Map keeps insertion order: re-inserting makes this the most recent.
    this.entries.delete(key)
    this.entries.set(key, value)
    this.newest = key
    return value
  }

  set(key: K, value: V): void {
    this.entries.delete(key)
    this.entries.set(key, value)
    this.newest = key
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!)
  }
}

/**
 * One LRU per owner (a database handle, a keyring), made on first use and forgotten with its owner: what is cached
 * about one database or keyring never answers for another (tests run several apps in one process).
 */
export function lruPer<Owner extends object, K, V>(capacity: number): (owner: Owner) => Lru<K, V> {
  const caches = new WeakMap<Owner, Lru<K, V>>()
  return (owner) => {
    let cache = caches.get(owner)
    if (cache === undefined) caches.set(owner, cache = new Lru(capacity))
    return cache
  }
}
