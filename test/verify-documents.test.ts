// Where the verifier's documents come from, called directly: our own URLs answered in-process (also under a PUBLIC_URL
// with a path), everything else through the cache in front of the network, and documents that are not JSON.
import t from 'tap'
import type { ServiceContext } from '../src/context.js'
import { createKeyring } from '../src/crypto/keyring.js'
import { cachedFetcher, jsonOf, localFirst, type DocumentFetcher, type FetchedDocument, type FetchRequest, type LocalDocuments } from '../src/verify/documents.js'
import { localDocuments } from '../src/verify/local-documents.js'
import { admin, buildTestApp, createIssuer, openTestDatabase, TEST_MASTER_KEY } from './helpers/app.js'
import { createAchievement } from './helpers/credentials.js'
import { inProcessSigner } from '../src/crypto/proof-pool.js'

const JSON_REQUEST: FetchRequest = { accept: 'application/json', maxAgeMs: 60_000 }
const document = (url: string, body = `{"url":"${url}"}`): FetchedDocument => ({ url, contentType: 'application/json', body: Buffer.from(body) })

/** A fetcher that records the URLs it is asked for and answers each with a document naming it. */
function recording(answer: (url: string, calls: number) => Promise<FetchedDocument> = async (url) => document(url)): { fetch: DocumentFetcher; calls: string[] } {
  const calls: string[] = []
  return { calls, fetch: async (url) => answer(url, calls.push(url)) }
}

/** Local documents that record the paths asked for. */
function localRecorder(): { local: LocalDocuments; paths: [string, string][] } {
  const paths: [string, string][] = []
  const local: LocalDocuments = async (path, accept) => {
    paths.push([path, accept])
    return document(`local:${path}`)
  }
  return { local, paths }
}

t.test('URLs on our host are answered locally, with their query; the scheme is not compared', async (t) => {
  const { local, paths } = localRecorder()
  const remote = recording()
  const fetch = localFirst('https://badges.example.edu', local, remote.fetch)
  t.equal((await fetch('https://badges.example.edu/status/1?v=2', JSON_REQUEST)).url, 'local:/status/1?v=2')
  t.equal((await fetch('http://badges.example.edu/issuers/7/did.json', { accept: 'application/did+json', maxAgeMs: 0 })).url, 'local:/issuers/7/did.json')
  t.same(paths, [['/status/1?v=2', 'application/json'], ['/issuers/7/did.json', 'application/did+json']])
  t.same(remote.calls, [])

  t.equal((await fetch('https://badges.example.edu:8443/status/1', JSON_REQUEST)).url, 'https://badges.example.edu:8443/status/1', 'another port is another host')
  t.equal((await fetch('https://example.edu/status/1', JSON_REQUEST)).url, 'https://example.edu/status/1')
  t.same(remote.calls, ['https://badges.example.edu:8443/status/1', 'https://example.edu/status/1'])
})

t.test('a PUBLIC_URL with a path: only URLs under it are ours, and the path is taken off', async (t) => {
  const { local, paths } = localRecorder()
  const remote = recording()
  const fetch = localFirst('http://example.org/lanyard/', local, remote.fetch)
  for (const url of ['https://example.org/lanyard/status/1', 'https://example.org/lanyard']) await fetch(url, JSON_REQUEST)
  t.same(paths.map(([path]) => path), ['/status/1', ''])
  for (const url of ['https://example.org/lanyardx/status/1', 'https://example.org/status/1', 'https://example.org/']) await fetch(url, JSON_REQUEST)
  t.same(remote.calls, ['https://example.org/lanyardx/status/1', 'https://example.org/status/1', 'https://example.org/'], 'a sibling path and the rest of the host are not ours')
})

t.test('a path of ours that is not a document fails there, without asking the network', async (t) => {
  const remote = recording()
  const local: LocalDocuments = async (path) => { throw new Error(`https://badges.example.edu${path} is not a document Lanyard publishes`) }
  await t.rejects(localFirst('https://badges.example.edu', local, remote.fetch)('https://badges.example.edu/.well-known/did.json', JSON_REQUEST),
    new Error('https://badges.example.edu/.well-known/did.json is not a document Lanyard publishes'))
  t.same(remote.calls, [])
})

