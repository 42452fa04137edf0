import { deflateSync } from 'node:zlib'
import type { FastifyInstance, InjectOptions } from 'fastify'
import t, { type Test } from 'tap'
import { admin, bearer, buildTestApp, createApiKey, createIssuer, onEachDatabase } from './helpers/app.js'
import { officialSchemaValidator } from './helpers/ob3.js'
import { chunk } from './helpers/png.js'
import { forgePng, GREY_2X2_ROWS, ihdrData, overlongItxtPng, pngDataUri } from './helpers/png-forge.js'

const validateCredential = officialSchemaValidator('achievementcredential')
const MISSING = '00000000-0000-4000-8000-000000000000'
const PUBLIC_URL = 'https://badges.example.edu'

/** A real 1×1 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64')
const pngUri = (bytes: Buffer) => `data:image/png;base64,${bytes.toString('base64')}`

/** A badge SVG with what real artwork has: a prolog, a gradient fill, an embedded PNG, character references in both quote styles. */
const SAFE_SVG = [
  '\uFEFF<?xml version="1.0" encoding="UTF-8"?>',
  '<!-- made by hand -->',
  '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">',
  '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 100 100">',
  '<defs><linearGradient id="g"><stop offset="0" stop-color="#fc0"/></linearGradient></defs>',
  '<style>circle { fill: url(#g) }</style>',
  `<circle cx='50' cy='50' r='40' style="fill: url('#g')"/>`,
  '<rect width="100%" height="100%" fill="none"/>',
  `<image width="10" height="10" xlink:href="${pngUri(PNG)}"/>`,
  '<use href="#g"/>',
  '<text x="10" y="90">&#169; &#xA9; &#x110000; Caf\u00e9</text>',
  '</svg>'
].join('\n')

const CLEAN_FIELDS = {
  name: 'Data Literacy',
  description: 'Reads, questions and explains data.',
  criteria: { narrative: 'Complete the **four** modules and the capstone.' }
}

type Reply = Awaited<ReturnType<FastifyInstance['inject']>>

function assertProblem(t: Test, res: Reply, status: number, code: string, pointer?: string) {
  t.equal(res.statusCode, status, `${code}: status`)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  const body = res.json()
  t.match(body, { type: `urn:lanyard:problem:${code}`, status, detail: String })
  if (pointer !== undefined) t.match(body.errors, [{ pointer, message: String }], `${code}: points at ${pointer}`)
  return body
}

