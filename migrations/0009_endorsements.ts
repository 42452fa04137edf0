// Endorsements: EndorsementCredentials signed here or attached from elsewhere, and the copies achievements and issuer
// profiles embed. Frozen: never edit once landed.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('endorsements')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    // The issuer here that signed it; null for one signed elsewhere and attached to an achievement by that achievement's issuer.
    .addColumn('endorser_id', 'uuid', (c) => c.references('issuers.id'))
    .addColumn('endorser_key_id', 'uuid', (c) => c.references('issuer_keys.id'))
    // The endorser as the credential names it (its issuer id, a DID or URL, and its name): foreign endorsers have no row here.
    .addColumn('endorser', 'text', (c) => c.notNull())
    .addColumn('endorser_name', 'text')
    // credentialSubject.id: the URL of what is endorsed, here or elsewhere.
    .addColumn('subject_id', 'text', (c) => c.notNull())
    // Set when the subject is an achievement or an issuer profile of this Lanyard: those embed the endorsement.
    .addColumn('achievement_id', 'uuid', (c) => c.references('achievements.id'))
    .addColumn('subject_issuer_id', 'uuid', (c) => c.references('issuers.id'))
    // The credential's own id: our /endorsements/:id URL, or whatever a foreign endorser gave it.
    .addColumn('credential_id', 'text', (c) => c.notNull())
    .addColumn('comment', 'text')
    .addColumn('format', 'text', (c) => c.notNull().check(sql`format in ('eddsa-rdfc-2022', 'eddsa-2022', 'Ed25519Signature2020', 'vc-jwt')`))
    .addColumn('jwt_alg', 'text')
    // The exact signed bytes: JSON text, or a compact JWS for vc-jwt.
    .addColumn('signed', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active').check(sql`status in ('active', 'revoked')`))
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revocation_reason', 'text')
    // When the endorsed achievement's issuer took it off the achievement: still valid, no longer embedded.
    .addColumn('detached_at', 'timestamptz')
    // Null for a foreign endorsement: its revocation is its endorser's, on a list of theirs.
    .addColumn('status_list_id', 'uuid', (c) => c.references('status_lists.id'))
    .addColumn('status_list_index', 'integer')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('endorsements_one_subject', sql`achievement_id is null or subject_issuer_id is null`)
    .execute()
  // One live endorsement per endorser and subject: endorsing again is a 409, whichever request or process gets there second.
  await db.schema.createIndex('endorsements_active_per_subject').on('endorsements').columns(['endorser_id', 'subject_id']).unique()
    .where(sql.ref('status'), '=', 'active').execute()
  // The same credential is attached to an achievement once (until it is detached).
  await db.schema.createIndex('endorsements_attached_once').on('endorsements').columns(['achievement_id', 'credential_id']).unique()
    .where(sql.ref('detached_at'), 'is', null).execute()
  await db.schema.createIndex('endorsements_status_entry').on('endorsements').columns(['status_list_id', 'status_list_index']).unique().execute()
  await db.schema.createIndex('endorsements_endorser').on('endorsements').columns(['endorser_id', 'id']).execute()
  await db.schema.createIndex('endorsements_achievement').on('endorsements').columns(['achievement_id', 'id']).execute()
  await db.schema.createIndex('endorsements_subject_issuer').on('endorsements').columns(['subject_issuer_id', 'id']).execute()

  // What the public documents and new credentials embed (`endorsement`, `endorsementJwt`), kept on the row they are read
  // with and rewritten in the transaction that changes an endorsement: issuing reads it in the statement it already makes,
  // and the row's new version tells every instance's cached issuing context that it is stale. `json`, not `jsonb`: the
  // signed documents keep their members in the order they were signed in.
  await db.schema.alterTable('achievements').addColumn('embedded_endorsements', 'json', (c) => c.notNull().defaultTo(sql`'[]'::json`)).execute()
  await db.schema.alterTable('issuers').addColumn('embedded_endorsements', 'json', (c) => c.notNull().defaultTo(sql`'[]'::json`)).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('issuers').dropColumn('embedded_endorsements').execute()
  await db.schema.alterTable('achievements').dropColumn('embedded_endorsements').execute()
  await db.schema.dropTable('endorsements').execute()
}
