// Learning stacks (pathways): their requirement trees, the achievements and pathways each counts, one award per learner;
// the outbox's commit order for subscribers (events.xid and a cursor per consumer); evaluate-pathway jobs.
// Frozen: never edit once landed.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('pathways')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('issuer_id', 'uuid', (c) => c.notNull().references('issuers.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    // Restrict: an achievement is never deleted while a pathway awards it.
    .addColumn('award_achievement_id', 'uuid', (c) => c.notNull().references('achievements.id'))
    // The tree as the API takes it; the two tables below index its leaves.
    .addColumn('requirement', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('pathways_issuer').on('pathways').columns(['issuer_id', 'id']).execute()
  // A pathway's award counts towards the pathways that nest it: found by the award's achievement.
  await db.schema.createIndex('pathways_award').on('pathways').column('award_achievement_id').execute()

  // Which pathways an issued credential's achievement counts towards.
  await db.schema
    .createTable('pathway_components')
    .addColumn('pathway_id', 'uuid', (c) => c.notNull().references('pathways.id').onDelete('cascade'))
    .addColumn('achievement_id', 'uuid', (c) => c.notNull().references('achievements.id'))
    .addPrimaryKeyConstraint('pathway_components_pk', ['pathway_id', 'achievement_id'])
    .execute()
  await db.schema.createIndex('pathway_components_achievement').on('pathway_components').column('achievement_id').execute()

  // The pathways a pathway nests: the graph that must stay acyclic. No cascade on depends_on: a nested pathway is not
  // deleted from under the pathways that count it.
  await db.schema
    .createTable('pathway_dependencies')
    .addColumn('pathway_id', 'uuid', (c) => c.notNull().references('pathways.id').onDelete('cascade'))
    .addColumn('depends_on', 'uuid', (c) => c.notNull().references('pathways.id'))
    .addPrimaryKeyConstraint('pathway_dependencies_pk', ['pathway_id', 'depends_on'])
    .execute()
  await db.schema.createIndex('pathway_dependencies_depends_on').on('pathway_dependencies').column('depends_on').execute()

  // Exactly one award per (pathway, learner): the key is the learner's identity (lower-cased email, DID or URL), the same
  // whichever issuer's recipient row it came through.
  await db.schema
    .createTable('pathway_awards')
    .addColumn('pathway_id', 'uuid', (c) => c.notNull().references('pathways.id').onDelete('cascade'))
    .addColumn('identity_type', 'text', (c) => c.notNull().check(sql`identity_type in ('email', 'did', 'url')`))
    .addColumn('identity', 'text', (c) => c.notNull())
    .addColumn('credential_id', 'uuid', (c) => c.notNull().references('credentials.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('pathway_awards_pk', ['pathway_id', 'identity_type', 'identity'])
    .execute()

  // One learner's credentials from every issuer: recipients are one row per issuer, so find them by identity alone.
  await db.schema.createIndex('recipients_learner').on('recipients').columns(['identity_type', 'identity']).execute()

  // Commit order for subscribers. occurred_at and id say nothing about when an event became visible (a transaction that
  // started first may commit last), so a cursor over them could step past an event still in flight. The appending
  // transaction's id can: once every transaction older than a snapshot's xmin has ended, no event with a smaller xid can
  // appear any more. Events from before this migration keep a null xid: no pathway existed to count them.
  await db.schema.alterTable('events').addColumn('xid', sql`xid8`).execute()
  await sql`alter table events alter column xid set default pg_current_xact_id()`.execute(db)
  await db.schema.createIndex('events_xid').on('events').columns(['xid', 'id']).execute()

  // Each subscriber's position in that order, and its lease: one instance reads at a time, and a crashed one's lease runs out.
  await db.schema
    .createTable('event_cursors')
    .addColumn('consumer', 'text', (c) => c.primaryKey())
    .addColumn('last_xid', sql`xid8`, (c) => c.notNull().defaultTo(sql`'0'::xid8`))
    .addColumn('last_id', 'uuid', (c) => c.notNull().defaultTo(sql`'00000000-0000-0000-0000-000000000000'::uuid`))
    .addColumn('lease_token', 'uuid')
    .addColumn('leased_until', 'timestamptz')
    .execute()
  await db.insertInto('event_cursors').values({ consumer: 'pathways' }).execute()

  await sql`alter table jobs drop constraint jobs_type_check`.execute(db)
  await sql`alter table jobs add constraint jobs_type_check check (type in ('issue', 'revoke', 'evaluate-pathway'))`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('jobs').where('type', '=', 'evaluate-pathway').execute()
  await sql`alter table jobs drop constraint jobs_type_check`.execute(db)
  await sql`alter table jobs add constraint jobs_type_check check (type in ('issue', 'revoke'))`.execute(db)
  await db.schema.dropTable('event_cursors').execute()
  await db.schema.dropIndex('events_xid').execute()
  await db.schema.alterTable('events').dropColumn('xid').execute()
  await db.schema.dropIndex('recipients_learner').execute()
  for (const table of ['pathway_awards', 'pathway_dependencies', 'pathway_components', 'pathways']) {
    await db.schema.dropTable(table).execute()
  }
}
