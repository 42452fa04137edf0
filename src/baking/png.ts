// The Open Badges rules for PNG: the credential is the first iTXt chunk with keyword openbadgecredential.
import { BakedImageError, OPEN_BADGES_2_MESSAGE, bakedCredential, decodeUtf8, refuseOversized, type BakedCredential } from './baked.js'
import { isTextChunk, readInternationalText, readPngChunks, textChunkKeyword } from './png-chunks.js'

export const OB3_PNG_KEYWORD = 'openbadgecredential'
/** Open Badges 2.0 (and 1.x) baked its assertion under this keyword, in an iTXt or tEXt chunk. */
export const OB2_PNG_KEYWORD = 'openbadges'

export function extractFromPng(bytes: Uint8Array): BakedCredential {
  refuseOversized('png', bytes.length)
  const textChunks = readPngChunks(bytes).filter(isTextChunk)
  const credential = textChunks
    .filter((chunk) => chunk.type === 'iTXt')
    .map((chunk) => readInternationalText(chunk.data))
    .find((text) => text.keyword === OB3_PNG_KEYWORD)
  if (credential === undefined) {
    if (textChunks.some((chunk) => textChunkKeyword(chunk.data) === OB2_PNG_KEYWORD)) {
      throw new BakedImageError('open-badges-2', OPEN_BADGES_2_MESSAGE)
    }
    throw new BakedImageError('no-credential', `The PNG image holds no Open Badges 3.0 credential (no iTXt chunk with keyword ${OB3_PNG_KEYWORD}).`)
  }
  // OB 3.0 says the compression flag must be 0: a compressed credential breaks the format, so it is refused, not inflated.
  if (credential.compression !== 0) {
    throw new BakedImageError(
      'compressed',
      `The PNG image's ${OB3_PNG_KEYWORD} chunk is compressed; Open Badges 3.0 requires the credential to be stored uncompressed.`
    )
  }
  return bakedCredential('png', decodeUtf8(credential.text, 'png', `${OB3_PNG_KEYWORD} text`))
}
