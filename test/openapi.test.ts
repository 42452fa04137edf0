import { readFileSync } from 'node:fs'
import SwaggerParser from '@apidevtools/swagger-parser'
import t from 'tap'
import { OPENAPI_FILE, renderOpenApi } from '../scripts/openapi.js'

const generated = await renderOpenApi()

t.test('the committed openapi/openapi.json equals the one generated from the routes', async (t) => {
  t.equal(readFileSync(OPENAPI_FILE, 'utf8'), generated, 'openapi/openapi.json is stale: run `npm run openapi` and commit it')
})

t.test('the document is valid OpenAPI 3.1 and covers the contract\'s routes so far', async (t) => {
  const document = JSON.parse(generated)
  await SwaggerParser.validate(structuredClone(document))
  t.equal(document.openapi, '3.1.0')
  const operations = Object.entries(document.paths as Record<string, Record<string, unknown>>)
    .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`))
  for (const expected of [
    'POST /v1/issuers', 'GET /v1/issuers', 'GET /v1/issuers/{id}', 'PATCH /v1/issuers/{id}', 'POST /v1/issuers/{id}/keys/rotate',
    'POST /v1/api-keys', 'GET /v1/api-keys', 'DELETE /v1/api-keys/{id}',
    'GET /issuers/{id}', 'GET /issuers/{id}/did.json', 'GET /health'
  ]) {
    t.ok(operations.includes(expected), expected)
  }
  t.notMatch(JSON.stringify(document), /localhost|127\.0\.0\.1/, 'nothing deployment-specific')
})

t.test('/openapi.json and /docs are served', async (t) => {
  const { buildTestApp, openTestDatabase } = await import('./helpers/app.js')
  const { app } = await buildTestApp(t, await openTestDatabase(t, 'pglite'))
  const served = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(served.statusCode, 200)
  t.equal(served.json().openapi, '3.1.0')
  const docs = await app.inject({ method: 'GET', url: '/docs/' })
  t.equal(docs.statusCode, 200)
  t.match(docs.headers['content-type'], /text\/html/)
})
