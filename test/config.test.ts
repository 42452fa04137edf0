import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'
import { didKeyFor, didWebFor } from '../src/crypto/did.js'

t.test('with an empty environment every default applies', async (t) => {
  const config = loadConfig({})
  t.match(config, {
    PORT: 3000, HOST: '127.0.0.1', PUBLIC_URL: 'http://localhost:3000', DATA_DIR: './data',
    LANYARD_ALLOW_PRIVATE_FETCH: false, LOG_LEVEL: 'info', STATUS_LIST_SIZE: 131072, LANYARD_CLAIM_TTL_HOURS: 168
  })
  t.equal(config.DATABASE_URL, undefined)
  t.equal(config.LANYARD_MASTER_KEY, undefined)
  t.ok(Object.isFrozen(config))
})

t.test('PUBLIC_URL follows PORT by default and loses a trailing slash', async (t) => {
  t.equal(loadConfig({ PORT: '8080' }).PUBLIC_URL, 'http://localhost:8080')
  t.equal(loadConfig({ PUBLIC_URL: 'https://badges.example.edu/lanyard/' }).PUBLIC_URL, 'https://badges.example.edu/lanyard')
})

t.test('empty strings count as unset', async (t) => {
  t.equal(loadConfig({ DATABASE_URL: '', PORT: '' }).PORT, 3000)
})

t.test('a bad value stops start-up with a message naming the variable', async (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: 'eighty' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ PUBLIC_URL: 'ftp://x' }, /PUBLIC_URL/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL: expected a postgres/],
    [{ LANYARD_MASTER_KEY: 'c2hvcnQ=' }, /LANYARD_MASTER_KEY: expected base64 of exactly 32 bytes/],
    [{ LANYARD_ADMIN_TOKEN: 'short' }, /LANYARD_ADMIN_TOKEN/],
    [{ LANYARD_ALLOW_PRIVATE_FETCH: 'maybe' }, /LANYARD_ALLOW_PRIVATE_FETCH/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ NODE_ENV: 'production' }, /LANYARD_MASTER_KEY: required when NODE_ENV=production/],
    [{ STATUS_LIST_SIZE: '100' }, /STATUS_LIST_SIZE: expected a multiple of 8/],
    [{ NODE_ENV: 'production', LANYARD_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'), STATUS_LIST_SIZE: '1024' }, /STATUS_LIST_SIZE: at least 131072/]
  ]
  for (const [env, message] of cases) {
    t.throws(() => loadConfig(env), ConfigError, JSON.stringify(env))
    t.throws(() => loadConfig(env), { message }, JSON.stringify(env))
  }
})

t.test('booleans accept the usual spellings', async (t) => {
  t.equal(loadConfig({ LANYARD_ALLOW_PRIVATE_FETCH: 'true' }).LANYARD_ALLOW_PRIVATE_FETCH, true)
  t.equal(loadConfig({ LANYARD_ALLOW_PRIVATE_FETCH: '0' }).LANYARD_ALLOW_PRIVATE_FETCH, false)
})

t.test('did:web encodes the port and keeps a PUBLIC_URL path', async (t) => {
  t.equal(didWebFor('http://localhost:3000', ['issuers', 'abc']), 'did:web:localhost%3A3000:issuers:abc')
  t.equal(didWebFor('https://badges.example.edu', ['issuers', 'abc']), 'did:web:badges.example.edu:issuers:abc')
  t.equal(didWebFor('https://example.edu/lanyard', ['issuers', 'abc']), 'did:web:example.edu:lanyard:issuers:abc')
})

t.test('did:key of the W3C did:key test vector', async (t) => {
  // did:key spec, Ed25519 test vector: this public key (hex) is did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp
  const publicKey = Buffer.from('3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29', 'hex')
  t.equal(didKeyFor(publicKey), 'did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp')
})
