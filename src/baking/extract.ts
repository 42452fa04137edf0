// Extracts a baked Open Badges 3.0 credential from a PNG or SVG image (the OB 3.0 spec, "Baking").
import { BakedImageError, type BakedCredential } from './baked.js'
import { extractFromPng } from './png.js'
import { sniffImageType } from './sniff.js'
import { extractFromSvg } from './svg.js'

export { BakedImageError, MAX_BAKED_IMAGE_BYTES, type BakedCredential, type BakedImageReason, type BakedImageType } from './baked.js'
export { extractFromPng } from './png.js'
export { sniffImageType } from './sniff.js'
export { extractFromSvg } from './svg.js'

export function extractBakedCredential(bytes: Uint8Array): BakedCredential {
  switch (sniffImageType(bytes)) {
    case 'png':
      return extractFromPng(bytes)
    case 'svg':
      return extractFromSvg(bytes)
    default:
      throw new BakedImageError('not-an-image', 'The file is neither a PNG nor an SVG image.')
  }
}
