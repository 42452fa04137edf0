import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { deflateSync } from 'node:zlib'
import t, { type Test } from 'tap'
import {
  BakedImageError,
  MAX_BAKED_IMAGE_BYTES,
  extractBakedCredential,
  extractFromPng,
  extractFromSvg,
  sniffImageType,
  type BakedImageReason
} from '../src/baking/extract.js'
import { chunk, SIGNATURE } from './helpers/png.js'
import { overlongItxtPng } from './helpers/png-forge.js'

// The official 1EdTech validator's baked fixtures, in ../shared beside the repo.
const FIXTURES = new URL('../../shared/ob3/examples/validator-ob30/', import.meta.url)
const fixture = (name: string): Buffer => readFileSync(new URL(name, FIXTURES))


/** An iTXt chunk: keyword, NUL, compression flag and method, empty language tag and translated keyword, text. */
function itxt(keyword: string, text: Uint8Array | string, compression = 0): Buffer {
  return chunk('iTXt', Buffer.concat([Buffer.from(`${keyword}\0`), Buffer.from([compression, 0, 0, 0]), Buffer.from(text)]))
}

/** A 1×1 grey PNG with the given chunks between its header and its pixels. */
function png(...chunks: Buffer[]): Buffer {
  const header = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0])
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), ...chunks, chunk('IDAT', deflateSync(Buffer.from([0, 0x80]))), chunk('IEND', '')])
}

/** Where the fixture's one iTXt chunk starts and ends (length field to CRC), and its data. */
function findItxt(image: Buffer): { start: number; end: number; data: Buffer } {
  const start = image.indexOf('iTXt', 8, 'latin1') - 4
  const length = image.readUInt32BE(start)
  return { start, end: start + 12 + length, data: image.subarray(start + 8, start + 8 + length) }
}

function withItxtReplaced(image: Buffer, ...replacement: Buffer[]): Buffer {
  const { start, end } = findItxt(image)
  return Buffer.concat([image.subarray(0, start), ...replacement, image.subarray(end)])
}

function throwsReason(t: Test, run: () => unknown, reason: BakedImageReason, message = /./): void {
  t.throws(run, { name: 'BakedImageError', reason, message }, reason)
}

const credential = JSON.stringify({ '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiableCredential', 'OpenBadgeCredential'] })

t.test('each 1EdTech validator fixture yields its credential, JSON as an OpenBadgeCredential and VC-JWT as a three-part JWS', async (t) => {
  for (const name of ['simple-json.png', 'simple-json.svg']) {
    const baked = extractBakedCredential(fixture(name))
    t.equal(baked.kind, 'json', name)
    t.equal(baked.image, name.slice(-3), name)
    const document = JSON.parse(baked.text) as { type: string[] }
    t.ok(document.type.some((type) => type === 'OpenBadgeCredential' || type === 'AchievementCredential'), `${name}: ${document.type.join()}`)
  }
  for (const name of ['simple-jwt.png', 'simple-jwt_v1.png', 'simple-jwt.svg', 'simple-jwt_v1.svg']) {
    const baked = extractBakedCredential(fixture(name))
    t.equal(baked.kind, 'jwt', name)
    t.equal(baked.image, name.slice(-3), name)
    const segments = baked.text.split('.')
    t.equal(segments.length, 3, `${name}: header, payload, signature`)
    const payload = JSON.parse(Buffer.from(segments[1]!, 'base64url').toString('utf8')) as { type?: string[]; vc?: { type: string[] } }
    t.ok((payload.type ?? payload.vc?.type)?.includes('OpenBadgeCredential'), `${name}: the payload is the credential, or carries it as vc`)
  }
})

t.test('the PNG credential is exactly the text stored in its openbadgecredential iTXt chunk', async (t) => {
  const image = fixture('simple-json.png')
  const { data } = findItxt(image)
  const prefix = Buffer.from('openbadgecredential\0\0\0\0\0', 'latin1')
  t.same(data.subarray(0, prefix.length), prefix, 'keyword, uncompressed, no language tag or translated keyword')
  t.equal(extractFromPng(image).text, data.subarray(prefix.length).toString('utf8'))
})

