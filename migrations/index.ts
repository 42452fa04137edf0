// The list of migrations, in order. Imported explicitly (not globbed) so the same list works under tsx, tap and compiled JS.
import type { Migration } from 'kysely'
import * as m0001 from './0001_initial.js'

export const migrations: Record<string, Migration> = {
  '0001_initial': m0001
}
