import { readFileSync } from 'node:fs'
import { crc32, deflateSync } from 'node:zlib'
import { DOMParser, type Document, type Element } from '@xmldom/xmldom'
import { PNG } from 'pngjs'
import t, { type Test } from 'tap'
import { BakedImageError, bakePng, bakeSvg, generatedBadgePng, generatedBadgeSvg, sanitizeSvg, type BakedImageReason } from '../src/baking/bake.js'
import { extractFromPng, extractFromSvg } from '../src/baking/extract.js'
import { chunk, SIGNATURE } from './helpers/png.js'
import { ihdrData, overlongItxtPng } from './helpers/png-forge.js'

// The official 1EdTech validator's baked fixtures, in ../shared beside the repo.
const FIXTURES = new URL('../../shared/ob3/examples/validator-ob30/', import.meta.url)
const fixture = (name: string): Buffer => readFileSync(new URL(name, FIXTURES))

const OB3 = 'https://purl.imsglobal.org/ob/v3p0'
const SVG = 'http://www.w3.org/2000/svg'

/** A signed credential with a non-ASCII name, as JSON text; and a VC-JWT. */
const json = JSON.stringify({ ...(JSON.parse(fixture('simple.json').toString('utf8')) as object), name: 'Zoë’s Teamwork Badge 🎓 チームワーク' })
const jwt = fixture('simple.jwt').toString('utf8').trim()


const itxt = (keyword: string, text: string): Buffer => chunk('iTXt', Buffer.concat([Buffer.from(`${keyword}\0\0\0\0\0`), Buffer.from(text)]))

/** A 1×1 grey PNG with the given chunks between its header and its pixels. */
function png(...chunks: Buffer[]): Buffer {
  const header = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0])
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), ...chunks, chunk('IDAT', deflateSync(Buffer.from([0, 0x80]))), chunk('IEND', '')])
}

interface WalkedChunk {
  type: string
  data: Buffer
  crcValid: boolean
}

function walkPng(image: Buffer): WalkedChunk[] {
  const chunks: WalkedChunk[] = []
  for (let at = 8; at < image.length; ) {
    const length = image.readUInt32BE(at)
    const body = image.subarray(at + 4, at + 8 + length)
    chunks.push({ type: body.subarray(0, 4).toString('latin1'), data: body.subarray(4), crcValid: crc32(body) === image.readUInt32BE(at + 8 + length) })
    at += 12 + length
  }
  return chunks
}

const isCredentialChunk = (chunk: WalkedChunk): boolean => chunk.type === 'iTXt' && chunk.data.subarray(0, 20).toString('latin1') === 'openbadgecredential\0'

function throwsReason(t: Test, run: () => unknown, reason: BakedImageReason, message = /./): void {
  t.throws(run, { name: 'BakedImageError', reason, message }, reason)
}

t.test('a JSON credential or a JWT baked into a PNG comes back exactly, in one plain iTXt chunk right after IHDR', async (t) => {
  const sources = { 'simple-json.png (already baked)': fixture('simple-json.png'), 'a tiny PNG': png(chunk('tEXt', 'Software\0hand')) }
  for (const [name, source] of Object.entries(sources)) {
    for (const text of [json, jwt]) {
      const baked = bakePng(source, text)
      t.equal(extractFromPng(baked).text, text, name)
      const chunks = walkPng(baked)
      t.ok(baked.subarray(0, 8).equals(SIGNATURE), `${name}: PNG signature`)
      t.ok(chunks.every((chunk) => chunk.crcValid), `${name}: every CRC is valid`)
      t.equal(chunks.filter(isCredentialChunk).length, 1, `${name}: one openbadgecredential chunk`)
      t.same([chunks[0]!.type, isCredentialChunk(chunks[1]!)], ['IHDR', true], `${name}: right after IHDR`)
      const fields = chunks[1]!.data.subarray(20)
      t.same([...fields.subarray(0, 4)], [0, 0, 0, 0], `${name}: compression flag and method 0, empty language tag and translated keyword`)
      t.equal(fields.subarray(4).toString('utf8'), text, `${name}: the text is stored as UTF-8`)
      const others = (chunks: WalkedChunk[]) => chunks.filter((chunk) => !isCredentialChunk(chunk)).map(({ type, data }) => ({ type, data: data.toString('hex') }))
      t.same(others(chunks), others(walkPng(source)), `${name}: every other chunk is unchanged, in order`)
    }
  }
})

t.test('a baked PNG grows by the credential text and 36 bytes of chunk framing and keyword', async (t) => {
  const source = png()
  t.equal(bakePng(source, json).length - source.length, Buffer.byteLength(json) + 36)
})

