// Wallet delivery: single-use claims, OID4VCI access tokens and nonces, and each wallet copy's link to its original.
// Frozen: never edit once landed.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  // A wallet copy (bound to the holder's DID) names the credential it was made from; revoking that revokes the copy.
  await db.schema.alterTable('credentials').addColumn('original_credential_id', 'uuid', (c) => c.references('credentials.id')).execute()
  await db.schema.createIndex('credentials_original').on('credentials').column('original_credential_id').execute()

  // Only hashes of the claim's secrets are kept: the claim token (its page and offer), the exchange id derived from it
  // (LCW), the pre-authorized code derived from it (OID4VCI) and the optional transaction code.
  await db.schema
    .createTable('claims')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('issuer_id', 'uuid', (c) => c.notNull().references('issuers.id'))
    .addColumn('credential_id', 'uuid', (c) => c.notNull().references('credentials.id'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('exchange_hash', 'text', (c) => c.notNull().unique())
    .addColumn('code_hash', 'text', (c) => c.notNull().unique())
    .addColumn('tx_code_hash', 'text')
    .addColumn('tx_code_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    // Set once, by whichever flow redeems the claim first: a claim gives one wallet copy.
    .addColumn('used_at', 'timestamptz')
    .addColumn('used_by', 'text', (c) => c.check(sql`used_by in ('lcw', 'oid4vci', 'locked')`))
    .addColumn('copy_credential_id', 'uuid', (c) => c.references('credentials.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('claims_credential').on('claims').column('credential_id').execute()

  await db.schema
    .createTable('oid4vci_access_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('claim_id', 'uuid', (c) => c.notNull().references('claims.id'))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()

  await db.schema
    .createTable('oid4vci_nonces')
    .addColumn('nonce', 'text', (c) => c.primaryKey())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('oid4vci_nonces_expiry').on('oid4vci_nonces').column('expires_at').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('oid4vci_nonces').execute()
  await db.schema.dropTable('oid4vci_access_tokens').execute()
  await db.schema.dropTable('claims').execute()
  await db.schema.dropIndex('credentials_original').execute()
  await db.schema.alterTable('credentials').dropColumn('original_credential_id').execute()
}
