// Issuers, their keys, API keys, the audit log and instance settings. Frozen: never edit once landed.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('settings')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()

  await db.schema
    .createTable('issuers')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('did', 'text', (c) => c.notNull().unique())
    .addColumn('did_method', 'text', (c) => c.notNull().check(sql`did_method in ('web', 'key')`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('description', 'text')
    .addColumn('image_url', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()

  await db.schema
    .createTable('issuer_keys')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('issuer_id', 'uuid', (c) => c.notNull().references('issuers.id'))
    .addColumn('algorithm', 'text', (c) => c.notNull())
    .addColumn('verification_method', 'text', (c) => c.notNull().unique())
    .addColumn('public_key_multibase', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'jsonb', (c) => c.notNull())
    .addColumn('sealed_private_key', 'text', (c) => c.notNull())
    .addColumn('master_key_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('active', 'retired')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('retired_at', 'timestamptz')
    .execute()
  // One signing key per issuer and algorithm: rotation retires the old one in the same transaction.
  await db.schema
    .createIndex('issuer_keys_one_active')
    .on('issuer_keys')
    .columns(['issuer_id', 'algorithm'])
    .unique()
    .where(sql.ref('status'), '=', 'active')
    .execute()

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('issuer_id', 'uuid', (c) => c.notNull().references('issuers.id'))
    .addColumn('name', 'text')
    .addColumn('prefix', 'text', (c) => c.notNull().unique())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('revoked_at', 'timestamptz')
    .execute()
  await db.schema.createIndex('api_keys_issuer').on('api_keys').column('issuer_id').execute()

  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('issuer_id', 'uuid', (c) => c.references('issuers.id'))
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('request_id', 'text')
    .execute()
  await db.schema.createIndex('audit_events_issuer').on('audit_events').columns(['issuer_id', 'id']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['audit_events', 'api_keys', 'issuer_keys', 'issuers', 'settings']) {
    await db.schema.dropTable(table).execute()
  }
}