t.test('baking a PNG replaces earlier credentials and an Open Badges 2.0 assertion, and keeps other text chunks', async (t) => {
  const source = png(
    itxt('openbadgecredential', '{"old":1}'),
    chunk('tEXt', 'openbadges\0https://example.org/assertions/1'),
    itxt('openbadges', '{"type":"Assertion"}'),
    itxt('XML:com.adobe.xmp', '<x/>'),
    itxt('openbadgecredential', '{"old":2}')
  )
  const baked = bakePng(bakePng(source, jwt), json)
  t.same(
    walkPng(baked).map((chunk) => chunk.type),
    ['IHDR', 'iTXt', 'iTXt', 'IDAT', 'IEND']
  )
  t.equal(walkPng(baked)[2]!.data.toString('latin1'), 'XML:com.adobe.xmp\0\0\0\0\0<x/>')
  t.equal(extractFromPng(baked).text, json)
})

t.test('bytes after IEND are not carried into the baked PNG', async (t) => {
  const source = png()
  t.same(bakePng(Buffer.concat([source, Buffer.from('trailing')]), jwt), bakePng(source, jwt))
})

t.test('bakePng refuses what is not a whole PNG', async (t) => {
  const random = Buffer.from('3f9a0c1d5e7b2a4c6d8e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e', 'hex')
  throwsReason(t, () => bakePng(random, json), 'not-an-image', /not a PNG/)
  const image = fixture('simple-json.png')
  throwsReason(t, () => bakePng(image.subarray(0, 5000), json), 'malformed', /cut short/)
  throwsReason(t, () => bakePng(image.subarray(0, image.length - 12), json), 'malformed', /cut short/)
  const damaged = Buffer.from(image)
  damaged[100]! ^= 0x01
  throwsReason(t, () => bakePng(damaged, json), 'malformed', /fails its CRC check/)
  throwsReason(t, () => bakePng(Buffer.concat([SIGNATURE, chunk('IEND', '')]), json), 'malformed', /first chunk is not IHDR/)
  throwsReason(t, () => bakePng(Buffer.concat([SIGNATURE, chunk('IHDR', ihdrData().subarray(0, 8)), chunk('IEND', '')]), json), 'malformed', /its IHDR chunk is 8 bytes, not 13/)
  throwsReason(t, () => bakePng(overlongItxtPng(), json), 'malformed', /the file is cut short: its iTXt chunk claims 50000000 bytes but only 28 remain/)
  throwsReason(t, () => bakePng(png(chunk('iTXt', 'openbadgecredential')), json), 'malformed', /keyword/)
  t.throws(() => bakePng(Buffer.concat([png(), Buffer.alloc(10 * 1024 * 1024)]), json), BakedImageError, 'larger than the size cap')
})

/** Parses as strictly as the test can: any error or warning fails. */
function parseStrictly(t: Test, text: string): Document {
  const problems: string[] = []
  const document = new DOMParser({ onError: (level, message) => problems.push(`${level}: ${message}`) }).parseFromString(text, 'image/svg+xml')
  t.same(problems, [], 'the SVG parses cleanly')
  return document
}

const credentialElements = (document: Document): Element[] => Array.from(document.getElementsByTagNameNS(OB3, 'credential'))

/** Checks the OB 3.0 shape of a baked SVG and returns its one credential element. */
function checkBakedSvg(t: Test, baked: string, label: string): Element {
  const document = parseStrictly(t, baked)
  const root = document.documentElement!
  const credentials = credentialElements(document)
  t.equal(credentials.length, 1, `${label}: one credential element`)
  t.equal(root.firstChild, credentials[0], `${label}: the root's first child`)
  t.equal(credentials[0]!.prefix, 'openbadges', `${label}: prefixed openbadges`)
  t.equal(root.getAttribute('xmlns:openbadges'), OB3, `${label}: the namespace is declared on the root`)
  t.equal(baked.match(/xmlns:openbadges=/g)?.length, 1, `${label}: and only there`)
  return credentials[0]!
}

const tinySvg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></svg>'

