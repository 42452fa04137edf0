// Keyset pages: fetch limit + 1 rows, return limit, and the last id as the cursor when more remain.
export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

export function pageFrom<Row, Item>(rows: Row[], limit: number, view: (row: Row) => Item, cursorOf: (item: Item) => string): Page<Item> {
  const items = rows.slice(0, limit).map(view)
  return { items, nextCursor: rows.length > limit ? cursorOf(items[items.length - 1]!) : null }
}
