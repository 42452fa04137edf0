// Achievement images sent as data: URIs: decode, check (a PNG that decodes, or an SVG with nothing active or external), and limit.
import { AppError } from '../http/errors.js'
import { pngImageProblem } from './png-image.js'

export type ImageMediaType = 'image/png' | 'image/svg+xml'

export interface DecodedImage {
  mediaType: ImageMediaType
  bytes: Buffer
}

/** Decoded size limit: badge artwork, not photographs. */
export const MAX_IMAGE_BYTES = 256 * 1024

/** What the request schema lets through to decoding; the rest of the URI is checked here. */
export const IMAGE_DATA_URI = /^data:image\/(png|svg\+xml)[;,]/

const DATA_URI = /^data:(image\/png|image\/svg\+xml)((?:;[^;,]*)*),(.*)$/s
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

function invalidImage(code: string, message: string): AppError {
  return new AppError(code, 422, `image.id: ${message}`, [{ pointer: '/image/id', message, in: 'body' }])
}

function decodePayload(payload: string, base64: boolean): Buffer {
  if (base64) {
    if (!BASE64.test(payload)) throw invalidImage('invalid-image', 'the base64 data has characters outside the base64 alphabet')
    return Buffer.from(payload, 'base64')
  }
  try {
    // A '%' that starts no escape stands for itself, as browsers read it: `width="100%"` in a utf8 SVG is common.
    return Buffer.from(decodeURIComponent(payload.replace(/%(?![0-9A-Fa-f]{2})/g, '%25')), 'utf8')
  } catch {
    throw invalidImage('invalid-image', 'the percent-encoded data is not UTF-8 text (send PNG images as ;base64)')
  }
}

/**
 * Decodes a `data:image/png;base64,…` or `data:image/svg+xml[;charset=utf-8|;utf8][;base64],…` URI and checks what it holds.
 * Throws a 422 problem pointing at /image/id when the image is malformed, unsafe or too large.
 */
export function decodeImageDataUri(uri: string): DecodedImage {
  const match = DATA_URI.exec(uri)
  if (match === null) throw invalidImage('invalid-image', 'expected data:image/png;base64,… or data:image/svg+xml,…')
  const mediaType = match[1] as ImageMediaType
  const parameters = match[2]!.split(';').slice(1)
  const bytes = decodePayload(match[3]!, parameters.at(-1) === 'base64')
  if (bytes.length > MAX_IMAGE_BYTES) {
    throw invalidImage('image-too-large', `the image is ${bytes.length} bytes; at most ${MAX_IMAGE_BYTES} bytes (256 KiB) are accepted`)
  }
  if (mediaType === 'image/png') checkPng(bytes)
  else checkSvg(bytes)
  return { mediaType, bytes }
}

/** Checked in full (chunks, CRCs, header, size, a decode): every badge download bakes this image. */
function checkPng(bytes: Buffer): void {
  const problem = pngImageProblem(bytes)
  if (problem !== undefined) throw invalidImage('invalid-image', problem)
}

// A DOCTYPE that only names the SVG DTD is harmless (browsers never fetch it); one with an internal subset is not.
const SVG_PROLOG = /^(?:\s|<\?xml\s[^?]*\?>|<!--[\s\S]*?-->|<!DOCTYPE\s[^[>]*>)*/
// XML forbids '<' inside attribute values, so no match runs past the next tag: the scan stays linear on hostile input.
const TAG = /<([A-Za-z_][\w:.-]*)((?:[^<>"']|"[^<"]*"|'[^<']*')*)>/g
const ATTRIBUTE = /([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g
const FORBIDDEN_ELEMENTS = new Set(['script', 'foreignobject', 'iframe', 'embed', 'object', 'handler', 'listener'])
const LINK_ATTRIBUTES = new Set(['href', 'src'])
/** Raster images embedded in the SVG itself are common in badge artwork and cannot run anything. */
const EMBEDDED_RASTER = /^data:image\/(?:png|jpeg|gif|webp)[;,]/i
const CSS_URL = /url\s*\(\s*(?!['"]?\s*#)/i

/** The element or attribute name without its namespace prefix, lower-cased. */
function localName(name: string): string {
  return name.slice(name.indexOf(':') + 1).toLowerCase()
}

/** Undoes numeric character references, so `&#106;avascript:` is seen for what it is. */
function decodeCharacterReferences(text: string): string {
  return text.replace(/&#(x[0-9a-f]+|[0-9]+);/gi, (_, code: string) => {
    const point = code[0]!.toLowerCase() === 'x' ? parseInt(code.slice(1), 16) : parseInt(code, 10)
    return point <= 0x10ffff ? String.fromCodePoint(point) : '\ufffd'
  })
}

function attributeProblem(name: string, value: string): string | undefined {
  const attribute = localName(name)
  const target = value.trim()
  if (attribute.startsWith('on')) return `the SVG has an event handler attribute (${name})`
  if (attribute === 'attributename' && /^(?:href$|on)/.test(localName(target))) return `the SVG animates a link or an event handler (${target})`
  if (LINK_ATTRIBUTES.has(attribute) && !target.startsWith('#') && !EMBEDDED_RASTER.test(target)) {
    return `the SVG refers to something outside the image (${name}="${target.slice(0, 80)}")`
  }
  return undefined
}

/** Why an SVG (after its prolog) is refused, or undefined when nothing in it can run code or fetch anything. */
function unsafeSvgProblem(body: string): string | undefined {
  if (/<!(?:DOCTYPE|ENTITY)/i.test(body)) return 'the SVG declares entities (a DOCTYPE with an internal subset, or <!ENTITY>)'
  if (body.includes('<?')) return 'the SVG has a processing instruction (such as xml-stylesheet)'
  const plain = decodeCharacterReferences(body)
  // Browsers ignore whitespace and control characters inside a URL scheme: "java\tscript:" runs too.
  const squeezed = plain.replace(/[\s\u0000-\u001f]+/g, '').toLowerCase()
  if (squeezed.includes('javascript:') || squeezed.includes('vbscript:')) return 'the SVG has a javascript: or vbscript: URL'
  if (CSS_URL.test(plain) || /@import/i.test(plain)) return 'the SVG\'s CSS refers to something outside the image (url() or @import)'
  if (/\\[0-9a-f]/i.test(plain)) return 'the SVG has CSS escapes (\\ and a hex digit), which can hide url() or @import'
  // Tags are read before undoing character references: a decoded "&#60;" must not hide the tag it sits in.
  for (const [, element, attributes] of body.matchAll(TAG)) {
    if (FORBIDDEN_ELEMENTS.has(localName(element!))) return `the SVG has a <${element}> element`
    for (const [, name, doubleQuoted, singleQuoted] of attributes!.matchAll(ATTRIBUTE)) {
      const problem = attributeProblem(name!, decodeCharacterReferences((doubleQuoted ?? singleQuoted)!))
      if (problem !== undefined) return problem
    }
  }
  return undefined
}

/** Refuses rather than sanitises: a badge image that needs cleaning is one we should not publish. */
function checkSvg(bytes: Buffer): void {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw invalidImage('invalid-image', 'the SVG is not UTF-8 text')
  }
  const body = text.replace(SVG_PROLOG, '')
  const problem = unsafeSvgProblem(body)
  if (problem !== undefined) throw invalidImage('unsafe-svg', `${problem}; send an SVG without scripts, event handlers or external references`)
  if (!/^<svg[\s/>]/.test(body)) throw invalidImage('invalid-image', 'the data is not an SVG image (its root element must be <svg>)')
}