t.test('a JSON credential baked into an SVG comes back exactly, as CDATA in the root’s first child', async (t) => {
  const sources = { 'simple-json.svg (already baked)': fixture('simple-json.svg'), 'simple-jwt.svg': fixture('simple-jwt.svg'), 'a tiny SVG': tinySvg }
  for (const [name, source] of Object.entries(sources)) {
    const baked = bakeSvg(source, { kind: 'json', text: json })
    t.same(extractFromSvg(baked), { image: 'svg', kind: 'json', text: json }, name)
    const credential = checkBakedSvg(t, baked, name)
    t.notOk(credential.hasAttribute('verify'), `${name}: no verify attribute`)
    t.ok(Array.from(credential.childNodes).every((node) => node.nodeType === node.CDATA_SECTION_NODE), `${name}: the JSON is CDATA`)
  }
})

t.test('a JWT baked into an SVG comes back exactly, in the verify attribute of an empty element', async (t) => {
  for (const [name, source] of Object.entries({ 'simple-json.svg': fixture('simple-json.svg'), 'simple-jwt.svg (already baked)': fixture('simple-jwt.svg') })) {
    const baked = bakeSvg(source, { kind: 'jwt', text: jwt })
    t.same(extractFromSvg(baked), { image: 'svg', kind: 'jwt', text: jwt }, name)
    const credential = checkBakedSvg(t, baked, name)
    t.equal(credential.getAttribute('verify'), jwt, name)
    t.equal(credential.childNodes.length, 0, `${name}: empty`)
  }
})

t.test('re-baking an SVG replaces its credential, and the drawing is left as it was', async (t) => {
  const source = fixture('simple-json.svg').toString('utf8')
  const twice = bakeSvg(bakeSvg(source, { kind: 'jwt', text: jwt }), { kind: 'json', text: json })
  t.equal(checkBakedSvg(t, twice, 'baked twice').getAttribute('verify'), null)
  t.equal(extractFromSvg(twice).text, json)
  const paths = (svg: string) => Array.from(parseStrictly(t, svg).getElementsByTagNameNS(SVG, 'path'), (path) => path.getAttribute('d'))
  t.same(paths(twice), paths(source))
  t.ok(paths(source).length > 0)
})

t.test('JSON holding "]]>", non-ASCII text and characters XML cannot carry survives an SVG', async (t) => {
  const tricky = JSON.stringify({ name: 'ends ]]> and ]]]]>> and ]]', note: 'Zoë 🎓 日本語 ‮', odd: '\uFFFF\uFFFE' })
  const baked = bakeSvg(Buffer.from(tinySvg), { kind: 'json', text: tricky })
  checkBakedSvg(t, baked, 'tricky')
  const extracted = extractFromSvg(Buffer.from(baked, 'utf8')).text
  t.same(JSON.parse(extracted), JSON.parse(tricky), 'the same JSON value')
  t.equal(extracted.replace('\\uffff\\ufffe', '\uFFFF\uFFFE'), tricky, 'spelled the same but for the escaped non-characters')
  const plain = JSON.stringify({ name: ']]>Zoë 🎓]]>' })
  t.equal(extractFromSvg(bakeSvg(tinySvg, { kind: 'json', text: plain })).text, plain, 'exactly the same text')
})

t.test('a baked SVG declares UTF-8, whatever encoding its source declared', async (t) => {
  const latin1 = `<?xml version="1.0" encoding="ISO-8859-1" standalone="no"?>\n${tinySvg}`
  const baked = bakeSvg(latin1, { kind: 'json', text: json })
  t.match(baked, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<svg/)
  t.notMatch(bakeSvg(tinySvg, { kind: 'json', text: json }), /<\?xml/, 'no declaration is added where there was none')
})

t.test('baking an SVG removes an Open Badges 2.0 assertion, even one using the openbadges prefix', async (t) => {
  const ob2 = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org"><openbadges:assertion verify="https://example.org/a/1"/><g/></svg>'
  const baked = bakeSvg(ob2, { kind: 'jwt', text: jwt })
  const document = checkBakedSvg(t, baked, 'from 2.0').ownerDocument!
  t.equal(document.getElementsByTagNameNS('http://openbadges.org', 'assertion').length, 0)
  t.equal(extractFromSvg(baked).text, jwt)
})

const hostileSvg = `<?xml version="1.0"?>
<?xml-stylesheet type="text/xsl" href="evil.xsl"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:ev="http://www.w3.org/2001/xml-events" onload="alert(1)">
  <script>alert(2)</script>
  <script xmlns="http://www.w3.org/1999/xhtml">alert(3)</script>
  <g ONCLICK="alert(4)" ev:onactivate="alert(5)" fill="red">
    <a href="javascript:alert(6)"><text>one</text></a>
    <a xlink:href=" JaVa&#10;Script:alert(7)"><text>two</text></a>
    <a href="https://example.org/javascript:"><text>three</text></a>
    <image xlink:href="data:image/png;base64,iVBORw0KGgo=" width="1" height="1"/>
  </g>
  <foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml"><img src="x" onerror="alert(8)"/></div></foreignObject>
  <iframe xmlns="http://www.w3.org/1999/xhtml" src="javascript:alert(9)"/>
  <a href="#x"><set attributeName="href" to="javascript:alert(10)"/><animate attributeName="xlink:href" values="javascript:alert(11)"/></a>
  <circle r="1"><animate attributeName="opacity" values="0;1" dur="1s"/><animate/></circle>
</svg>`

