// The Open Badges rules for SVG: the credential is an <openbadges:credential> element in the OB 3.0 namespace.
import { BakedImageError, OPEN_BADGES_2_MESSAGE, bakedCredential, type BakedCredential } from './baked.js'
import { readSvgImage } from './svg-document.js'

/** Matched by URI: the prefix is the file's choice, "openbadges" only by convention. */
export const OB3_SVG_NAMESPACE = 'https://purl.imsglobal.org/ob/v3p0'
export const OB2_SVG_NAMESPACE = 'http://openbadges.org'

export function extractFromSvg(image: Uint8Array | string): BakedCredential {
  const document = readSvgImage(image)
  const credential = document.getElementsByTagNameNS(OB3_SVG_NAMESPACE, 'credential')[0]
  if (credential === undefined) {
    if (document.getElementsByTagNameNS(OB2_SVG_NAMESPACE, 'assertion').length > 0) {
      throw new BakedImageError('open-badges-2', OPEN_BADGES_2_MESSAGE)
    }
    throw new BakedImageError('no-credential', 'The SVG image holds no Open Badges 3.0 credential (no openbadges:credential element).')
  }
  // The VC-JWT form sits in the verify attribute of an empty element; the JSON form is the element's (CDATA) text.
  return bakedCredential('svg', credential.getAttribute('verify') || credential.textContent!)
}