t.test('extraction reads a Buffer that is a view into a larger pool', async (t) => {
  const image = fixture('simple-jwt.png')
  const pool = new Uint8Array(image.length + 7)
  pool.set(image, 3)
  t.same(extractBakedCredential(pool.subarray(3, 3 + image.length)), extractFromPng(image))
})

t.test('the first openbadgecredential iTXt chunk wins, whatever other text chunks come before it', async (t) => {
  const image = png(
    chunk('tEXt', 'Software\0Inkscape'),
    itxt('XML:com.adobe.xmp', '<x/>'),
    itxt('openbadgecredential', ` ${credential}\n`),
    itxt('openbadgecredential', '{}')
  )
  t.same(extractFromPng(image), { image: 'png', kind: 'json', text: credential })
})

t.test('a compressed openbadgecredential chunk is refused: OB 3.0 requires it stored plain', async (t) => {
  const { data } = findItxt(fixture('simple-json.png'))
  const text = data.subarray('openbadgecredential\0\0\0\0\0'.length)
  const compressed = withItxtReplaced(fixture('simple-json.png'), itxt('openbadgecredential', deflateSync(text), 1))
  throwsReason(t, () => extractBakedCredential(compressed), 'compressed', /compressed/)
})

t.test('a PNG without an openbadgecredential chunk holds no credential', async (t) => {
  throwsReason(t, () => extractBakedCredential(withItxtReplaced(fixture('simple-json.png'))), 'no-credential', /openbadgecredential/)
  throwsReason(t, () => extractBakedCredential(png()), 'no-credential')
  throwsReason(t, () => extractFromPng(png(itxt('openbadgecredential', ' \n'))), 'no-credential', /empty/)
})

t.test('an Open Badges 2.0 PNG is named as such, in a tEXt or an iTXt chunk', async (t) => {
  const message = /Open Badges 2\.0 badge, which Lanyard does not verify/
  throwsReason(t, () => extractBakedCredential(png(chunk('tEXt', 'openbadges\0https://example.org/assertions/1'))), 'open-badges-2', message)
  throwsReason(t, () => extractBakedCredential(png(itxt('openbadges', '{"type":"Assertion"}'))), 'open-badges-2', message)
})

t.test('a PNG whose chunk fails its CRC is malformed', async (t) => {
  const image = Buffer.from(fixture('simple-json.png'))
  const { start } = findItxt(image)
  image.writeUInt8(image.readUInt8(start + 40) ^ 0x01, start + 40)
  throwsReason(t, () => extractBakedCredential(image), 'malformed', /iTXt chunk fails its CRC check/)
})

t.test('a truncated PNG is malformed, cut inside a chunk or before IEND', async (t) => {
  const image = fixture('simple-jwt.png')
  throwsReason(t, () => extractBakedCredential(image.subarray(0, findItxt(image).start + 100)), 'malformed', /cut short/)
  throwsReason(t, () => extractBakedCredential(image.subarray(0, image.length - 12)), 'malformed', /cut short/)
  throwsReason(t, () => extractBakedCredential(SIGNATURE), 'malformed', /cut short/)
})

t.test('a chunk that claims more bytes than the file holds is malformed, named with its claim (issue 18)', async (t) => {
  throwsReason(t, () => extractBakedCredential(overlongItxtPng()), 'malformed', /its iTXt chunk claims 50000000 bytes but only 28 remain/)
  const image = fixture('simple-jwt.png')
  const { start } = findItxt(image)
  const claimsAll = Buffer.from(image)
  claimsAll.writeUInt32BE(0xffffffff, start)
  throwsReason(t, () => extractBakedCredential(claimsAll), 'malformed', new RegExp(`claims 4294967295 bytes but only ${image.length - start - 8} remain`))
})