t.test('a baked SVG carries no script, event handlers, javascript: links, foreignObject or stylesheet instructions', async (t) => {
  const baked = bakeSvg(hostileSvg, { kind: 'json', text: json })
  const document = parseStrictly(t, baked)
  const elements = Array.from(document.getElementsByTagName('*'))
  const names = elements.map((element) => element.localName)
  for (const name of ['script', 'foreignObject', 'iframe', 'div', 'img', 'set']) t.notOk(names.includes(name), `no ${name}`)
  const attributes = elements.flatMap((element) => Array.from(element.attributes))
  t.same(attributes.filter((attribute) => /^on/i.test(attribute.localName!)).map((attribute) => attribute.name), [], 'no event handler attributes')
  t.same(
    attributes.filter((attribute) => /javascript:/i.test(attribute.value.replace(/\s/g, ''))).map((attribute) => attribute.name),
    ['href'],
    'javascript: appears only inside an https link'
  )
  t.same(
    Array.from(document.childNodes).filter((node) => node.nodeType === node.PROCESSING_INSTRUCTION_NODE).map((node) => node.nodeName),
    ['xml'],
    'only the XML declaration is left of the processing instructions'
  )
  t.same(
    elements.filter((element) => element.localName === 'animate').map((element) => element.getAttribute('attributeName')),
    ['opacity', null],
    'harmless animations stay'
  )
  t.equal(names.filter((name) => name === 'a').length, 4, 'links stay, without a javascript: href')
  t.equal(document.getElementsByTagNameNS(SVG, 'image')[0]?.getAttributeNS('http://www.w3.org/1999/xlink', 'href'), 'data:image/png;base64,iVBORw0KGgo=')
  t.equal(document.getElementsByTagNameNS(SVG, 'g')[0]?.getAttribute('fill'), 'red', 'other attributes stay')
  t.equal(extractFromSvg(baked).text, json)
})

t.test('sanitizeSvg works on a document alone', async (t) => {
  const document = new DOMParser().parseFromString('<svg xmlns="http://www.w3.org/2000/svg" onload="x()"><script>x()</script></svg>', 'image/svg+xml')
  sanitizeSvg(document)
  t.equal(document.documentElement!.attributes.length, 1, 'only xmlns is left')
  t.equal(document.documentElement!.childNodes.length, 0)
})

t.test('bakeSvg refuses what is not a usable SVG image', async (t) => {
  const bake = (svg: string | Buffer) => () => bakeSvg(svg, { kind: 'jwt', text: jwt })
  throwsReason(t, bake('<svg xmlns="http://www.w3.org/2000/svg"><g></svg>'), 'malformed', /not usable XML/)
  throwsReason(t, bake('not xml at all'), 'malformed')
  throwsReason(t, bake(Buffer.from([0x3c, 0xff, 0x3e])), 'malformed', /not valid UTF-8/)
  throwsReason(t, bake('<!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg"/>'), 'malformed', /declares entities/)
  throwsReason(t, bake('<html xmlns="http://www.w3.org/1999/xhtml"/>'), 'not-an-image')
  throwsReason(t, bake('<svg/>'.padEnd(10 * 1024 * 1024 + 1)), 'too-large')
})

/** The name as drawn: the text of each line of the first text element. */
function drawnLines(document: Document): string[] {
  return Array.from(document.getElementsByTagNameNS(SVG, 'text')[0]!.getElementsByTagNameNS(SVG, 'tspan'), (tspan) => tspan.textContent!)
}