t.test('Lanyard\'s own documents, read through the service, under a PUBLIC_URL with a path', async (t) => {
  const { app, db, config, keyring } = await buildTestApp(t, await openTestDatabase(t, 'pglite'), { env: { PUBLIC_URL: 'https://example.org/lanyard' } })
  const ctx: ServiceContext = { db, keyring, publicUrl: config.PUBLIC_URL, statusListSize: config.STATUS_LIST_SIZE, signDataIntegrity: inProcessSigner, idempotencyTtlMs: 86_400_000 }
  const issuer = await createIssuer(app, { name: 'Northwind College' })
  const badge = await createAchievement(app, issuer.id)
  const issued = await app.inject({ method: 'POST', url: '/v1/credentials', headers: admin, payload: { achievementId: badge.id, recipient: { email: 'ada@example.com' } } })
  const credentialId: string = issued.json().id
  const remote = recording()
  const fetch = localFirst(ctx.publicUrl, localDocuments(ctx), remote.fetch)

  const didUrl = `https://example.org/lanyard/issuers/${issuer.id}/did.json`
  const didDocument = await fetch(didUrl, { accept: 'application/did+json', maxAgeMs: 0 })
  t.same({ url: didDocument.url, contentType: didDocument.contentType }, { url: didUrl, contentType: 'application/did+ld+json' })
  t.equal((jsonOf(didDocument) as { id: string }).id, issuer.did)
  t.equal((jsonOf(await fetch(`https://example.org/lanyard/issuers/${issuer.id}`, JSON_REQUEST)) as { name: string }).name, 'Northwind College')
  const credentialUrl = `https://example.org/lanyard/credentials/${credentialId}`
  t.equal((jsonOf(await fetch(credentialUrl, JSON_REQUEST)) as { id: string }).id, credentialUrl)
  for (const accept of ['text/html', 'image/png']) {
    await t.rejects(fetch(credentialUrl, { accept, maxAgeMs: 0 }), new Error(`${credentialUrl}: the credential is not available in a form a verifier reads`), accept)
  }

  const missing = '0190c0de-0000-7000-8000-000000000000'
  await t.rejects(fetch(`https://example.org/lanyard/status/${missing}`, JSON_REQUEST), new Error(`https://example.org/lanyard/status/${missing}: status list was not found`))
  await t.rejects(fetch(`https://example.org/lanyard/issuers/${missing}/did.json`, JSON_REQUEST), new Error(`https://example.org/lanyard/issuers/${missing}/did.json: issuer was not found`))
  await t.rejects(fetch(`https://example.org/lanyard/credentials/${missing}`, JSON_REQUEST), new Error(`https://example.org/lanyard/credentials/${missing}: credential was not found`))
  await t.rejects(fetch('https://example.org/lanyard/keys/1', JSON_REQUEST), new Error('https://example.org/lanyard/keys/1 is not a document Lanyard publishes'))
  t.same(remote.calls, [], 'nothing went to the network')
})

t.test('a database failure reading our own document does not put its message in the report', async (t) => {
  const { db } = await openTestDatabase(t, 'pglite')
  const ctx: ServiceContext = { db, keyring: createKeyring(TEST_MASTER_KEY), publicUrl: 'https://badges.example.edu', statusListSize: 131_072, signDataIntegrity: inProcessSigner, idempotencyTtlMs: 86_400_000 }
  const id = '0190c0de-0000-7000-8000-000000000000'
  await db.schema.dropTable('status_lists').cascade().execute()
  const failure = await localDocuments(ctx)(`/status/${id}`, 'application/json').then(() => undefined, (error: Error) => error)
  t.equal(failure?.message, `https://badges.example.edu/status/${id}: Lanyard could not read it just now`)
  t.match(String((failure?.cause as Error | undefined)?.message), /status_lists/, 'the cause is kept for whoever logs it')
})