t.test('a text chunk whose fields never end is malformed, as is credential text that is not UTF-8', async (t) => {
  throwsReason(t, () => extractFromPng(png(chunk('tEXt', 'openbadges'))), 'malformed', /keyword/)
  throwsReason(t, () => extractFromPng(png(chunk('iTXt', 'openbadgecredential\0\0\0'))), 'malformed', /language tag/)
  throwsReason(t, () => extractFromPng(png(chunk('iTXt', 'openbadgecredential\0\0\0\0'))), 'malformed', /translated keyword/)
  throwsReason(t, () => extractFromPng(png(itxt('openbadgecredential', Buffer.from([0x7b, 0xff, 0x7d])))), 'malformed', /not valid UTF-8/)
})

t.test('bytes that are neither PNG nor SVG are not an image', async (t) => {
  const random = Buffer.from('3f9a0c1d5e7b2a4c6d8e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e', 'hex')
  throwsReason(t, () => extractBakedCredential(random), 'not-an-image', /neither a PNG nor an SVG/)
  throwsReason(t, () => extractBakedCredential(Buffer.from('{"type":["VerifiableCredential"]}')), 'not-an-image')
  throwsReason(t, () => extractFromPng(fixture('simple-json.svg')), 'not-an-image', /not a PNG/)
})

t.test('an image over the size cap is refused before it is read', async (t) => {
  const huge = Buffer.alloc(MAX_BAKED_IMAGE_BYTES + 1)
  SIGNATURE.copy(huge)
  throwsReason(t, () => extractFromPng(huge), 'too-large', /larger than 10 MB/)
  throwsReason(t, () => extractFromSvg('<svg/>'.padEnd(MAX_BAKED_IMAGE_BYTES + 1)), 'too-large')
})

const svg = (body: string, namespaces = 'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"') =>
  `<?xml version="1.0" encoding="utf-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" ${namespaces}>${body}<circle r="1"/></svg>`

t.test('an SVG credential is found by its namespace URI, whatever the prefix, as a string or as bytes', async (t) => {
  const expected = { image: 'svg', kind: 'json', text: credential }
  t.same(extractFromSvg(svg(`<openbadges:credential><![CDATA[${credential}]]></openbadges:credential>`)), expected)
  const otherPrefix = svg(`<ob:credential>\n  <![CDATA[${credential}]]>\n</ob:credential>`, 'xmlns:ob="https://purl.imsglobal.org/ob/v3p0"')
  t.same(extractFromSvg(Buffer.from(otherPrefix)), expected)
  t.same(extractFromSvg(svg(`<g><credential xmlns="https://purl.imsglobal.org/ob/v3p0">${credential}</credential></g>`, '')), expected)
  const jws = fixture('simple-jwt.svg').toString('utf8').match(/verify="([^"]+)"/)![1]!
  t.same(extractFromSvg(svg(`<openbadges:credential verify="${jws}"/>`)), { image: 'svg', kind: 'jwt', text: jws })
})

t.test('an SVG without an OB 3.0 credential element holds no credential', async (t) => {
  throwsReason(t, () => extractBakedCredential(Buffer.from(svg(''))), 'no-credential', /openbadges:credential/)
  throwsReason(t, () => extractFromSvg(svg('<openbadges:credential/>', 'xmlns:openbadges="https://example.org/not-ob3"')), 'no-credential')
})

t.test('an SVG credential element with no content and no verify attribute holds no credential', async (t) => {
  throwsReason(t, () => extractFromSvg(svg('<openbadges:credential>\n  </openbadges:credential>')), 'no-credential', /empty/)
  throwsReason(t, () => extractFromSvg(svg('<openbadges:credential verify=""><![CDATA[]]></openbadges:credential>')), 'no-credential')
})

t.test('an Open Badges 2.0 SVG assertion is named as such', async (t) => {
  const ob2 = svg('<openbadges:assertion verify="https://example.org/assertions/1"/>', 'xmlns:openbadges="http://openbadges.org"')
  throwsReason(t, () => extractBakedCredential(Buffer.from(ob2)), 'open-badges-2', /Open Badges 2\.0 badge, which Lanyard does not verify/)
})

