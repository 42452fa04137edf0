// The PNG chunk format: the signature, the chunk walk with CRC checks, the text chunks' fields, and writing them back.
//
// Written by hand rather than with png-chunks-extract: that package (unchanged since 2017) reads lengths through
// a host-endian typed-array trick, has an off-by-some bounds check that lets a chunk run past the end of the file
// (the missing bytes read as zeros), skips IEND's CRC, and throws plain Errors we could not tell apart. The walk
// below is a few lines, checks every bound and every CRC, returns views instead of copies, and fails with our own
// reasons. The CRC is node:zlib's crc32 (Node 20.15 and later), for reading and writing alike.
import { crc32 } from 'node:zlib'
import { BakedImageError } from './baked.js'

export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)

export interface PngChunk {
  /** The four-letter chunk type, such as IHDR, iTXt, IEND. */
  type: string
  /** A view into the image's bytes, not a copy. */
  data: Uint8Array
}

export function hasPngSignature(bytes: Uint8Array): boolean {
  return PNG_SIGNATURE.every((byte, index) => bytes[index] === byte)
}

const latin1 = new TextDecoder('latin1')

/** A PNG whose chunks do not hold together; `detail` says how, for callers that word their own message. */
export class DamagedPngError extends BakedImageError {
  constructor(readonly detail: string) {
    super('malformed', `The PNG image is damaged: ${detail}.`)
  }
}

export function damagedPng(detail: string): DamagedPngError {
  return new DamagedPngError(detail)
}

/** Every chunk up to and including IEND, each checked against its CRC; what follows IEND is ignored. */
export function readPngChunks(bytes: Uint8Array): PngChunk[] {
  if (!hasPngSignature(bytes)) throw new BakedImageError('not-an-image', 'The file is not a PNG image.')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const chunks: PngChunk[] = []
  // Each chunk: length (4), type (4), data (length), CRC over type and data (4).
  for (let at = PNG_SIGNATURE.length; at + 12 <= bytes.length; ) {
    const length = view.getUint32(at)
    const end = at + 12 + length
    const type = latin1.decode(bytes.subarray(at + 4, at + 8))
    // The length is read, never allocated: a chunk claiming more than the file holds is refused before any copy.
    if (end > bytes.length) throw damagedPng(`the file is cut short: its ${type} chunk claims ${length} bytes but only ${bytes.length - at - 8} remain`)
    if (crc32(bytes.subarray(at + 4, end - 4)) !== view.getUint32(end - 4)) throw damagedPng(`its ${type} chunk fails its CRC check`)
    chunks.push({ type, data: bytes.subarray(at + 8, end - 4) })
    if (type === 'IEND') return chunks
    at = end
  }
  throw damagedPng('the file is cut short before its IEND chunk')
}

/** The first chunk, which the PNG spec requires to be IHDR, 13 bytes long. */
export function headerChunk(chunks: PngChunk[]): PngChunk {
  // readPngChunks returns at least IEND, so there is a first chunk.
  const header = chunks[0]!
  if (header.type !== 'IHDR') throw damagedPng('its first chunk is not IHDR')
  if (header.data.length !== 13) throw damagedPng(`its IHDR chunk is ${header.data.length} bytes, not 13`)
  return header
}

/** Width and height, the first two fields of IHDR. */
export function pngSize(header: PngChunk): { width: number; height: number } {
  const view = new DataView(header.data.buffer, header.data.byteOffset, header.data.byteLength)
  return { width: view.getUint32(0), height: view.getUint32(4) }
}

/** One chunk as it sits in the file: length, type, data, CRC over type and data. */
export function encodePngChunk(chunk: PngChunk): Buffer {
  const end = 8 + chunk.data.length
  const encoded = Buffer.alloc(end + 4)
  encoded.writeUInt32BE(chunk.data.length, 0)
  encoded.write(chunk.type, 4, 'latin1')
  encoded.set(chunk.data, 8)
  encoded.writeUInt32BE(crc32(encoded.subarray(4, end)), end)
  return encoded
}

export function encodePng(chunks: PngChunk[]): Buffer {
  return Buffer.concat([PNG_SIGNATURE, ...chunks.map(encodePngChunk)])
}

/** The two chunk types Open Badges has baked into: tEXt (1.x, 2.0) and iTXt (2.0, 3.0). */
export function isTextChunk(chunk: PngChunk): boolean {
  return chunk.type === 'iTXt' || chunk.type === 'tEXt'
}

/** The fields of an iTXt chunk (PNG spec §11.3.4.5) that say what it holds and how. */
export interface InternationalText {
  keyword: string
  /** The compression flag: 0 for plain text, 1 for zlib-compressed text. */
  compression: number
  /** The raw text bytes: UTF-8 once the compression flag says they are plain. */
  text: Uint8Array
}

/** The index just past the NUL that ends the field starting at `from`. */
function afterNul(data: Uint8Array, from: number, field: string): number {
  const nul = data.indexOf(0, from)
  if (nul === -1) throw damagedPng(`a text chunk has no end to its ${field}`)
  return nul + 1
}

/** The keyword that opens every tEXt, zTXt and iTXt chunk, up to its NUL separator. */
export function textChunkKeyword(data: Uint8Array): string {
  return latin1.decode(data.subarray(0, afterNul(data, 0, 'keyword') - 1))
}

/** Layout: keyword NUL, compression flag, compression method, language tag NUL, translated keyword NUL, text. */
export function readInternationalText(data: Uint8Array): InternationalText {
  const flags = afterNul(data, 0, 'keyword')
  const translated = afterNul(data, flags + 2, 'language tag')
  const text = afterNul(data, translated, 'translated keyword')
  return {
    keyword: latin1.decode(data.subarray(0, flags - 1)),
    // The flag byte exists: the language tag's NUL was found after it.
    compression: data[flags]!,
    text: data.subarray(text)
  }
}

/** The data of a plain (uncompressed) iTXt chunk with no language tag or translated keyword; the text is UTF-8. */
export function internationalTextData(keyword: string, text: string): Buffer {
  return Buffer.concat([Buffer.from(`${keyword}\0`, 'latin1'), Uint8Array.of(0, 0, 0, 0), Buffer.from(text, 'utf8')])
}
