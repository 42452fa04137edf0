import { randomBytes } from 'node:crypto'
import t from 'tap'
import { createKeyring } from '../src/crypto/keyring.js'
import { issuerSigner } from '../src/issuers/service.js'
import { AppError } from '../src/http/errors.js'
import { buildTestApp, createIssuer, onEachDatabase, TEST_MASTER_KEY } from './helpers/app.js'
import { inProcessSigner } from '../src/crypto/proof-pool.js'

await onEachDatabase(t, async (t, database) => {
  const { app, db, config } = await buildTestApp(t, database)
  const issuer = await createIssuer(app)
  const ctx = { db, keyring: createKeyring(TEST_MASTER_KEY), publicUrl: config.PUBLIC_URL, statusListSize: config.STATUS_LIST_SIZE, signDataIntegrity: inProcessSigner, idempotencyTtlMs: 86_400_000 }
  const caller = { principal: { kind: 'admin' as const }, requestId: 'test' }

  await t.test('the stored key row holds no plaintext private key', async (t) => {
    const row = await db.selectFrom('issuer_keys').selectAll().where('issuer_id', '=', issuer.id).executeTakeFirstOrThrow()
    const seed = ctx.keyring.open(row.sealed_private_key, row.master_key_id, row.id)
    t.equal(seed.length, 32, 'the sealed value opens to a 32-byte Ed25519 seed')
    const rowText = JSON.stringify(row)
    for (const encoding of ['hex', 'base64', 'base64url'] as const) {
      t.notOk(rowText.includes(seed.toString(encoding)), `seed not stored as ${encoding}`)
    }
    t.equal(row.master_key_id, ctx.keyring.keyId, 'records which master key sealed it')
  })

  await t.test('a wrong LANYARD_MASTER_KEY makes signing fail with a clear error', async (t) => {
    const wrong = { ...ctx, keyring: createKeyring(randomBytes(32)) }
    const error = await issuerSigner(wrong, caller, issuer.id).catch((e: unknown) => e)
    t.type(error, AppError)
    t.match(error, { code: 'master-key-mismatch', message: /LANYARD_MASTER_KEY/ })
  })

  await t.test('a sealed key copied onto another key row does not open', async (t) => {
    const other = await createIssuer(app)
    const source = await db.selectFrom('issuer_keys').selectAll().where('issuer_id', '=', issuer.id).executeTakeFirstOrThrow()
    await db.updateTable('issuer_keys').set({ sealed_private_key: source.sealed_private_key }).where('issuer_id', '=', other.id).execute()
    const error = await issuerSigner(ctx, caller, other.id).catch((e: unknown) => e)
    t.match(error, { code: 'sealed-key-corrupt', message: /integrity/ })
  })
})

t.test('the keyring refuses master keys that are not 32 bytes and sealed values it cannot parse', async (t) => {
  t.throws(() => createKeyring(randomBytes(16)), /32 bytes/)
  const keyring = createKeyring(randomBytes(32))
  t.throws(() => keyring.open('v0.abc', keyring.keyId, 'x'), { code: 'sealed-key-corrupt' })
  const sealed = keyring.seal(Buffer.from('secret'), 'row-1')
  t.equal(keyring.open(sealed, keyring.keyId, 'row-1').toString(), 'secret')
  t.not(keyring.seal(Buffer.from('secret'), 'row-1'), sealed, 'a fresh IV every time')
})
