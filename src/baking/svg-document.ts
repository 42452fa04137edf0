// Parses an SVG image into a DOM with @xmldom/xmldom, refusing what could make parsing unsafe or ambiguous.
//
// A DOM (rather than pattern matching on text) finds elements by namespace URI whatever prefix the file uses,
// and lets baking insert an element and serialize the document instead of splicing strings.
import { DOMParser, type Document } from '@xmldom/xmldom'
import { BakedImageError, decodeUtf8, refuseOversized } from './baked.js'

export const SVG_NAMESPACE = 'http://www.w3.org/2000/svg'

function malformed(detail: string): BakedImageError {
  return new BakedImageError('malformed', `The SVG image is not usable XML: ${detail}.`)
}

/** Every character XML 1.0 cannot hold, even as a character reference (XML 1.0 §2.2). */
export const NOT_XML_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu

/** An SVG image as received, as text or as (UTF-8) bytes, capped in size and parsed. */
export function readSvgImage(image: Uint8Array | string): Document {
  // A string's length counts UTF-16 units, not bytes: close enough for a cap meant to stop runaway input.
  refuseOversized('svg', image.length)
  return parseSvgDocument(typeof image === 'string' ? image : decodeUtf8(image, 'svg', 'text'))
}

export function parseSvgDocument(text: string): Document {
  // xmldom reports problems through this callback (and prints them unless it is given); errors and fatal errors
  // refuse the image, warnings (markup it recovers from unambiguously, such as an unquoted attribute) do not.
  const problems: string[] = []
  const parser = new DOMParser({
    onError: (level, message) => {
      if (level !== 'warning') problems.push(message.split('\n')[0]!)
    }
  })
  let document: Document
  try {
    document = parser.parseFromString(text, 'image/svg+xml')
  } catch {
    // A ParseError follows a fatal error, which was reported to onError first.
    throw malformed(problems.join('; '))
  }
  // xmldom neither fetches external entities nor expands declared ones, but an internal DTD subset exists only to
  // declare entities (and attribute defaults); no badge needs one, so refuse it rather than trust every reader.
  if (document.doctype?.internalSubset) throw malformed('it declares entities in its DOCTYPE, which Lanyard does not accept')
  if (problems.length > 0) throw malformed(problems.join('; '))
  const root = document.documentElement!
  if (root.localName !== 'svg' || root.namespaceURI !== SVG_NAMESPACE) {
    throw new BakedImageError('not-an-image', 'The XML document is not an SVG image: its root element is not svg.')
  }
  return document
}