t.test('a generated badge shows a hostile name as text, never as markup', async (t) => {
  const names = { '<script>alert(1)</script>': ['<script>alert(1', ')</script>'], 'A & B "quoted" <b>': ['A & B "quoted"', '<b>'] }
  for (const [name, lines] of Object.entries(names)) {
    const issuer = '</text><script>x</script>'
    const document = parseStrictly(t, generatedBadgeSvg({ name, issuerName: issuer }))
    const root = document.documentElement!
    t.equal(document.getElementsByTagName('script').length, 0, `${name}: no script element`)
    t.same(drawnLines(document), lines, `${name}: drawn as text`)
    t.equal(document.getElementsByTagNameNS(SVG, 'text')[1]?.textContent, issuer, `${name}: the issuer too`)
    const label = `${name}, issued by ${issuer}`
    t.same([root.getAttribute('role'), root.getAttribute('aria-label')], ['img', label], `${name}: an accessible image`)
    t.equal(document.getElementsByTagNameNS(SVG, 'title')[0]?.textContent, label, `${name}: with a title`)
  }
})

t.test('a generated badge can be baked, both ways, and the credential extracted', async (t) => {
  const svg = generatedBadgeSvg({ name: '<script>alert(1)</script>' })
  t.equal(extractFromSvg(bakeSvg(svg, { kind: 'json', text: json })).text, json)
  t.equal(extractFromSvg(bakeSvg(svg, { kind: 'jwt', text: jwt })).text, jwt)
})

t.test('the generated badge as a PNG: the medal and ribbons, 400×400, that decodes and bakes both ways', async (t) => {
  const png = generatedBadgePng()
  t.equal(generatedBadgePng(), png, 'drawn once and kept')
  const { width, height, data } = PNG.sync.read(png)
  t.same([width, height], [400, 400])
  const alpha = (x: number, y: number) => data[(y * width + x) * 4 + 3]
  t.equal(alpha(0, 0), 0, 'transparent around the medal')
  t.equal(alpha(200, 170), 255, 'the medal is opaque')
  t.equal(alpha(140, 330), 255, 'and so is a ribbon')
  t.ok(data.some((value, at) => at % 4 === 3 && value > 0 && value < 255), 'its edges are smoothed')
  t.equal(extractFromPng(bakePng(png, json)).text, json)
  t.equal(extractFromPng(bakePng(png, jwt)).text, jwt)
})

t.test('a generated badge wraps a long name over at most three lines and shortens a long issuer name', async (t) => {
  const document = parseStrictly(
    t,
    generatedBadgeSvg({
      name: 'Advanced   Data\tVisualisation with Python and R for Public Health Practitioners',
      issuerName: 'Example University School of Continuing Education'
    })
  )
  t.same(drawnLines(document), ['Advanced Data', 'Visualisation', 'with Python an…'])
  t.equal(document.getElementsByTagNameNS(SVG, 'text')[1]?.textContent, 'Example University School…')
  t.equal(
    document.documentElement!.getAttribute('aria-label'),
    'Advanced Data Visualisation with Python and R for Public Health Practitioners, issued by Example University School of Continuing Education',
    'the label keeps the whole name, whitespace folded'
  )
})

t.test('a generated badge breaks a word longer than a line and shrinks wide text to fit', async (t) => {
  const fontSize = (document: Document) => Number(document.getElementsByTagNameNS(SVG, 'text')[0]!.getAttribute('font-size'))
  const long = parseStrictly(t, generatedBadgeSvg({ name: 'Donaudampfschifffahrtsgesellschaft i' }))
  t.same(drawnLines(long), ['Donaudampfschif', 'ffahrtsgesellsc', 'haft i'])
  t.equal(fontSize(long), 25, 'ordinary letters fit at the full size')
  const wide = parseStrictly(t, generatedBadgeSvg({ name: 'WWWWWWWWWWWWWWW MMMM 0000' }))
  t.ok(fontSize(wide) < 20, `wide letters shrink the font (${fontSize(wide)})`)
  const cjk = parseStrictly(t, generatedBadgeSvg({ name: '情報処理安全確保支援士 合格者', issuerName: 'Ünïversität 👩‍🎓' }))
  t.same(drawnLines(cjk), ['情報処理安全確保支援士 合格者'])
  t.ok(fontSize(cjk) < 25, `full-width characters shrink the font (${fontSize(cjk)})`)
  t.equal(cjk.getElementsByTagNameNS(SVG, 'text')[1]?.textContent, 'Ünïversität 👩‍🎓', 'an emoji sequence stays whole')
})

t.test('a generated badge drops characters XML cannot carry and has one text element without an issuer', async (t) => {
  const document = parseStrictly(t, generatedBadgeSvg({ name: 'Bell\u0007 \uFFFFready ', issuerName: ' ' }))
  t.same(drawnLines(document), ['Bell ready'])
  t.equal(document.getElementsByTagNameNS(SVG, 'text').length, 1)
  t.equal(document.documentElement!.getAttribute('aria-label'), 'Bell ready')
})
