// SQL for API keys and the stored admin-token hash.
import type { Db, ApiKeyRow } from '../db/schema.js'

const ADMIN_TOKEN_SETTING = 'admin_token_sha256'

export async function insertApiKey(db: Db, row: Omit<ApiKeyRow, 'created_at' | 'revoked_at'>): Promise<ApiKeyRow> {
  return db.insertInto('api_keys').values(row).returningAll().executeTakeFirstOrThrow()
}

export async function findApiKey(db: Db, id: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function findActiveApiKeyByHash(db: Db, hash: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('key_hash', '=', hash).where('revoked_at', 'is', null).executeTakeFirst()
}

export async function listApiKeys(db: Db, filter: { issuerId?: string; after?: string; limit: number }): Promise<ApiKeyRow[]> {
  let query = db.selectFrom('api_keys').selectAll().orderBy('id').limit(filter.limit)
  if (filter.issuerId !== undefined) query = query.where('issuer_id', '=', filter.issuerId)
  if (filter.after !== undefined) query = query.where('id', '>', filter.after)
  return query.execute()
}

/** Sets revoked_at once; a repeat leaves the first revocation time as it was. */
export async function revokeApiKey(db: Db, id: string): Promise<ApiKeyRow | undefined> {
  await db.updateTable('api_keys').set({ revoked_at: new Date() }).where('id', '=', id).where('revoked_at', 'is', null).execute()
  return findApiKey(db, id)
}

export async function readAdminTokenHash(db: Db): Promise<string | undefined> {
  const row = await db.selectFrom('settings').select('value').where('name', '=', ADMIN_TOKEN_SETTING).executeTakeFirst()
  return row?.value
}

/** Stores the hash unless one is already there (another instance won the race); returns the stored hash. */
export async function storeAdminTokenHash(db: Db, hash: string): Promise<string> {
  await db.insertInto('settings').values({ name: ADMIN_TOKEN_SETTING, value: hash })
    .onConflict((oc) => oc.column('name').doNothing()).execute()
  return (await readAdminTokenHash(db))!
}