t.test('the cache: a copy is reused while the request\'s maxAgeMs allows, then fetched again', async (t) => {
  let clock = 1_000
  const origin = recording()
  const fetch = cachedFetcher(origin.fetch, { maxEntries: 10, now: () => clock })
  const url = 'https://issuer.example/did.json'
  const first = await fetch(url, JSON_REQUEST)
  clock += 59_999
  t.equal(await fetch(url, JSON_REQUEST), first, 'within maxAgeMs: the same document')
  t.not(await fetch(url, { ...JSON_REQUEST, maxAgeMs: 30_000 }), first, 'a request allowing 30 s is not served the minute-old copy')
  t.same(origin.calls, [url, url])
  clock += 60_000
  await fetch(url, JSON_REQUEST)
  t.same(origin.calls, [url, url, url], 'past maxAgeMs: fetched again')
  await fetch(url, { ...JSON_REQUEST, accept: 'application/did+json' })
  t.equal(origin.calls.length, 4, 'another Accept is another document')
})

t.test('the cache: maxAgeMs 0 always fetches and stores nothing', async (t) => {
  const origin = recording()
  const fetch = cachedFetcher(origin.fetch, { maxEntries: 10, now: () => 0 })
  const url = 'https://example.org/badge.json'
  await fetch(url, { accept: 'application/json', maxAgeMs: 0 })
  await fetch(url, { accept: 'application/json', maxAgeMs: 0 })
  await fetch(url, JSON_REQUEST)
  t.same(origin.calls, [url, url, url], 'a later request that allows caching finds nothing stored')
})

t.test('the cache: concurrent requests share one fetch', async (t) => {
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  const origin = recording(async (url) => { await gate; return document(url) })
  const fetch = cachedFetcher(origin.fetch, { maxEntries: 10 })
  const both = Promise.all([fetch('https://issuer.example/did.json', JSON_REQUEST), fetch('https://issuer.example/did.json', JSON_REQUEST)])
  release()
  const [a, b] = await both
  t.equal(a, b)
  t.same(origin.calls, ['https://issuer.example/did.json'])
})

t.test('the cache: a failure is not kept, so the next request tries again', async (t) => {
  const origin = recording(async (url, calls) => {
    if (calls === 1) throw new Error(`${url} timed out`)
    return document(url)
  })
  const fetch = cachedFetcher(origin.fetch, { maxEntries: 10 })
  const url = 'https://flaky.example/did.json'
  await t.rejects(fetch(url, JSON_REQUEST), new Error(`${url} timed out`))
  t.equal((await fetch(url, JSON_REQUEST)).url, url)
  await fetch(url, JSON_REQUEST)
  t.same(origin.calls, [url, url], 'the success is kept')
})

t.test('the cache: a slow failure does not evict the newer copy that replaced it', async (t) => {
  let clock = 0
  let fail!: (error: Error) => void
  const origin = recording(async (url, calls) => calls === 1 ? new Promise<FetchedDocument>((_, reject) => { fail = reject }) : document(url))
  const fetch = cachedFetcher(origin.fetch, { maxEntries: 10, now: () => clock })
  const url = 'https://slow.example/did.json'
  const slow = fetch(url, JSON_REQUEST)
  clock += 60_000
  const fresh = await fetch(url, JSON_REQUEST)
  fail(new Error('reset'))
  await t.rejects(slow, new Error('reset'))
  t.equal(await fetch(url, JSON_REQUEST), fresh, 'still cached')
  t.same(origin.calls, [url, url])
})

t.test('the cache is bounded: the oldest entry goes first', async (t) => {
  const origin = recording()
  const fetch = cachedFetcher(origin.fetch, { maxEntries: 2 })
  for (const name of ['a', 'b', 'c', 'b', 'a']) await fetch(`https://example.org/${name}`, JSON_REQUEST)
  t.same(origin.calls, ['https://example.org/a', 'https://example.org/b', 'https://example.org/c', 'https://example.org/a'], 'a was evicted by c; b was still there')

  let fail!: (error: Error) => void
  const failing = cachedFetcher(recording(async () => new Promise<FetchedDocument>((_, reject) => { fail = reject })).fetch, { maxEntries: 0 })
  const gone = failing('https://example.org/evicted', JSON_REQUEST)
  fail(new Error('reset'))
  await t.rejects(gone, new Error('reset'), 'a failure of an entry already evicted is still the caller\'s answer')
})

t.test('a document that is not JSON says so, naming its URL', async (t) => {
  t.throws(() => jsonOf(document('https://example.org/page', '<!doctype html>')), new Error('https://example.org/page did not return JSON'))
  t.same(jsonOf(document('https://example.org/list', '[1]')), [1])
})
