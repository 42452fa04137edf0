// Bakes a credential into an SVG image: an <openbadges:credential> element as the root's first child.
import { NAMESPACE, ProcessingInstruction, XMLSerializer, type Document, type Element } from '@xmldom/xmldom'
import type { BakedCredential } from './baked.js'
import { NOT_XML_CHARACTER, readSvgImage } from './svg-document.js'
import { sanitizeSvg } from './svg-sanitize.js'
import { OB2_SVG_NAMESPACE, OB3_SVG_NAMESPACE } from './svg.js'

export type CredentialToBake = Pick<BakedCredential, 'kind' | 'text'>

/**
 * A previous OB 3.0 credential is replaced (the spec allows one). An Open Badges 2.0 assertion goes too: an
 * uploaded image exported from another platform may carry someone's old assertion, which a 2.0 backpack would
 * import instead of the credential baked here.
 */
function removeBakedBadges(document: Document): void {
  const baked = [...document.getElementsByTagNameNS(OB3_SVG_NAMESPACE, 'credential'), ...document.getElementsByTagNameNS(OB2_SVG_NAMESPACE, 'assertion')]
  for (const element of baked) element.parentNode!.removeChild(element)
}

/**
 * U+FFFE, U+FFFF and lone surrogates may stand raw in a JSON string but are not XML characters at all. As JSON
 * \u escapes the document keeps its value (the proof signs values, not spelling) and the SVG stays well-formed.
 */
function xmlSafeJson(text: string): string {
  return text.replace(NOT_XML_CHARACTER, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

function credentialElement(document: Document, credential: CredentialToBake): Element {
  const element = document.createElementNS(OB3_SVG_NAMESPACE, 'openbadges:credential')
  if (credential.kind === 'jwt') {
    element.setAttribute('verify', credential.text)
    return element
  }
  // A CDATA section cannot hold "]]>": end one section after "]]" and open the next with ">" (XML 1.0 §2.7).
  for (const section of xmlSafeJson(credential.text).split(/(?<=]])(?=>)/)) element.appendChild(document.createCDATASection(section))
  return element
}

/** The result is a string the caller sends as UTF-8, so an XML declaration naming another encoding is corrected. */
function declareUtf8(document: Document): void {
  const declaration = document.firstChild
  if (declaration instanceof ProcessingInstruction && declaration.target === 'xml') declaration.data = 'version="1.0" encoding="UTF-8"'
}

/** `svg` is the image as text or UTF-8 bytes; `credential` is the JSON (embedded proof) or the compact JWS. */
export function bakeSvg(svg: string | Uint8Array, credential: CredentialToBake): string {
  const document = readSvgImage(svg)
  declareUtf8(document)
  sanitizeSvg(document)
  removeBakedBadges(document)
  const root = document.documentElement!
  root.setAttributeNS(NAMESPACE.XMLNS, 'xmlns:openbadges', OB3_SVG_NAMESPACE)
  root.insertBefore(credentialElement(document, credential), root.firstChild)
  return new XMLSerializer().serializeToString(document)
}
