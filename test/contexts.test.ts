import http from 'node:http'
import https from 'node:https'
import { readFileSync } from 'node:fs'
import t from 'tap'
import { BUNDLED_CONTEXT_URLS, documentLoader } from '../src/crypto/document-loader.js'
import { PUBLISHED_FILES } from './helpers/independent-verifier.js'

const PUBLISHED = new URL('../../shared/ob3/contexts/', import.meta.url)
const OB3 = 'https://purl.imsglobal.org/spec/ob/v3p0/'
const published = (file: string): unknown => JSON.parse(readFileSync(new URL(file, PUBLISHED), 'utf8'))

const loaded = async (url: string): Promise<Record<string, unknown>> => (await documentLoader(url)).document as Record<string, unknown>

/** Every key used anywhere in a JSON value. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf)
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([key, inner]) => [key, ...keysOf(inner)])
}

t.test('the VC v2 and OB 3.0 contexts served equal the published files', async (t) => {
  for (const [url, file] of Object.entries(PUBLISHED_FILES)) {
    t.same(await loaded(url), published(file), url)
  }
})

t.test('the VC v2 context served is the final one, without @vocab', async (t) => {
  t.notOk(keysOf(await loaded('https://www.w3.org/ns/credentials/v2')).includes('@vocab'))
})

t.test('the OB 3.0.3 context served defines inLanguage', async (t) => {
  t.ok(keysOf(await loaded(`${OB3}context-3.0.3.json`)).includes('inLanguage'))
})

t.test('every served URL answers with a JSON-LD context, tagged static', async (t) => {
  t.same([...BUNDLED_CONTEXT_URLS].sort(), [
    `${OB3}context-3.0.1.json`, `${OB3}context-3.0.2.json`, `${OB3}context-3.0.3.json`, `${OB3}context.json`, `${OB3}extensions.json`,
    'https://w3id.org/security/data-integrity/v1', 'https://w3id.org/security/data-integrity/v2',
    'https://w3id.org/security/suites/ed25519-2020/v1',
    'https://www.w3.org/2018/credentials/v1', 'https://www.w3.org/ns/credentials/v2'
  ])
  for (const url of BUNDLED_CONTEXT_URLS) {
    const remote = await documentLoader(url)
    t.match(remote, { contextUrl: null, documentUrl: url, tag: 'static', document: { '@context': Object } }, url)
  }
})

t.test('an unknown URL is refused, naming it, without touching the network', async (t) => {
  const calls = [t.capture(globalThis, 'fetch'), t.capture(http, 'request'), t.capture(http, 'get'), t.capture(https, 'request'), t.capture(https, 'get')]
  await t.rejects(documentLoader('https://example.com/ctx.json'), { message: /https:\/\/example\.com\/ctx\.json/ })
  await t.rejects(documentLoader('did:web:example.com'), { message: /did:web:example\.com/ })
  await t.rejects(documentLoader('OBv3_beta'), 'a package alias is not served')
  t.same(calls.map((capture) => capture.args().length), [0, 0, 0, 0, 0])
})
