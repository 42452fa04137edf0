// Achievements, recipients, issued credentials and idempotency records; issuer keys of other algorithms (RSA, P-256) for VC-JWT.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  // RSA and P-256 keys are published as JWKs only: they have no Multikey encoding here.
  await db.schema.alterTable('issuer_keys').alterColumn('public_key_multibase', (c) => c.dropNotNull()).execute()
  await db.schema.alterTable('issuer_keys')
    .addCheckConstraint('issuer_keys_algorithm', sql`algorithm in ('Ed25519', 'RSA', 'P-256')`).execute()

  await db.schema
    .createTable('achievements')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('issuer_id', 'uuid', (c) => c.notNull().references('issuers.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('criteria', 'jsonb', (c) => c.notNull())
    .addColumn('image_url', 'text')
    .addColumn('image_caption', 'text')
    .addColumn('image_media_type', 'text')
    .addColumn('image_data', 'bytea')
    .addColumn('achievement_type', 'text')
    .addColumn('tags', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('alignments', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('achievements_issuer').on('achievements').columns(['issuer_id', 'id']).execute()

  await db.schema
    .createTable('recipients')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('issuer_id', 'uuid', (c) => c.notNull().references('issuers.id'))
    .addColumn('identity_type', 'text', (c) => c.notNull().check(sql`identity_type in ('email', 'did', 'url')`))
    .addColumn('identity', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('external_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // The same person issued twice by one issuer is one row.
    .addUniqueConstraint('recipients_identity', ['issuer_id', 'identity_type', 'identity'])
    .execute()
  await db.schema.createIndex('recipients_external_id').on('recipients').columns(['issuer_id', 'external_id']).execute()

  await db.schema
    .createTable('credentials')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('issuer_id', 'uuid', (c) => c.notNull().references('issuers.id'))
    // Both null for a credential signed through the VC-API, which is not built from an achievement.
    .addColumn('achievement_id', 'uuid', (c) => c.references('achievements.id'))
    .addColumn('recipient_id', 'uuid', (c) => c.references('recipients.id'))
    .addColumn('issuer_key_id', 'uuid', (c) => c.notNull().references('issuer_keys.id'))
    .addColumn('format', 'text', (c) => c.notNull().check(sql`format in ('eddsa-rdfc-2022', 'Ed25519Signature2020', 'vc-jwt')`))
    .addColumn('jwt_alg', 'text', (c) => c.check(sql`jwt_alg in ('RS256', 'ES256', 'EdDSA')`))
    // The exact signed bytes (JSON text or compact JWS), served as they are: jsonb would reorder keys.
    .addColumn('signed', 'text', (c) => c.notNull())
    .addColumn('valid_from', 'timestamptz')
    .addColumn('valid_until', 'timestamptz')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active').check(sql`status in ('active', 'revoked')`))
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revocation_reason', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('credentials_issuer').on('credentials').columns(['issuer_id', 'id']).execute()
  await db.schema.createIndex('credentials_achievement').on('credentials').columns(['achievement_id', 'id']).execute()
  await db.schema.createIndex('credentials_recipient').on('credentials').columns(['recipient_id', 'id']).execute()

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('credential_ids', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['scope', 'key'])
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['idempotency_keys', 'credentials', 'recipients', 'achievements']) {
    await db.schema.dropTable(table).execute()
  }
  await db.schema.alterTable('issuer_keys').dropConstraint('issuer_keys_algorithm').execute()
  await db.schema.alterTable('issuer_keys').alterColumn('public_key_multibase', (c) => c.setNotNull()).execute()
}
