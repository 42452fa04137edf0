// The embedded database (PGlite) opens with a small buffer pool: PostgreSQL's default 128 MB is resident from the start.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import t from 'tap'
import { openDatabase, PGLITE_SHARED_BUFFERS } from '../src/db/database.js'

t.test('PGlite runs with 32 MB of shared buffers, in a data directory and in memory', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lanyard-pglite-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  t.equal(PGLITE_SHARED_BUFFERS, '32MB')
  for (const options of [{ pgliteDir: dir }, {}]) {
    const { db, kind } = await openDatabase(options)
    const { rows } = await sql<{ shared_buffers: string }>`show shared_buffers`.execute(db)
    await db.destroy()
    t.equal(kind, 'pglite')
    t.equal(rows[0]!.shared_buffers, '32MB', JSON.stringify(options))
  }
})
