// Evidence and review: achievements' rubrics and review policy, learners' submissions with their versions and files,
// reviewers with their sign-in links and sessions, and each review's decision. Frozen: never edit once landed.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  // OB 3.0 ResultDescriptions as the achievement publishes them (ids minted on the way in), and the review policy:
  // null for an achievement issued directly, { required: true, approvals } for one earned through review.
  await db.schema.alterTable('achievements')
    .addColumn('result_descriptions', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('review_policy', 'jsonb')
    .execute()

  await db.schema
    .createTable('submissions')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('issuer_id', 'uuid', (c) => c.notNull().references('issuers.id'))
    .addColumn('achievement_id', 'uuid', (c) => c.notNull().references('achievements.id'))
    // The learner, as credentials name recipients: one identity (email lower-cased, DID or URL), with a name and LMS id.
    .addColumn('identity_type', 'text', (c) => c.notNull().check(sql`identity_type in ('email', 'did', 'url')`))
    .addColumn('identity', 'text', (c) => c.notNull())
    .addColumn('recipient_name', 'text')
    .addColumn('external_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending')
      .check(sql`status in ('pending', 'approved', 'rejected', 'revision_requested')`))
    // The version of the evidence under review; a revision adds the next.
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    // The credential an approval issues: its id is chosen in the approving transaction, so the decision, its event and
    // the credential to come are recorded together, and whoever issues it (the request, or the subscriber after a crash)
    // issues that one id.
    .addColumn('credential_id', 'uuid', (c) => c.unique())
    .addColumn('issue_error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('submissions_issuer').on('submissions').columns(['issuer_id', 'id']).execute()
  await db.schema.createIndex('submissions_achievement').on('submissions').columns(['achievement_id', 'status', 'id']).execute()

  // Each version of the evidence, kept when a revision replaces it.
  await db.schema
    .createTable('submission_versions')
    .addColumn('submission_id', 'uuid', (c) => c.notNull().references('submissions.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('evidence', 'jsonb', (c) => c.notNull())
    .addColumn('submitted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('submission_versions_pk', ['submission_id', 'version'])
    .execute()

  // Uploaded evidence files: their bytes in chunks of a few hundred KiB, so they are written and read as streams on
  // PGlite and PostgreSQL alike, shared by every instance, and stored in the transaction that records the submission.
  await db.schema
    .createTable('submission_files')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('submission_id', 'uuid', (c) => c.notNull().references('submissions.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    // As read from the bytes, never from the name or the client's Content-Type.
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('public', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('submission_files_position', ['submission_id', 'version', 'position'])
    .execute()
  await db.schema
    .createTable('submission_file_chunks')
    .addColumn('file_id', 'uuid', (c) => c.notNull().references('submission_files.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('data', 'bytea', (c) => c.notNull())
    .addPrimaryKeyConstraint('submission_file_chunks_pk', ['file_id', 'seq'])
    .execute()

  // People who review, by email; invited per achievement.
  await db.schema
    .createTable('reviewers')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema
    .createTable('reviewer_assignments')
    .addColumn('reviewer_id', 'uuid', (c) => c.notNull().references('reviewers.id').onDelete('cascade'))
    .addColumn('achievement_id', 'uuid', (c) => c.notNull().references('achievements.id').onDelete('cascade'))
    .addColumn('issuer_id', 'uuid', (c) => c.notNull().references('issuers.id'))
    .addColumn('invited_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('reviewer_assignments_pk', ['reviewer_id', 'achievement_id'])
    .execute()
  await db.schema.createIndex('reviewer_assignments_achievement').on('reviewer_assignments').columns(['achievement_id']).execute()
  // Single-use sign-in links and the sessions they open: only hashes of their secrets are kept.
  await db.schema
    .createTable('reviewer_sign_ins')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('reviewer_id', 'uuid', (c) => c.notNull().references('reviewers.id').onDelete('cascade'))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema
    .createTable('reviewer_sessions')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('reviewer_id', 'uuid', (c) => c.notNull().references('reviewers.id').onDelete('cascade'))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()

  await db.schema
    .createTable('submission_reviews')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('submission_id', 'uuid', (c) => c.notNull().references('submissions.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('decision', 'text', (c) => c.notNull().check(sql`decision in ('approve', 'reject', 'revise')`))
    .addColumn('comment', 'text')
    .addColumn('results', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    // A signed-in reviewer, or null for a decision made through the API (by the issuer's LMS).
    .addColumn('reviewer_id', 'uuid', (c) => c.references('reviewers.id'))
    // Who decided, as one key: `reviewer:<id>`, `email:<address>` (a person an LMS names), or the API caller.
    .addColumn('reviewer_key', 'text', (c) => c.notNull())
    .addColumn('reviewer_email', 'text')
    .addColumn('reviewer_name', 'text')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // One decision per person per version: approvals are counted by distinct reviewers.
    .addUniqueConstraint('submission_reviews_once', ['submission_id', 'version', 'reviewer_key'])
    .execute()

  // The subscriber that issues an approved submission's credential when the approving request could not (a crash). It
  // starts after every event there is: none before this migration can be an approval, and a large outbox is not re-read.
  await sql`insert into event_cursors (consumer, last_xid, last_id)
    select 'submissions', coalesce(max(xid), '0'::xid8), 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid from events`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('event_cursors').where('consumer', '=', 'submissions').execute()
  await db.schema.dropTable('submission_reviews').execute()
  await db.schema.dropTable('reviewer_sessions').execute()
  await db.schema.dropTable('reviewer_sign_ins').execute()
  await db.schema.dropTable('reviewer_assignments').execute()
  await db.schema.dropTable('reviewers').execute()
  await db.schema.dropTable('submission_file_chunks').execute()
  await db.schema.dropTable('submission_files').execute()
  await db.schema.dropTable('submission_versions').execute()
  await db.schema.dropTable('submissions').execute()
  await db.schema.alterTable('achievements').dropColumn('review_policy').dropColumn('result_descriptions').execute()
}