t.test('an SVG declaring entities is refused without reading what they point at', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lanyard-xxe-'))
  t.teardown(() => rmSync(dir, { recursive: true }))
  const secret = join(dir, 'secret.txt')
  writeFileSync(secret, 'SECRET-MARKER')
  const root = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
  const images = [
    `<!DOCTYPE svg [<!ENTITY x SYSTEM "${pathToFileURL(secret).href}">]>\n${root}<openbadges:credential>&x;</openbadges:credential></svg>`,
    `<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n${root}<text>&x;</text></svg>`,
    `<!DOCTYPE svg [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>${root}&b;</svg>`
  ]
  for (const image of images) {
    const error = t.throws(() => extractBakedCredential(Buffer.from(image)), { name: 'BakedImageError', reason: 'malformed', message: /declares entities/ })
    t.notMatch(error, { message: /SECRET-MARKER/ }, 'nothing of the file reaches the caller')
  }
})

t.test('SVG that is not well-formed XML is malformed', async (t) => {
  throwsReason(t, () => extractFromSvg('<svg xmlns="http://www.w3.org/2000/svg"><g></svg>'), 'malformed', /not usable XML: .*mismatch/)
  throwsReason(t, () => extractFromSvg('<svg xmlns="http://www.w3.org/2000/svg">&undeclared;</svg>'), 'malformed', /entity not found/)
  const notUtf8 = Buffer.concat([Buffer.from('<svg xmlns="http://www.w3.org/2000/svg">'), Buffer.from([0xff]), Buffer.from('</svg>')])
  throwsReason(t, () => extractFromSvg(notUtf8), 'malformed', /not valid UTF-8/)
})

t.test('SVG markup that xmldom only warns about (an unquoted attribute) still yields its credential', async (t) => {
  t.equal(extractFromSvg(svg(`<g opacity=1><openbadges:credential>${credential}</openbadges:credential></g>`)).text, credential)
})

t.test('XML whose root is not an SVG svg element is not an SVG image', async (t) => {
  throwsReason(t, () => extractFromSvg('<html xmlns="http://www.w3.org/1999/xhtml"/>'), 'not-an-image', /not an SVG image/)
  throwsReason(t, () => extractFromSvg('<svg xmlns="urn:example:not-svg"/>'), 'not-an-image')
})

t.test('sniffImageType tells PNG and SVG apart by their first bytes', async (t) => {
  const type = (text: string) => sniffImageType(Buffer.from(text))
  t.equal(sniffImageType(fixture('simple-json.png')), 'png')
  for (const name of ['simple-json.svg', 'simple-jwt.svg', 'simple-jwt_v1.svg']) t.equal(sniffImageType(fixture(name)), 'svg', name)
  t.equal(type('\uFEFF  \n<!-- made by hand -->\n<svg xmlns="http://www.w3.org/2000/svg"/>'), 'svg', 'byte order mark, whitespace, comment')
  t.equal(type('<?xml version="1.0"?><?xml-stylesheet href="a.css"?><!DOCTYPE svg [<!ENTITY ns "x">]><svg>'), 'svg', 'processing instruction, DOCTYPE with a subset')
  t.equal(type('<svg:svg xmlns:svg="http://www.w3.org/2000/svg">'), 'svg', 'a prefixed root')
  t.equal(type('<svg\n  width="1">'), 'svg', 'attributes on the next line')
  t.equal(type('<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><svg/></html>'), undefined, 'svg inside another root')
  t.equal(type('<svgx/>'), undefined, 'a longer tag name')
  t.equal(type('<!-- never closed <svg/>'), undefined, 'an unterminated comment')
  t.equal(type('<!DOCTYPE svg [ <!ENTITY a "b"> <svg/>'), undefined, 'an unterminated DOCTYPE subset')
  t.equal(type(''), undefined, 'nothing')
  t.equal(sniffImageType(SIGNATURE.subarray(0, 7)), undefined, 'a cut-off PNG signature')
  t.equal(sniffImageType(Buffer.from('3f9a0c1d5e7b2a4c', 'hex')), undefined, 'random bytes')
})
