// Background jobs: the job, its validated rows, its chunks (the queue workers claim), and one result per row.
// Frozen: never edit once landed.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('jobs')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('issue', 'revoke')`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('queued', 'running', 'completed', 'failed', 'cancelled')`))
    // Null for an admin's revoke job, which may span issuers: only the admin sees it.
    .addColumn('issuer_id', 'uuid', (c) => c.references('issuers.id'))
    // Who asked, as the auth hook saw them: the worker acts with exactly these rights, and the audit log names them.
    .addColumn('principal', 'jsonb', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text', (c) => c.notNull())
    // achievementId, format, jwtAlg (issue) or reason (revoke).
    .addColumn('params', 'jsonb', (c) => c.notNull())
    .addColumn('total', 'integer', (c) => c.notNull())
    .addColumn('succeeded', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .addColumn('idempotency_key', 'text')
    .addColumn('request_hash', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .execute()
  await db.schema.createIndex('jobs_issuer').on('jobs').columns(['issuer_id', 'id']).execute()
  // One job per (caller, Idempotency-Key): a retried submission finds the job it made.
  await sql`create unique index jobs_idempotency on jobs (actor, idempotency_key) where idempotency_key is not null`.execute(db)

  // The rows as validated at submission (the API's item shape), read back one chunk at a time.
  await db.schema
    .createTable('job_rows')
    .addColumn('job_id', 'uuid', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('row', 'integer', (c) => c.notNull())
    .addColumn('input', 'jsonb', (c) => c.notNull())
    .addPrimaryKeyConstraint('job_rows_pk', ['job_id', 'row'])
    .execute()

  // The queue: a worker claims a chunk by taking its lease (FOR UPDATE SKIP LOCKED); a lease that runs out (the worker
  // died) lets another worker take the chunk again.
  await db.schema
    .createTable('job_chunks')
    .addColumn('job_id', 'uuid', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('chunk', 'integer', (c) => c.notNull())
    .addColumn('first_row', 'integer', (c) => c.notNull())
    .addColumn('last_row', 'integer', (c) => c.notNull())
    .addColumn('done', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('lease_until', 'timestamptz')
    .addPrimaryKeyConstraint('job_chunks_pk', ['job_id', 'chunk'])
    .execute()
  await sql`create index job_chunks_pending on job_chunks (job_id, chunk) where not done`.execute(db)

  // Exactly once per (job, row): a repeated chunk's results are no-ops against this key.
  await db.schema
    .createTable('job_results')
    .addColumn('job_id', 'uuid', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('row', 'integer', (c) => c.notNull())
    .addColumn('external_id', 'text')
    .addColumn('credential_id', 'uuid')
    .addColumn('error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('job_results_pk', ['job_id', 'row'])
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('job_results').execute()
  await db.schema.dropTable('job_chunks').execute()
  await db.schema.dropTable('job_rows').execute()
  await db.schema.dropTable('jobs').execute()
}
