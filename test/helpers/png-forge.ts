// Test-side PNGs that are whole, or wrong in one way each, built with the chunk writer in png.ts (independent of src/).
import { deflateSync } from 'node:zlib'
import { chunk, SIGNATURE } from './png.js'

export interface HeaderFields {
  width: number
  height: number
  depth: number
  colourType: number
  compression: number
  filter: number
  interlace: number
}

const GREY_2X2: HeaderFields = { width: 2, height: 2, depth: 8, colourType: 0, compression: 0, filter: 0, interlace: 0 }

/** The 13 bytes of an IHDR chunk's data: a 2×2 8-bit greyscale image unless told otherwise. */
export function ihdrData(fields: Partial<HeaderFields> = {}): Buffer {
  const { width, height, depth, colourType, compression, filter, interlace } = { ...GREY_2X2, ...fields }
  const data = Buffer.alloc(13)
  data.writeUInt32BE(width, 0)
  data.writeUInt32BE(height, 4)
  data.set([depth, colourType, compression, filter, interlace], 8)
  return data
}

/** Filtered scanlines of a 2×2 greyscale image: filter byte 0, then two pixels, per row. */
export const GREY_2X2_ROWS = Buffer.from([0, 40, 80, 0, 120, 160])

export interface PngParts {
  ihdr?: Buffer
  /** Chunks between IHDR and IDAT. */
  before?: Buffer[]
  /** The IDAT chunks' data, one chunk each; [] for none. */
  idat?: Buffer[]
  /** What follows IDAT instead of the IEND chunk. */
  end?: Buffer
}

/** A PNG from its parts; with none given, a whole 2×2 greyscale image that decodes. */
export function forgePng(parts: PngParts = {}): Buffer {
  const { ihdr = ihdrData(), before = [], idat = [deflateSync(GREY_2X2_ROWS)], end = chunk('IEND', '') } = parts
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), ...before, ...idat.map((data) => chunk('IDAT', data)), end])
}

/**
 * Issue 18's image: after the header, an iTXt chunk whose length field claims 50,000,000 bytes while 28 follow.
 * Every badge.png baked from it was a 500.
 */
export function overlongItxtPng(): Buffer {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(50_000_000)
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdrData()), length, Buffer.from('iTXt', 'latin1'), Buffer.from('openbadgecredential'.padEnd(28, '\0'), 'latin1')])
}

export const pngDataUri = (bytes: Buffer): string => `data:image/png;base64,${bytes.toString('base64')}`