await onEachDatabase(t, async (t, database) => {
  const { app, db } = await buildTestApp(t, database)
  const issuer = await createIssuer(app, { name: 'Northwind College' })

  async function create(body: Record<string, unknown>, options: { issuerId?: string; headers?: Record<string, string> } = {}) {
    return app.inject({
      method: 'POST', url: `/v1/issuers/${options.issuerId ?? issuer.id}/achievements`, headers: options.headers ?? admin,
      payload: { ...CLEAN_FIELDS, ...body }
    })
  }

  async function created(body: Record<string, unknown> = {}) {
    const res = await create(body)
    if (res.statusCode !== 201) throw new Error(`creating an achievement answered ${res.statusCode}: ${res.body}`)
    return res.json()
  }

  const countAchievements = async () => Number((await db.selectFrom('achievements').select(db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)

  await t.test('creating an achievement answers 201 with its definition, and GET returns the same', async (t) => {
    const definition = {
      criteria: { narrative: 'Pass the exam.', id: 'https://northwind.example.edu/data-literacy' },
      image: { id: 'https://northwind.example.edu/badges/data.png', caption: 'A bar chart' },
      achievementType: 'Competency',
      tags: ['data', 'statistics'],
      alignments: [{
        targetName: 'Data literacy', targetUrl: 'https://frameworks.example.org/data', targetDescription: 'Working with data',
        targetCode: 'DL-1', targetFramework: 'Example Framework', targetType: 'ceasn:Competency'
      }]
    }
    const res = await create(definition)
    t.equal(res.statusCode, 201)
    const achievement = res.json()
    t.match(achievement.id, /^[0-9a-f-]{36}$/)
    t.same(achievement, {
      id: achievement.id,
      issuerId: issuer.id,
      name: 'Data Literacy',
      description: 'Reads, questions and explains data.',
      ...definition,
      resultDescription: [],
      review: { required: false },
      achievementUrl: `${PUBLIC_URL}/achievements/${achievement.id}`,
      createdAt: achievement.createdAt,
      updatedAt: achievement.updatedAt
    })
    t.ok(Date.parse(achievement.createdAt) > Date.now() - 60_000)
    const fetched = await app.inject({ method: 'GET', url: `/v1/achievements/${achievement.id}`, headers: admin })
    t.equal(fetched.statusCode, 200)
    t.same(fetched.json(), achievement, 'GET returns what POST returned')
  })

  await t.test('the public Achievement is an OB 3.0 Achievement created by the issuer\'s Profile', async (t) => {
    const achievement = await created({
      image: { id: pngUri(PNG), caption: 'Badge' },
      achievementType: 'ext:MicroBadge-2.0_x',
      tags: ['data'],
      alignments: [{ targetName: 'Statistics', targetUrl: 'https://frameworks.example.org/stats', targetType: 'ext:Skill' }]
    })
    const res = await app.inject({ method: 'GET', url: `/achievements/${achievement.id}`, headers: { origin: 'https://employer.example.com' } })
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^application\/json/)
    t.equal(res.headers['access-control-allow-origin'], '*')
    const document = res.json()
    t.same(document, {
      '@context': ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
      id: `${PUBLIC_URL}/achievements/${achievement.id}`,
      type: ['Achievement'],
      name: 'Data Literacy',
      description: 'Reads, questions and explains data.',
      criteria: { narrative: 'Complete the **four** modules and the capstone.' },
      image: { id: `${PUBLIC_URL}/achievements/${achievement.id}/image`, type: 'Image', caption: 'Badge' },
      achievementType: 'ext:MicroBadge-2.0_x',
      tag: ['data'],
      alignment: [{ type: ['Alignment'], targetName: 'Statistics', targetUrl: 'https://frameworks.example.org/stats', targetType: 'ext:Skill' }],
      creator: { id: issuer.did, type: ['Profile'], name: 'Northwind College' }
    })
    for (const required of ['id', 'type', 'name', 'description', 'criteria']) t.ok(required in document, `has ${required}`)

    const { '@context': context, ...embedded } = document
    const credential = {
      '@context': context,
      id: 'urn:uuid:2f3c6f7e-6a53-4a4b-9a36-1b1f8d1c2e3f',
      type: ['VerifiableCredential', 'OpenBadgeCredential'],
      issuer: { id: issuer.did, type: ['Profile'], name: 'Northwind College' },
      validFrom: new Date().toISOString(),
      name: 'Data Literacy',
      credentialSubject: { id: 'did:example:learner', type: ['AchievementSubject'], achievement: embedded }
    }
    t.same(validateCredential(credential), [], 'embedded in a credential, it passes the official AchievementCredential schema')
  })

  await t.test('a minimal achievement publishes no image, type, tags or alignments', async (t) => {
    const achievement = await created({ criteria: { id: 'https://northwind.example.edu/criteria' } })
    t.match(achievement, { image: null, achievementType: null, tags: [], alignments: [], criteria: { id: 'https://northwind.example.edu/criteria' } })
    const document = (await app.inject({ method: 'GET', url: `/achievements/${achievement.id}` })).json()
    for (const absent of ['image', 'achievementType', 'tag', 'alignment']) t.notOk(absent in document, `no ${absent}`)
    t.same(document.criteria, { id: 'https://northwind.example.edu/criteria' })
    const image = await app.inject({ method: 'GET', url: `/achievements/${achievement.id}/image` })
    assertProblem(t, image, 404, 'not-found')
    t.equal(image.json().detail, 'achievement image was not found')
  })

  await t.test('a PNG sent as a data: URI is served back byte for byte with caching and safety headers', async (t) => {
    const achievement = await created({ image: { id: pngUri(PNG) } })
    t.same(achievement.image, { id: `${PUBLIC_URL}/achievements/${achievement.id}/image` }, 'the view names the served URL, not the bytes')
    const res = await app.inject({ method: 'GET', url: achievement.image.id.slice(PUBLIC_URL.length) })
    t.equal(res.statusCode, 200)
    t.equal(res.headers['content-type'], 'image/png')
    t.equal(res.headers['cache-control'], 'public, max-age=86400')
    t.equal(res.headers['x-content-type-options'], 'nosniff')
    t.ok(res.rawPayload.equals(PNG), 'the served bytes are the bytes sent')
    const listed = (await app.inject({ method: 'GET', url: `/v1/issuers/${issuer.id}/achievements?limit=200`, headers: admin })).json()
    t.notMatch(JSON.stringify(listed), /iVBORw0KGgo/, 'no view carries the image bytes')
  })

  await t.test('an SVG sent base64, URL-encoded or as utf8 text is served back with a sandboxing CSP', async (t) => {
    const uris = [
      `data:image/svg+xml;base64,${Buffer.from(SAFE_SVG).toString('base64')}`,
      `data:image/svg+xml,${encodeURIComponent(SAFE_SVG)}`,
      `data:image/svg+xml;charset=utf-8,${encodeURIComponent(SAFE_SVG)}`,
      `data:image/svg+xml;utf8,${SAFE_SVG}`
    ]
    for (const uri of uris) {
      const achievement = await created({ image: { id: uri } })
      const res = await app.inject({ method: 'GET', url: `/achievements/${achievement.id}/image` })
      t.equal(res.statusCode, 200, uri.slice(0, 30))
      t.equal(res.headers['content-type'], 'image/svg+xml')
      t.equal(res.headers['content-security-policy'], 'default-src \'none\'; style-src \'unsafe-inline\'; sandbox')
      t.equal(res.headers['x-content-type-options'], 'nosniff')
      t.equal(res.headers['cache-control'], 'public, max-age=86400')
      t.ok(res.rawPayload.equals(Buffer.from(SAFE_SVG)), 'the served bytes are the bytes sent')
    }
  })

  await t.test('an https image is published as it is, and the image route redirects to it', async (t) => {
    const achievement = await created({ image: { id: 'https://cdn.example.org/badge.svg' } })
    t.same(achievement.image, { id: 'https://cdn.example.org/badge.svg' })
    const document = (await app.inject({ method: 'GET', url: `/achievements/${achievement.id}` })).json()
    t.same(document.image, { id: 'https://cdn.example.org/badge.svg', type: 'Image' })
    const res = await app.inject({ method: 'GET', url: `/achievements/${achievement.id}/image` })
    t.equal(res.statusCode, 302)
    t.equal(res.headers.location, 'https://cdn.example.org/badge.svg')
  })

  await t.test('SVGs that could run script or load something are refused with 422, not cleaned', async (t) => {
    const unsafe: [label: string, svg: string][] = [
      ['script element', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'],
      ['prefixed script element', '<svg xmlns:s="http://www.w3.org/2000/svg"><s:script>alert(1)</s:script></svg>'],
      ['event handler', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'],
      ['event handler in single quotes', '<svg><circle r="1" ONCLICK=\'alert(1)\'/></svg>'],
      ['javascript: link', '<svg><a href="javascript:alert(1)"><text>x</text></a></svg>'],
      ['javascript: hidden by references and whitespace', '<svg><a href="&#106;ava&#x09;script&#58;alert(1)">x</a></svg>'],
      ['vbscript: link', '<svg><a href="vbscript:msgbox">x</a></svg>'],
      ['external image', '<svg><image href="https://tracker.example/pixel.png"/></svg>'],
      ['external use', '<svg><use xlink:href="other.svg#icon"/></svg>'],
      ['external link hidden by a reference', '<svg><use href="&#104;ttps://evil.example/x.svg#a"/></svg>'],
      ['data: SVG inside', '<svg><image href="data:image/svg+xml,%3Csvg%3E"/></svg>'],
      ['foreignObject', '<svg><foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject></svg>'],
      ['iframe', '<svg><iframe src="#x"/></svg>'],
      ['src attribute', '<svg><img src="https://evil.example/x.png"/></svg>'],
      ['DOCTYPE with entities', '<!DOCTYPE svg [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><svg>&lol2;</svg>'],
      ['DOCTYPE inside', '<svg><!DOCTYPE svg></svg>'],
      ['entity declaration', '<svg><!ENTITY x SYSTEM "file:///etc/passwd"></svg>'],
      ['stylesheet instruction', '<svg><?xml-stylesheet href="https://evil.example/a.css"?></svg>'],
      ['CSS url()', '<svg><style>rect { fill: url(https://evil.example/f.svg#p) }</style></svg>'],
      ['CSS @import', '<svg><style>@import "https://evil.example/a.css";</style></svg>'],
      ['animated link', '<svg><a href="#a"><set attributeName="xlink:href" to="https://evil.example"/></a></svg>'],
      ['animated event handler', '<svg><set attributeName="onclick" to="alert(1)"/></svg>'],
      ['CSS escape', '<svg><style>@\\69mport "https://evil.example/a.css";</style></svg>']
    ]
    const before = await countAchievements()
    for (const [label, svg] of unsafe) {
      const res = await create({ image: { id: `data:image/svg+xml,${encodeURIComponent(svg)}` } })
      const body = assertProblem(t, res, 422, 'unsafe-svg', '/image/id')
      t.match(body.detail, /without scripts, event handlers or external references/, label)
    }
    t.equal(await countAchievements(), before, 'nothing was stored')
  })

  await t.test('an image that is not what its data: URI says is refused with 422 pointing at /image/id', async (t) => {
    const bad: [label: string, uri: string, detail: RegExp][] = [
      ['SVG labelled PNG', `data:image/png;base64,${Buffer.from(SAFE_SVG).toString('base64')}`, /not a PNG/],
      ['truncated PNG', pngUri(PNG.subarray(0, 10)), /cut short before its IEND chunk/],
      ['PNG without base64', 'data:image/png,%89PNG', /not UTF-8 text/],
      ['not base64', 'data:image/png;base64,iVBOR w0K', /base64 alphabet/],
      ['percent-encoded bytes that are not UTF-8', 'data:image/svg+xml,%3Csvg%3E%E0%A4%A', /not UTF-8 text/],
      ['SVG that is not UTF-8', `data:image/svg+xml;base64,${Buffer.from([0x3c, 0x73, 0x76, 0x67, 0xff, 0x3e]).toString('base64')}`, /not UTF-8/],
      ['HTML labelled SVG', `data:image/svg+xml,${encodeURIComponent('<html><svg></svg></html>')}`, /root element must be <svg>/],
      ['empty SVG', 'data:image/svg+xml,', /root element/],
      ['media type parameters without data', 'data:image/svg+xml;base64', /expected data:image\/png;base64/]
    ]
    for (const [label, uri, detail] of bad) {
      const body = assertProblem(t, await create({ image: { id: uri } }), 422, 'invalid-image', '/image/id')
      t.match(body.detail, detail, label)
    }
  })

  await t.test('a PNG whose iTXt chunk claims 50,000,000 bytes and holds 28 is refused, on create and on update (issue 18)', async (t) => {
    const attack = { image: { id: pngDataUri(overlongItxtPng()) } }
    const before = await countAchievements()
    const refused = assertProblem(t, await create(attack), 422, 'invalid-image', '/image/id')
    t.match(refused.detail, /iTXt chunk claims 50000000 bytes but only 28 remain/)
    t.equal(await countAchievements(), before, 'nothing was stored')
    const achievement = await created({ image: { id: pngDataUri(forgePng()) } })
    const update = await app.inject({ method: 'PATCH', url: `/v1/achievements/${achievement.id}`, headers: admin, payload: attack })
    t.match(assertProblem(t, update, 422, 'invalid-image', '/image/id').detail, /iTXt chunk claims 50000000 bytes but only 28 remain/)
    const served = await app.inject({ method: 'GET', url: `/achievements/${achievement.id}/image` })
    t.ok(served.rawPayload.equals(forgePng()), 'the stored image is the one from before')
  })

  await t.test('a PNG is refused unless every chunk, the header, the image data and a decode are sound', async (t) => {
    const damagedCrc = forgePng()
    damagedCrc[damagedCrc.length - 20]! ^= 0x01
    const compressed = deflateSync(GREY_2X2_ROWS)
    const bad: [label: string, png: Buffer, detail: RegExp][] = [
      ['a wrong CRC', damagedCrc, /the PNG is damaged: its IDAT chunk fails its CRC check/],
      ['no IEND', forgePng({ end: Buffer.alloc(0) }), /cut short before its IEND chunk/],
      ['data after IEND', forgePng({ end: Buffer.concat([chunk('IEND', ''), Buffer.from('trailing')]) }), /8 bytes after its IEND chunk/],
      ['no IDAT', forgePng({ idat: [] }), /no IDAT chunk/],
      ['a short IHDR', forgePng({ ihdr: ihdrData().subarray(0, 12) }), /its IHDR chunk is 12 bytes, not 13/],
      ['zero width', forgePng({ ihdr: ihdrData({ width: 0 }) }), /0×2 pixels; both sides must be at least 1/],
      ['zero height', forgePng({ ihdr: ihdrData({ height: 0 }) }), /2×0 pixels; both sides must be at least 1/],
      ['too wide', forgePng({ ihdr: ihdrData({ width: 2049 }) }), /2049×2 pixels; at most 2048×2048 are accepted/],
      ['too tall', forgePng({ ihdr: ihdrData({ height: 100_000 }) }), /2×100000 pixels; at most 2048×2048/],
      ['an unknown colour type', forgePng({ ihdr: ihdrData({ colourType: 5 }) }), /colour type 5 with bit depth 8, which the PNG spec does not allow/],
      ['a bit depth its colour type does not allow', forgePng({ ihdr: ihdrData({ colourType: 2, depth: 4 }) }), /colour type 2 with bit depth 4/],
      ['an unknown compression method', forgePng({ ihdr: ihdrData({ compression: 1 }) }), /compression \(1\), filter \(0\) or interlace \(0\) method/],
      ['an unknown filter method', forgePng({ ihdr: ihdrData({ filter: 1 }) }), /filter \(1\)/],
      ['an unknown interlace method', forgePng({ ihdr: ihdrData({ interlace: 2 }) }), /interlace \(2\)/],
      ['truncated image data', forgePng({ idat: [compressed.subarray(0, -4)] }), /image data is not a whole zlib stream \(unexpected end of file\)/],
      ['image data that is not zlib', forgePng({ idat: [Buffer.from('pixels')] }), /not a whole zlib stream/],
      ['too little image data', forgePng({ idat: [deflateSync(GREY_2X2_ROWS.subarray(0, 3))] }), /inflates to 3 bytes; its 2×2 header calls for 6/],
      ['a decompression bomb', forgePng({ idat: [deflateSync(Buffer.alloc(10_000_000))] }), /inflates to more than the 6 bytes its 2×2 header calls for/],
      ['an unknown row filter', forgePng({ idat: [deflateSync(Buffer.from([9, 40, 80, 0, 120, 160]))] }), /does not decode: Unrecognised filter type - 9/],
      ['a palette image without its palette', forgePng({ ihdr: ihdrData({ colourType: 3 }) }), /does not decode: Expected palette not found/]
    ]
    const before = await countAchievements()
    for (const [label, png, detail] of bad) {
      const body = assertProblem(t, await create({ image: { id: pngDataUri(png) } }), 422, 'invalid-image', '/image/id')
      t.match(body.detail, detail, label)
    }
    t.equal(await countAchievements(), before, 'nothing was stored')
  })

  await t.test('a sound PNG is accepted: interlaced, at the size cap, across chunks, with ancillary chunks', async (t) => {
    // Adam7 over 3×3 greyscale: passes 1, 4, 5, 6 (two rows) and 7 have pixels, 2 and 3 none; each row opens with its filter byte.
    const compressed = deflateSync(GREY_2X2_ROWS)
    const interlaced = deflateSync(Buffer.from([0, 10, 0, 20, 0, 30, 31, 0, 40, 0, 41, 0, 50, 51, 52]))
    const cap = { width: 2048, height: 2048, depth: 1 }
    const good: [label: string, png: Buffer][] = [
      ['2×2 greyscale', forgePng()],
      ['3×3 interlaced', forgePng({ ihdr: ihdrData({ width: 3, height: 3, interlace: 1 }), idat: [interlaced] })],
      ['1×1 interlaced (six empty passes)', forgePng({ ihdr: ihdrData({ width: 1, height: 1, interlace: 1 }), idat: [deflateSync(Buffer.from([0, 7]))] })],
      ['2048×2048', forgePng({ ihdr: ihdrData(cap), idat: [deflateSync(Buffer.alloc(2048 * 257))] })],
      ['image data in two IDAT chunks', forgePng({ idat: [compressed.subarray(0, 5), compressed.subarray(5)] })],
      ['a tEXt chunk and a palette', forgePng({ ihdr: ihdrData({ colourType: 3 }), before: [chunk('tEXt', 'Title\0Badge'), chunk('PLTE', Buffer.alloc(3 * 161))] })]
    ]
    for (const [label, png] of good) {
      const res = await create({ image: { id: pngDataUri(png) } })
      t.equal(res.statusCode, 201, `${label}: ${res.body}`)
      const served = await app.inject({ method: 'GET', url: `/achievements/${res.json().id}/image` })
      t.ok(served.rawPayload.equals(png), `${label}: stored as sent`)
    }
  })

  await t.test('an image over 256 KiB is a 422 that says the limit; a body over the request limit is a 413 before any decoding', async (t) => {
    const big = Buffer.concat([PNG, Buffer.alloc(300 * 1024)])
    const body = assertProblem(t, await create({ image: { id: pngUri(big) } }), 422, 'image-too-large', '/image/id')
    t.match(body.detail, /at most 262144 bytes \(256 KiB\)/)
    const huge = `data:image/svg+xml,${'<svg>'.padEnd(1_100_000, ' ')}`
    assertProblem(t, await create({ image: { id: huge } }), 413, 'body-too-large')
  })

  await t.test('PATCH changes what it is sent, null clears, and the public document follows', async (t) => {
    const achievement = await created({ image: { id: pngUri(PNG), caption: 'Old' }, achievementType: 'Badge', tags: ['old'] })
    const res = await app.inject({
      method: 'PATCH', url: `/v1/achievements/${achievement.id}`, headers: admin,
      payload: {
        name: 'Data Fluency', description: 'Explains data to others.', criteria: { id: 'https://northwind.example.edu/fluency' },
        image: null, achievementType: null, tags: [], alignments: [{ targetName: 'Stats', targetUrl: 'https://frameworks.example.org/stats' }]
      }
    })
    t.equal(res.statusCode, 200)
    const changed = res.json()
    t.match(changed, {
      id: achievement.id, name: 'Data Fluency', description: 'Explains data to others.', criteria: { id: 'https://northwind.example.edu/fluency' },
      image: null, achievementType: null, tags: [], alignments: [{ targetName: 'Stats', targetUrl: 'https://frameworks.example.org/stats' }],
      createdAt: achievement.createdAt
    })
    t.ok(Date.parse(changed.updatedAt) >= Date.parse(achievement.updatedAt))
    assertProblem(t, await app.inject({ method: 'GET', url: `/achievements/${achievement.id}/image` }), 404, 'not-found')
    const document = (await app.inject({ method: 'GET', url: `/achievements/${achievement.id}` })).json()
    t.match(document, { name: 'Data Fluency', alignment: [{ type: ['Alignment'], targetName: 'Stats' }] })
    t.notOk('image' in document || 'achievementType' in document || 'tag' in document)

    const svg = `data:image/svg+xml,${encodeURIComponent(SAFE_SVG)}`
    const withImage = (await app.inject({
      method: 'PATCH', url: `/v1/achievements/${achievement.id}`, headers: admin, payload: { image: { id: svg, caption: 'New' } }
    })).json()
    t.same(withImage.image, { id: `${PUBLIC_URL}/achievements/${achievement.id}/image`, caption: 'New' })
    t.equal(withImage.name, 'Data Fluency', 'fields not sent are kept')
    const served = await app.inject({ method: 'GET', url: `/achievements/${achievement.id}/image` })
    t.equal(served.headers['content-type'], 'image/svg+xml')

    const linked = (await app.inject({
      method: 'PATCH', url: `/v1/achievements/${achievement.id}`, headers: admin,
      payload: { image: { id: 'https://cdn.example.org/new.png' }, achievementType: 'Course' }
    })).json()
    t.same(linked.image, { id: 'https://cdn.example.org/new.png' }, 'an https image replaces the stored one, caption and all')
    t.equal(linked.achievementType, 'Course')
    const redirect = await app.inject({ method: 'GET', url: `/achievements/${achievement.id}/image` })
    t.equal(redirect.headers.location, 'https://cdn.example.org/new.png')
  })

  await t.test('listing pages through an issuer\'s achievements in creation order, and no other issuer\'s', async (t) => {
    const other = await createIssuer(app, { name: 'Paging Institute' })
    const mine = []
    for (const name of ['One', 'Two', 'Three']) mine.push((await create({ name }, { issuerId: other.id })).json())
    await created({ name: 'Not theirs' })
    const all = []
    let cursor: string | null = null
    do {
      const url: string = `/v1/issuers/${other.id}/achievements?limit=2${cursor ? `&cursor=${cursor}` : ''}`
      const page = (await app.inject({ method: 'GET', url, headers: admin })).json()
      t.ok(page.items.length <= 2)
      all.push(...page.items)
      cursor = page.nextCursor
    } while (cursor !== null)
    t.same(all, mine, 'every one, oldest first, each as GET shows it')
  })

  await t.test('creating and changing an achievement writes audit events that name the fields, never the image', async (t) => {
    const achievement = await created({ image: { id: pngUri(PNG) }, tags: ['x'] })
    await app.inject({ method: 'PATCH', url: `/v1/achievements/${achievement.id}`, headers: admin, payload: { name: 'Audited', image: null } })
    const events = (await app.inject({ method: 'GET', url: `/v1/audit-events?issuerId=${issuer.id}&limit=2`, headers: admin })).json().items
    t.match(events, [
      { action: 'achievement.updated', actor: 'admin', targetType: 'achievement', targetId: achievement.id, details: { changed: ['name', 'image'] } },
      { action: 'achievement.created', actor: 'admin', targetType: 'achievement', targetId: achievement.id, details: { imageStored: true } }
    ])
    t.same([...events[1].details.fields].sort(), ['criteria', 'description', 'image', 'name', 'tags'])
    t.notMatch(JSON.stringify(events), /iVBORw0KGgo|data:image/, 'no image bytes in the audit log')
  })

  await t.test('missing issuers and achievements answer 404', async (t) => {
    assertProblem(t, await create({}, { issuerId: MISSING }), 404, 'not-found')
    assertProblem(t, await app.inject({ method: 'GET', url: `/v1/issuers/${MISSING}/achievements`, headers: admin }), 404, 'not-found')
    assertProblem(t, await app.inject({ method: 'GET', url: `/v1/achievements/${MISSING}`, headers: admin }), 404, 'not-found')
    assertProblem(t, await app.inject({ method: 'PATCH', url: `/v1/achievements/${MISSING}`, headers: admin, payload: { name: 'X' } }), 404, 'not-found')
    assertProblem(t, await app.inject({ method: 'GET', url: `/achievements/${MISSING}` }), 404, 'not-found')
    assertProblem(t, await app.inject({ method: 'GET', url: `/achievements/${MISSING}/image` }), 404, 'not-found')
  })

  await t.test('bad input answers 400 with a pointer per field, and stores nothing', async (t) => {
    const achievement = await created()
    const post = (payload: unknown): InjectOptions => ({ method: 'POST', url: `/v1/issuers/${issuer.id}/achievements`, payload: payload as object })
    const patch = (payload: unknown): InjectOptions => ({ method: 'PATCH', url: `/v1/achievements/${achievement.id}`, payload: payload as object })
    const alignment = { targetName: 'Stats', targetUrl: 'https://frameworks.example.org/stats' }
    const cases: [label: string, request: InjectOptions, pointers: string[]][] = [
      ['empty body', post({}), ['/name', '/description', '/criteria']],
      ['unknown field', post({ ...CLEAN_FIELDS, issuer: 'someone' }), ['/issuer']],
      ['unknown criteria field', post({ ...CLEAN_FIELDS, criteria: { narrative: 'x', url: 'https://x.example' } }), ['/criteria/url']],
      ['criteria with neither narrative nor id', post({ ...CLEAN_FIELDS, criteria: {} }), ['/criteria']],
      ['criteria id not a URL', post({ ...CLEAN_FIELDS, criteria: { id: 'see the handbook' } }), ['/criteria/id']],
      ['blank name', post({ ...CLEAN_FIELDS, name: '  ' }), ['/name']],
      ['long name', post({ ...CLEAN_FIELDS, name: 'x'.repeat(201) }), ['/name']],
      ['unknown achievementType', post({ ...CLEAN_FIELDS, achievementType: 'Trophy' }), ['/achievementType']],
      ['bad ext: achievementType', post({ ...CLEAN_FIELDS, achievementType: 'ext:has space' }), ['/achievementType']],
      // The official schema refuses '-' right after ext: (its character class reads |-| as a range): every credential would fail it.
      ['ext: achievementType starting with -', post({ ...CLEAN_FIELDS, achievementType: 'ext:-x' }), ['/achievementType']],
      ['ext: alignment targetType starting with -', post({ ...CLEAN_FIELDS, alignments: [{ ...alignment, targetType: 'ext:--' }] }), ['/alignments/0/targetType']],
      ['too many tags', post({ ...CLEAN_FIELDS, tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }), ['/tags']],
      ['blank tag', post({ ...CLEAN_FIELDS, tags: ['ok', ''] }), ['/tags/1']],
      ['alignment URL', post({ ...CLEAN_FIELDS, alignments: [{ ...alignment, targetUrl: 'ftp://frameworks.example.org' }] }), ['/alignments/0/targetUrl']],
      ['alignment without a name', post({ ...CLEAN_FIELDS, alignments: [{ targetUrl: alignment.targetUrl }] }), ['/alignments/0/targetName']],
      ['alignment targetType', post({ ...CLEAN_FIELDS, alignments: [{ ...alignment, targetType: 'Skill' }] }), ['/alignments/0/targetType']],
      ['unknown alignment field', post({ ...CLEAN_FIELDS, alignments: [alignment, { ...alignment, weight: 2 }] }), ['/alignments/1/weight']],
      ['too many alignments', post({ ...CLEAN_FIELDS, alignments: Array.from({ length: 51 }, () => alignment) }), ['/alignments']],
      ['http image', post({ ...CLEAN_FIELDS, image: { id: 'http://northwind.example.edu/badge.png' } }), ['/image/id']],
      ['javascript: image', post({ ...CLEAN_FIELDS, image: { id: 'javascript:alert(1)' } }), ['/image/id']],
      ['non-image data: URI', post({ ...CLEAN_FIELDS, image: { id: 'data:text/html,<script>alert(1)</script>' } }), ['/image/id']],
      ['GIF data: URI', post({ ...CLEAN_FIELDS, image: { id: 'data:image/gif;base64,R0lGODlh' } }), ['/image/id']],
      ['image as a string', post({ ...CLEAN_FIELDS, image: 'https://northwind.example.edu/badge.png' }), ['/image']],
      ['unknown image field', post({ ...CLEAN_FIELDS, image: { id: 'https://northwind.example.edu/b.png', alt: 'x' } }), ['/image/alt']],
      ['issuerId not a UUID', { method: 'POST', url: '/v1/issuers/alpha/achievements', payload: CLEAN_FIELDS }, ['/issuerId']],
      ['list: issuerId not a UUID', { method: 'GET', url: '/v1/issuers/alpha/achievements' }, ['/issuerId']],
      ['list: bad cursor', { method: 'GET', url: `/v1/issuers/${issuer.id}/achievements?cursor=2` }, ['/cursor']],
      ['get: id not a UUID', { method: 'GET', url: '/v1/achievements/42' }, ['/id']],
      ['public: id not a UUID', { method: 'GET', url: '/achievements/42' }, ['/id']],
      ['patch: nothing to change', patch({}), ['']],
      ['patch: unknown field', patch({ issuerId: MISSING }), ['/issuerId']],
      ['patch: name null', patch({ name: null }), ['/name']],
      ['patch: tags null', patch({ tags: null }), ['/tags']],
      ['patch: criteria emptied', patch({ criteria: {} }), ['/criteria']]
    ]
    const before = await countAchievements()
    for (const [label, request, pointers] of cases) {
      const res = await app.inject({ ...request, headers: admin })
      t.equal(res.statusCode, 400, `${label}: status`)
      const body = res.json()
      t.equal(body.code, 'validation-failed', label)
      t.same(body.errors.map((e: { pointer: string }) => e.pointer).sort(), [...pointers].sort(), `${label}: pointers`)
    }
    t.equal(await countAchievements(), before, 'nothing was stored')
    t.same((await app.inject({ method: 'GET', url: `/v1/achievements/${achievement.id}`, headers: admin })).json(), achievement, 'nothing was changed')
  })

  await t.test('tenancy', async (t) => {
    const alpha = await createIssuer(app, { name: 'Alpha Academy' })
    const beta = await createIssuer(app, { name: 'Beta Bootcamp' })
    const alphaKey = await createApiKey(app, alpha.id)
    const betaKey = await createApiKey(app, beta.id)

    await t.test('an API key manages its own issuer\'s achievements', async (t) => {
      const res = await create({}, { issuerId: alpha.id, headers: bearer(alphaKey.key) })
      t.equal(res.statusCode, 201)
      const achievement = res.json()
      const list = await app.inject({ method: 'GET', url: `/v1/issuers/${alpha.id}/achievements`, headers: bearer(alphaKey.key) })
      t.same(list.json().items.map((a: { id: string }) => a.id), [achievement.id])
      t.equal((await app.inject({ method: 'GET', url: `/v1/achievements/${achievement.id}`, headers: bearer(alphaKey.key) })).statusCode, 200)
      const patched = await app.inject({ method: 'PATCH', url: `/v1/achievements/${achievement.id}`, headers: bearer(alphaKey.key), payload: { name: 'Mine' } })
      t.equal(patched.statusCode, 200)
      const events = (await app.inject({ method: 'GET', url: '/v1/audit-events?limit=1', headers: bearer(alphaKey.key) })).json().items
      t.match(events, [{ action: 'achievement.updated', actor: `api-key:${alphaKey.id}`, issuerId: alpha.id }])
    })

    await t.test('an API key of another issuer gets 404 on every achievement route, and changes nothing', async (t) => {
      const betaAchievement = (await create({ name: 'Beta badge' }, { issuerId: beta.id })).json()
      const before = await countAchievements()
      const routes: InjectOptions[] = [
        { method: 'POST', url: `/v1/issuers/${beta.id}/achievements`, payload: CLEAN_FIELDS },
        { method: 'GET', url: `/v1/issuers/${beta.id}/achievements` },
        { method: 'GET', url: `/v1/achievements/${betaAchievement.id}` },
        { method: 'PATCH', url: `/v1/achievements/${betaAchievement.id}`, payload: { name: 'Taken over' } }
      ]
      for (const route of routes) {
        const res = await app.inject({ ...route, headers: bearer(alphaKey.key) })
        const body = assertProblem(t, res, 404, 'not-found')
        t.match(body.detail, /^(issuer|achievement) was not found$/, `${route.method} ${route.url}: indistinguishable from a missing one`)
      }
      t.equal(await countAchievements(), before, 'nothing was created')
      const after = (await app.inject({ method: 'GET', url: `/v1/achievements/${betaAchievement.id}`, headers: bearer(betaKey.key) })).json()
      t.same(after, betaAchievement, 'the other issuer\'s achievement is untouched')
    })
  })
})
