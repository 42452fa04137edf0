// GET /credentials/:id/badge.png and badge.svg: the badge image with the credential baked in (OB 3.0 §5). What bakes in
// is the credential exactly as signed, it extracts back byte for byte, and it verifies.
import t from 'tap'
import { extractBakedCredential } from '../src/baking/extract.js'
import { parseSvgDocument } from '../src/baking/svg-document.js'
import { admin, assertProblem, bearer, buildTestApp, createApiKey, createIssuer, onEachDatabase } from './helpers/app.js'
import { createAchievement } from './helpers/credentials.js'
import { solidPng, solidPngDataUri } from './helpers/png.js'

type Json = Record<string, any>

const SVG_IMAGE = 'data:image/svg+xml;utf8,' + encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><circle cx="50" cy="50" r="40" fill="teal"/></svg>')

await onEachDatabase(t, async (t, database) => {
  const { app } = await buildTestApp(t, database)
  const issuer = await createIssuer(app, { name: 'Riverside College' })
  const pngBadge = await createAchievement(app, issuer.id, { name: 'PNG badge', image: { id: solidPngDataUri(64) } })
  const svgBadge = await createAchievement(app, issuer.id, { name: 'SVG badge', image: { id: SVG_IMAGE } })
  const plainBadge = await createAchievement(app, issuer.id, { name: 'Welding & <Safety>' })
  const issue = async (achievementId: string, extra: Json = {}) => {
    const res = await app.inject({ method: 'POST', url: '/v1/credentials', headers: admin, payload: { achievementId, recipient: { email: 'ada@example.com' }, ...extra } })
    t.equal(res.statusCode, 201, 'issued')
    return res.json()
  }
  const get = (url: string) => app.inject({ method: 'GET', url })
  const verify = async (bytes: Buffer, type: string) => (await app.inject({ method: 'POST', url: '/verify', headers: { 'content-type': type }, payload: bytes })).json()

  for (const variant of [{}, { format: 'vc-jwt' }]) {
    await t.test(`${variant.format ?? 'eddsa-rdfc-2022'}: badge.png and badge.svg hold the signed credential exactly, and verify`, async (t) => {
      const issued = await issue(pngBadge.id, variant)
      const signed = issued.jwt ?? JSON.stringify(issued.credential)
      for (const kind of ['png', 'svg'] as const) {
        const res = await get(`/credentials/${issued.id}/badge.${kind}`)
        t.equal(res.statusCode, 200)
        t.equal(res.headers['content-type'], kind === 'png' ? 'image/png' : 'image/svg+xml')
        t.match(res.headers['content-security-policy'], /default-src 'none'/)
        t.equal(res.headers['x-content-type-options'], 'nosniff')
        const baked = extractBakedCredential(res.rawPayload)
        t.equal(baked.kind, issued.jwt ? 'jwt' : 'json')
        t.equal(baked.text, issued.jwt ?? (await app.inject({ method: 'GET', url: `/credentials/${issued.id}` })).body, 'the exact signed bytes')
        t.ok(signed.length > 0)
        const report = await verify(res.rawPayload, kind === 'png' ? 'image/png' : 'image/svg+xml')
        t.equal(report.verified, true, `the baked ${kind} verifies`)
      }
      const png = (await get(`/credentials/${issued.id}/badge.png`)).rawPayload
      t.ok(png.length - solidPng(64).length < (issued.jwt ?? JSON.stringify(issued.credential)).length + 100, 'a baked PNG is its image plus the credential')
    })
  }

  await t.test('an SVG image is baked into as it is; a PNG image also gets an SVG form', async (t) => {
    const fromSvg = await issue(svgBadge.id)
    const svg = (await get(`/credentials/${fromSvg.id}/badge.svg`)).body
    const document = parseSvgDocument(svg)
    t.equal(document.getElementsByTagName('circle').length, 1, 'the issuer\'s drawing is kept')
    assertProblem(t, await get(`/credentials/${fromSvg.id}/badge.png`), 404, 'no-png-badge')

    const fromPng = await issue(pngBadge.id)
    const wrapped = parseSvgDocument((await get(`/credentials/${fromPng.id}/badge.svg`)).body)
    const image = wrapped.getElementsByTagName('image')[0]!
    t.match(image.getAttribute('href'), /^data:image\/png;base64,/)
    t.equal(wrapped.documentElement!.getAttribute('width'), '64')
  })

  await t.test('without an image, a generated badge names the achievement, as text', async (t) => {
    const issued = await issue(plainBadge.id)
    const res = await get(`/credentials/${issued.id}/badge.svg`)
    t.equal(res.statusCode, 200)
    const document = parseSvgDocument(res.body)
    t.match(document.documentElement!.textContent, 'Welding & <Safety>')
    t.equal(document.getElementsByTagName('script').length, 0)
    t.equal((await verify(res.rawPayload, 'image/svg+xml')).verified, true)
    assertProblem(t, await get(`/credentials/${issued.id}/badge.png`), 404, 'no-png-badge')
  })

  await t.test('a VC-API credential (no achievement) gets a generated badge named by the credential, or a generic one', async (t) => {
    const { key } = await createApiKey(app, issuer.id)
    const sign = async (credential: Json) => {
      const res = await app.inject({ method: 'POST', url: '/credentials/issue', headers: bearer(key), payload: { credential } })
      t.equal(res.statusCode, 201)
      return res.json().verifiableCredential
    }
    const base = { '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiableCredential'], issuer: issuer.did }
    const named = await sign({ ...base, id: 'urn:uuid:8a1d4d52-6f8e-4a61-9d1b-0c6c9f0d2a11', name: 'Library Card', credentialSubject: { id: 'did:example:ada' } })
    const plain = await sign({ ...base, id: 'urn:uuid:8a1d4d52-6f8e-4a61-9d1b-0c6c9f0d2a12', credentialSubject: [{ id: 'did:example:ada' }, { id: 'did:example:bo' }] })
    for (const [credential, text] of [[named, 'Library Card'], [plain, 'Verifiable Credential']] as const) {
      const listed = (await app.inject({ method: 'GET', url: `/v1/credentials?issuerId=${issuer.id}&limit=200`, headers: admin })).json().items
      const row = listed.find((item: Json) => item.credential.id === credential.id)
      const res = await get(`/credentials/${row.id}/badge.svg`)
      t.equal(res.statusCode, 200)
      t.match(parseSvgDocument(res.body).documentElement!.textContent, text)
      t.equal(extractBakedCredential(res.rawPayload).text, (await get(`/credentials/${row.id}`)).body)
    }
  })

  await t.test('an unknown credential: 404', async (t) => {
    assertProblem(t, await get('/credentials/00000000-0000-4000-8000-000000000000/badge.svg'), 404, 'not-found')
    assertProblem(t, await get('/credentials/not-a-uuid/badge.png'), 400, 'validation-failed')
  })
})
