// Checks an uploaded PNG achievement image in full: every chunk and CRC, the header, a size cap, and a real decode.
//
// A stored image is baked into every badge download, so it is checked on the way in rather than found broken on the
// way out. The chunk walk is baking's own; the pixels are decoded by pngjs, once the header and the amount of image
// data are known to be sane, so a small upload can never make the decoder hold more than the cap allows.
import { inflateSync } from 'node:zlib'
import { PNG } from 'pngjs'
import { hasPngSignature, headerChunk, pngSize, readPngChunks, type DamagedPngError, type PngChunk } from '../baking/png-chunks.js'

/**
 * The largest width or height accepted. Badge artwork is shown at a few hundred pixels; 2048 leaves room for
 * high-density screens and print, and bounds a decode to tens of MiB (at worst, 16-bit RGBA: 32 MiB of inflated rows).
 */
export const MAX_PNG_SIDE = 2048

/** Channels per pixel, and the bit depths the PNG spec allows, by colour type (PNG spec §11.2.2). */
const COLOUR_TYPES = new Map([
  [0, { channels: 1, depths: [1, 2, 4, 8, 16] }],
  [2, { channels: 3, depths: [8, 16] }],
  [3, { channels: 1, depths: [1, 2, 4, 8] }],
  [4, { channels: 2, depths: [8, 16] }],
  [6, { channels: 4, depths: [8, 16] }]
])

/** Adam7's seven passes: the first column and row of each, and its step across and down (PNG spec §8.2). */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const

interface Header {
  width: number
  height: number
  depth: number
  colourType: number
  compression: number
  filter: number
  interlace: number
}

/** IHDR's fields; headerChunk has checked that all 13 bytes are there. */
function readHeader(header: PngChunk): Header {
  const fields = header.data
  return { ...pngSize(header), depth: fields[8]!, colourType: fields[9]!, compression: fields[10]!, filter: fields[11]!, interlace: fields[12]! }
}

function headerProblem({ width, height, depth, colourType, compression, filter, interlace }: Header): string | undefined {
  if (width === 0 || height === 0) return `the PNG says it is ${width}×${height} pixels; both sides must be at least 1`
  if (width > MAX_PNG_SIDE || height > MAX_PNG_SIDE) {
    return `the PNG is ${width}×${height} pixels; at most ${MAX_PNG_SIDE}×${MAX_PNG_SIDE} are accepted`
  }
  if (!COLOUR_TYPES.get(colourType)?.depths.includes(depth)) {
    return `the PNG's header has colour type ${colourType} with bit depth ${depth}, which the PNG spec does not allow`
  }
  if (compression !== 0 || filter !== 0 || interlace > 1) {
    return `the PNG's header names a compression (${compression}), filter (${filter}) or interlace (${interlace}) method the PNG spec does not define`
  }
  return undefined
}

/** What may sit where: the chunk walk has checked every length and CRC, and that IHDR comes first and IEND last. */
function layoutProblem(chunks: PngChunk[], size: number): string | undefined {
  if (!chunks.some((chunk) => chunk.type === 'IDAT')) return 'the PNG has no IDAT chunk (no image data)'
  // Each chunk is its data and 12 bytes of length, type and CRC, after the 8-byte signature.
  const end = chunks.reduce((at, chunk) => at + 12 + chunk.data.length, 8)
  if (end < size) return `the PNG has ${size - end} bytes after its IEND chunk`
  return undefined
}

/** The bytes of filtered scanlines the header calls for: a filter byte and the packed pixels of each row of each pass. */
function inflatedSize({ width, height, depth, colourType, interlace }: Header): number {
  const bitsPerPixel = COLOUR_TYPES.get(colourType)!.channels * depth
  const passes = interlace === 1 ? ADAM7 : [[0, 0, 1, 1] as const]
  return passes.reduce((total, [column, row, across, down]) => {
    const columns = Math.ceil((width - column) / across)
    const rows = Math.ceil((height - row) / down)
    // A pass with no pixels (a small image) has no scanlines, not even filter bytes.
    return columns > 0 && rows > 0 ? total + rows * (1 + Math.ceil((columns * bitsPerPixel) / 8)) : total
  }, 0)
}

/** Inflates the image data under the header's size, so a decompression bomb stops at the cap rather than filling memory. */
function imageDataProblem(chunks: PngChunk[], header: Header): string | undefined {
  const compressed = Buffer.concat(chunks.filter((chunk) => chunk.type === 'IDAT').map((chunk) => chunk.data))
  const expected = inflatedSize(header)
  let inflated: Buffer
  try {
    inflated = inflateSync(compressed, { maxOutputLength: expected })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      return `the PNG's image data inflates to more than the ${expected} bytes its ${header.width}×${header.height} header calls for`
    }
    return `the PNG's image data is not a whole zlib stream (${(error as Error).message})`
  }
  if (inflated.length < expected) {
    return `the PNG's image data inflates to ${inflated.length} bytes; its ${header.width}×${header.height} header calls for ${expected}`
  }
  return undefined
}

/** What is left to the decoder: filter types, the palette and its indices, transparency. */
function decodeProblem(bytes: Buffer): string | undefined {
  try {
    PNG.sync.read(bytes)
    return undefined
  } catch (error) {
    return `the PNG does not decode: ${(error as Error).message}`
  }
}

/** Why this PNG is refused, worded for the person who sent it; undefined when it is whole and decodes. */
export function pngImageProblem(bytes: Buffer): string | undefined {
  if (!hasPngSignature(bytes)) return 'the data is not a PNG image (no PNG signature)'
  let chunks: PngChunk[]
  let header: Header
  try {
    chunks = readPngChunks(bytes)
    header = readHeader(headerChunk(chunks))
  } catch (error) {
    // With the signature in place, the walk and the header check fail only as DamagedPngError.
    return `the PNG is damaged: ${(error as DamagedPngError).detail}`
  }
  return headerProblem(header) ?? layoutProblem(chunks, bytes.length) ?? imageDataProblem(chunks, header) ?? decodeProblem(bytes)
}
