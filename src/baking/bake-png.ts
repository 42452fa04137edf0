// Bakes a credential into a PNG image: one plain iTXt chunk with keyword openbadgecredential.
import { refuseOversized } from './baked.js'
import { encodePng, headerChunk, internationalTextData, isTextChunk, readPngChunks, textChunkKeyword, type PngChunk } from './png-chunks.js'
import { OB2_PNG_KEYWORD, OB3_PNG_KEYWORD } from './png.js'

/**
 * Text chunks that already carry a badge. A previous OB 3.0 credential is overwritten (the spec allows one). An
 * Open Badges 2.0 assertion goes too: an uploaded image exported from another platform may carry someone's old
 * assertion (often with their email), and a 2.0 backpack would import that instead of the credential baked here.
 */
const BAKED_KEYWORDS = new Set([OB3_PNG_KEYWORD, OB2_PNG_KEYWORD])

function carriesBadge(chunk: PngChunk): boolean {
  return isTextChunk(chunk) && BAKED_KEYWORDS.has(textChunkKeyword(chunk.data))
}

/**
 * `text` is the credential JSON or the compact JWS. Every other chunk is kept as it was; bytes after IEND are
 * dropped. The credential goes right after IHDR so a reader that stops at the image data still finds it.
 */
export function bakePng(image: Uint8Array, text: string): Buffer {
  refuseOversized('png', image.length)
  const chunks = readPngChunks(image)
  const header = headerChunk(chunks)
  const credential: PngChunk = { type: 'iTXt', data: internationalTextData(OB3_PNG_KEYWORD, text) }
  return encodePng([header, credential, ...chunks.slice(1).filter((chunk) => !carriesBadge(chunk))])
}
