// The issuing statements run as named prepared statements on PostgreSQL, unless LANYARD_DB_PREPARED_STATEMENTS turns
// that off for a pooler that moves sessions between server connections (PgBouncer in transaction mode).
import { sql } from 'kysely'
import t from 'tap'
import { loadConfig } from '../src/config.js'
import { openDatabase } from '../src/db/database.js'
import { freshPostgresSchema } from './helpers/app.js'

t.test('LANYARD_DB_PREPARED_STATEMENTS is on by default and reads true or false', async (t) => {
  t.equal(loadConfig({}).LANYARD_DB_PREPARED_STATEMENTS, true)
  t.equal(loadConfig({ LANYARD_DB_PREPARED_STATEMENTS: 'false' }).LANYARD_DB_PREPARED_STATEMENTS, false)
  t.throws(() => loadConfig({ LANYARD_DB_PREPARED_STATEMENTS: 'sometimes' }), /LANYARD_DB_PREPARED_STATEMENTS/)
})

t.test('a marked statement is prepared on its connection, or not when turned off', { skip: process.env.TEST_DATABASE_URL === undefined && 'TEST_DATABASE_URL is not set' }, async (t) => {
  const url = await freshPostgresSchema(t)
  for (const preparedStatements of [undefined, false]) {
    const { db } = await openDatabase({ url, ...(preparedStatements !== undefined && { preparedStatements }) })
    // One connection, so the session that ran the statement is the one asked.
    const names = await db.connection().execute(async (connection) => {
      const { rows } = await sql<{ answer: number }>`/* prepared: test-marker */ select 41 + ${1}::int as answer`.execute(connection)
      t.equal(rows[0]!.answer, 42, 'the statement answers either way')
      const prepared = await sql<{ name: string }>`select name from pg_prepared_statements`.execute(connection)
      return prepared.rows.map((row) => row.name)
    })
    await db.destroy()
    if (preparedStatements === false) t.same(names.filter((name) => name.startsWith('test-marker-')), [], 'off: nothing prepared')
    else t.equal(names.filter((name) => name.startsWith('test-marker-')).length, 1, 'on: prepared once, named after its marker')
  }
})
