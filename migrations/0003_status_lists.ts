// Bitstring status lists for revocation, and each credential's place in one. Frozen: never edit once landed.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('status_lists')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('issuer_id', 'uuid', (c) => c.notNull().references('issuers.id'))
    .addColumn('purpose', 'text', (c) => c.notNull().check(sql`purpose in ('revocation')`))
    // Entries in the list (bits); a multiple of 8.
    .addColumn('size', 'integer', (c) => c.notNull().check(sql`size > 0 and size % 8 = 0`))
    // Positions handed out so far: the next credential takes position `allocated`, shuffled into an index by permutation_key.
    .addColumn('allocated', 'integer', (c) => c.notNull().defaultTo(0).check(sql`allocated >= 0 and allocated <= size`))
    .addColumn('permutation_key', 'text', (c) => c.notNull())
    .addColumn('bits', 'bytea', (c) => c.notNull())
    // Bumped on every bit flip; the signed list is reused while its version is current.
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('signed', 'text')
    .addColumn('signed_version', 'integer')
    .addColumn('signed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('status_lists_issuer').on('status_lists').columns(['issuer_id', 'purpose', 'id']).execute()

  await db.schema.alterTable('credentials').addColumn('status_list_id', 'uuid', (c) => c.references('status_lists.id')).execute()
  await db.schema.alterTable('credentials').addColumn('status_list_index', 'integer').execute()
  // An index is never given to two credentials.
  await db.schema.createIndex('credentials_status_entry').on('credentials').columns(['status_list_id', 'status_list_index']).unique().execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('credentials_status_entry').execute()
  await db.schema.alterTable('credentials').dropColumn('status_list_index').execute()
  await db.schema.alterTable('credentials').dropColumn('status_list_id').execute()
  await db.schema.dropTable('status_lists').execute()
}
