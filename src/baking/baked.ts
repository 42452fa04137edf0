// What extracting a baked badge yields: the result type, its one error type, and how the credential text is classed.

export type BakedImageType = 'png' | 'svg'

export interface BakedCredential {
  image: BakedImageType
  /** 'jwt' when the text is a compact JWS, else 'json' */
  kind: 'json' | 'jwt'
  text: string
}

export type BakedImageReason = 'not-an-image' | 'no-credential' | 'compressed' | 'open-badges-2' | 'malformed' | 'too-large'

/** Thrown for an image that holds no usable OB 3.0 credential; `message` is shown to a person (it becomes a 400 problem detail). */
export class BakedImageError extends Error {
  constructor(
    readonly reason: BakedImageReason,
    message: string
  ) {
    super(message)
    this.name = 'BakedImageError'
  }
}

/**
 * The largest image the extractor reads. Routes cap uploads well below this; the cap here keeps a direct
 * caller from handing the XML parser or the CRC walk an unbounded input.
 */
export const MAX_BAKED_IMAGE_BYTES = 10 * 1024 * 1024

export const OPEN_BADGES_2_MESSAGE = 'This is an Open Badges 2.0 badge, which Lanyard does not verify: it verifies Open Badges 3.0 credentials only.'

const LABEL: Record<BakedImageType, string> = { png: 'PNG', svg: 'SVG' }

export function refuseOversized(image: BakedImageType, size: number): void {
  if (size > MAX_BAKED_IMAGE_BYTES) {
    throw new BakedImageError('too-large', `The ${LABEL[image]} image is larger than ${MAX_BAKED_IMAGE_BYTES / 1024 / 1024} MB.`)
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** Both formats store the credential as UTF-8; a byte sequence that is not UTF-8 is refused, not patched with U+FFFD. */
export function decodeUtf8(bytes: Uint8Array, image: BakedImageType, what: string): string {
  try {
    return strictUtf8.decode(bytes)
  } catch {
    throw new BakedImageError('malformed', `The ${LABEL[image]} image's ${what} is not valid UTF-8.`)
  }
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

/**
 * The credential as found in the image. Surrounding whitespace is layout (SVG indents its CDATA), never part of
 * a JSON document's meaning or of a JWS, so it is trimmed. The JSON is not parsed here: the verifier does that.
 */
export function bakedCredential(image: BakedImageType, found: string): BakedCredential {
  const text = found.trim()
  if (text === '') throw new BakedImageError('no-credential', `The ${LABEL[image]} image's Open Badges 3.0 credential is empty.`)
  return { image, kind: COMPACT_JWS.test(text) ? 'jwt' : 'json', text }
}
