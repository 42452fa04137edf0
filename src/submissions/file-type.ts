// What an uploaded evidence file is, read from its first bytes (never from its name or the Content-Type the client declared).
import { fileTypeFromBuffer } from 'file-type'

/** The evidence types a submission accepts (the contract: PDF, PNG, JPEG, WebP, MP4, plain text). */
export const EVIDENCE_TYPES = ['application/pdf', 'image/png', 'image/jpeg', 'image/webp', 'video/mp4', 'text/plain'] as const
export type EvidenceType = (typeof EVIDENCE_TYPES)[number]

/** How many first bytes to keep for the check: what file-type needs to tell its types apart (its own default sample size). */
export const SAMPLE_BYTES = 4100

export type TypeCheck =
  | { accepted: true; contentType: EvidenceType }
  | { accepted: false; found: string; message: string }

/** The names people know the accepted types by, for the refusal message. */
const LABELS: Record<EvidenceType, string> = {
  'application/pdf': 'PDF',
  'image/png': 'PNG',
  'image/jpeg': 'JPEG',
  'image/webp': 'WebP',
  'video/mp4': 'MP4',
  'text/plain': 'plain text'
}

/** What a refused file is, in words, for the types people upload by mistake or on purpose; others are named by format. */
const DESCRIPTIONS: Record<string, string> = {
  'application/x-msdownload': 'a Windows executable',
  'application/x-elf': 'a Linux or Unix program',
  'application/x-mach-binary': 'a macOS executable',
  'application/zip': 'a ZIP archive',
  'image/svg+xml': 'an SVG image',
  'text/html': 'an HTML page',
  'text/plain': 'plain text',
  'application/octet-stream': 'unrecognised binary data'
}

/**
 * Types file-type names apart that are one of ours underneath. An M4V is Apple's brand of an MP4 video (the same
 * ISO/IEC 14496-14 container, which browsers play as video/mp4): it is accepted, and stored as video/mp4. An APNG is a
 * PNG whose animation chunks viewers that do not know them skip. Other ISO-BMFF brands (QuickTime, M4A and other audio,
 * 3GPP, HEIC, AVIF) are not MP4 video and are refused.
 */
const SAME_AS: Record<string, string> = {
  'video/x-m4v': 'video/mp4',
  'image/apng': 'image/png'
}

/** C0 control characters other than tab, line feed, form feed and carriage return: binary data, not text. */
const CONTROL = /[\u0000-\u0008\u000B\u000E-\u001F]/

/**
 * Markup a browser would run if it ever rendered the file (an HTML page, an SVG with script): text whose first
 * character, after a byte order mark and white space, opens a tag, a comment, a DOCTYPE or a processing instruction.
 */
const MARKUP = /^\s*<[A-Za-z!?]/

/** The type of a file by its first bytes (at most SAMPLE_BYTES of them, fewer when the file is shorter), against `allowed`. */
export async function checkFileType(sample: Uint8Array, allowed: readonly EvidenceType[] = EVIDENCE_TYPES): Promise<TypeCheck> {
  const found = await detectedType(sample)
  const contentType = (SAME_AS[found.mime] ?? found.mime) as EvidenceType
  if (allowed.includes(contentType)) return { accepted: true, contentType }
  return { accepted: false, found: found.mime, message: `this file is ${found.description} (${found.mime}), not one of ${listOf(allowed)}` }
}

async function detectedType(sample: Uint8Array): Promise<{ mime: string; description: string }> {
  const detected = await fileTypeFromBuffer(sample)
  if (detected !== undefined) {
    return { mime: detected.mime, description: DESCRIPTIONS[detected.mime] ?? `in ${detected.ext.toUpperCase()} format` }
  }
  const text = utf8Text(sample)
  const mime = text === undefined || CONTROL.test(text) ? 'application/octet-stream' : markupType(text) ?? 'text/plain'
  return { mime, description: DESCRIPTIONS[mime]! }
}

/**
 * The sample as text when it is UTF-8 (a leading byte order mark dropped); undefined when it is not. Decoding as a
 * stream lets the sample end inside a multi-byte character, as a sample cut from a longer file may.
 */
function utf8Text(sample: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true })
  } catch {
    return undefined
  }
}

function markupType(text: string): string | undefined {
  if (!MARKUP.test(text)) return undefined
  return /<svg[\s/>]/i.test(text) ? 'image/svg+xml' : 'text/html'
}

/** "PDF, PNG, JPEG, WebP, MP4 or plain text" (British English: no comma before "or"). */
const ALTERNATIVES = new Intl.ListFormat('en-GB', { type: 'disjunction' })

function listOf(allowed: readonly EvidenceType[]): string {
  return ALTERNATIVES.format(allowed.map((type) => LABELS[type]))
}
