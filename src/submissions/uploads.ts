// Reads a multipart submission as a stream: its `submission` JSON field, then up to ten files spooled to a private temp directory.
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { Multipart } from '@fastify/multipart'
import type { FastifyRequest } from 'fastify'
import { AppError, validationFailed } from '../http/errors.js'
import { checkFileType, SAMPLE_BYTES, type EvidenceType } from './file-type.js'

export const MAX_FILE_BYTES = 25 * 1024 * 1024
export const MAX_FILES = 10
/** The `submission` field is JSON text held in memory: recipient and evidence items, never file bytes. */
export const MAX_SUBMISSION_BYTES = 1024 * 1024
/** The longest file name kept, in characters (what most file systems allow). */
const MAX_NAME_LENGTH = 255

/**
 * Busboy's limits for a submission: register @fastify/multipart with them. The reader also gives them with each request,
 * so they hold whatever the plugin was registered with. Two fields and twelve parts leave room for one part too many,
 * which the reader names; busboy stops the rest.
 */
export const MULTIPART_LIMITS = { fileSize: MAX_FILE_BYTES, files: MAX_FILES, fieldSize: MAX_SUBMISSION_BYTES, fields: 2, parts: MAX_FILES + 2 }

/** One uploaded file, on disk in the upload's private directory until `dispose`. */
export interface SpooledFile {
  /** Its place in the form, from 0: the `<index>` of `/files/<index>`. */
  position: number
  /** The client's file name, for display only: never a path. */
  name: string
  /** As read from the bytes. */
  contentType: EvidenceType
  size: number
  /** Hex. */
  sha256: string
  path: string
}

export interface SubmissionUpload {
  /** The `submission` field, parsed as JSON (the route's schema checks it). */
  submission: unknown
  files: SpooledFile[]
  /** Removes the spooled files; call it once they are stored, or the request failed. */
  dispose(): Promise<void>
}

export interface UploadOptions {
  /** Where the upload's private directory is made: the system's temp directory unless given. */
  tmpDir?: string
}

/**
 * Reads a multipart/form-data submission: the `submission` field first (JSON text), then up to MAX_FILES parts named
 * `file`, each streamed to disk while it is counted, hashed and its type read from its first bytes. The route's plugin
 * registers @fastify/multipart (with MULTIPART_LIMITS, and without `attachFieldsToBody`: this reads the parts itself).
 * On any error the spooled files are gone before it throws.
 */
export async function readSubmissionUpload(request: FastifyRequest, options: UploadOptions = {}): Promise<SubmissionUpload> {
  const dir = await mkdtemp(path.join(options.tmpDir ?? tmpdir(), 'lanyard-upload-'))
  const dispose = () => rm(dir, { recursive: true, force: true })
  const files: SpooledFile[] = []
  try {
    const submission = await readParts(request, dir, files)
    return { submission, files, dispose }
  } catch (error) {
    // The rest of the body is read and dropped, so the client, still sending, gets the answer rather than a stalled upload.
    request.raw.unpipe()
    request.raw.resume()
    await dispose()
    throw uploadError(error as Error & { code?: string; statusCode?: number }, files.length)
  }
}

async function readParts(request: FastifyRequest, dir: string, files: SpooledFile[]): Promise<unknown> {
  let submission: { value: unknown } | undefined
  for await (const part of request.parts({ limits: MULTIPART_LIMITS })) {
    if (part.fieldname === 'submission') {
      if (submission !== undefined) throw fieldError('/submission', 'sent twice: send one `submission` field')
      submission = { value: submissionOf(part) }
    } else if (part.fieldname === 'file') {
      if (submission === undefined) throw submissionFirst()
      files.push(await spool(part, files.length, dir))
    } else {
      throw fieldError(`/${part.fieldname.replaceAll('~', '~0').replaceAll('/', '~1')}`,
        'unknown part: the form takes a `submission` field (JSON), then files as `file`')
    }
  }
  if (submission === undefined) throw submissionFirst()
  return submission.value
}

function submissionOf(part: Multipart): unknown {
  if (part.type === 'file') throw fieldError('/submission', 'send it as a text field, not a file (curl: -F "submission=<submission.json")')
  if (part.valueTruncated) {
    throw new AppError('submission-too-large', 413, `the submission field is longer than ${MAX_SUBMISSION_BYTES} bytes; files go in \`file\` parts`,
      [{ pointer: '/submission', message: `longer than ${MAX_SUBMISSION_BYTES} bytes`, in: 'body' }])
  }
  // @fastify/multipart parses a field sent as application/json itself (and says so by this exact type).
  if (part.mimetype === 'application/json') return part.value
  // Any other field is the text busboy decoded.
  try {
    return JSON.parse(part.value as string)
  } catch (error) {
    throw invalidJson((error as Error).message)
  }
}

/** Streams one file into `dir`: counted, hashed and type-checked on the way, and refused as soon as it is too large. */
async function spool(part: Multipart, position: number, dir: string): Promise<SpooledFile> {
  const pointer = `/files/${position}`
  if (part.type === 'field') throw fieldError(pointer, 'a file part needs a filename (curl: -F "file=@lesson.pdf")')
  const name = displayName(part.filename)
  if (name === '') throw fieldError(pointer, 'the file has no name: give it a filename')
  // Busboy stops at the limit and ends the stream as if the file were whole: its `limit` event is the only sign.
  part.file.once('limit', () => part.file.destroy(new AppError('file-too-large', 413, `a file may be at most ${MAX_FILE_BYTES / 1024 / 1024} MB`,
    [{ pointer, message: `larger than ${MAX_FILE_BYTES} bytes`, in: 'body' }])))
  const meter = fileMeter(position)
  const target = path.join(dir, String(position))
  await pipeline(part.file, meter.through, createWriteStream(target, { flags: 'wx', mode: 0o600 }))
  return { position, name, ...meter.result(), path: target }
}

/** Counts, hashes and keeps the first bytes of a file as it streams past; checks its type once those are in. */
function fileMeter(position: number) {
  const hash = createHash('sha256')
  const head: Buffer[] = []
  let headBytes = 0
  let size = 0
  let contentType: EvidenceType | undefined
  const check = async () => {
    contentType = await acceptedType(Buffer.concat(head), position)
  }
  async function* through(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      size += chunk.length
      hash.update(chunk)
      if (headBytes < SAMPLE_BYTES) {
        // A copy: the sample must not keep the whole chunk it was cut from alive.
        const kept = Buffer.from(chunk.subarray(0, SAMPLE_BYTES - headBytes))
        head.push(kept)
        headBytes += kept.length
        if (headBytes === SAMPLE_BYTES) await check()
      }
      yield chunk
    }
    if (size === 0) throw fieldError(`/files/${position}`, 'the file is empty')
    if (contentType === undefined) await check()
  }
  return { through, result: () => ({ contentType: contentType!, size, sha256: hash.digest('hex') }) }
}

async function acceptedType(sample: Buffer, position: number): Promise<EvidenceType> {
  const type = await checkFileType(sample)
  if (!type.accepted) throw new AppError('file-type-refused', 415, type.message, [{ pointer: `/files/${position}`, message: type.message, in: 'body' }])
  return type.contentType
}

/** Control characters, and the bidirectional marks that can make `exe.pdf` read as `fdp.exe`. */
const UNPRINTABLE = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu

/** The client's file name with no directory part and nothing unprintable, trimmed, at most MAX_NAME_LENGTH characters. */
function displayName(filename: string): string {
  const base = filename.replace(UNPRINTABLE, '').split(/[/\\]/).at(-1)!.trim()
  return Array.from(base).slice(0, MAX_NAME_LENGTH).join('')
}

function fieldError(pointer: string, message: string): AppError {
  return validationFailed('body', [{ pointer, message }])
}

function submissionFirst(): AppError {
  return fieldError('/submission', 'required, before any file: send the `submission` field (the submission as JSON text) first')
}

function invalidJson(reason: string): AppError {
  return new AppError('invalid-json', 400, `the submission field is not valid JSON: ${reason}`, [{ pointer: '/submission', message: reason, in: 'body' }])
}

function unreadableBody(reason: string): AppError {
  return new AppError('invalid-multipart', 400, `the multipart/form-data body cannot be read (${reason}): it was cut short or is malformed`,
    [{ pointer: '', message: reason, in: 'body' }])
}

/**
 * Any error as the client should read it: ours as they are; @fastify/multipart's, which carry a status, as problems (the
 * files limit named here, its others by errors.ts); the parser's and a closed connection's as a body that cannot be
 * read; anything else (the disk failing under the spool) as it is, a 500.
 */
function uploadError(error: Error & { code?: string; statusCode?: number }, filesSeen: number): Error {
  if (error instanceof AppError) return error
  if (error.code === 'FST_FILES_LIMIT') {
    return new AppError('too-many-files', 413, `a submission takes at most ${MAX_FILES} files`,
      [{ pointer: `/files/${filesSeen}`, message: `more than ${MAX_FILES} files`, in: 'body' }])
  }
  if (error.code === 'FST_INVALID_JSON_FIELD_ERROR') return invalidJson('it is sent as application/json but does not parse')
  if (error.statusCode !== undefined) return error
  // No code: the parser's (a part cut short, a malformed header). The others: the connection closed inside a file, or between two.
  if (error.code === undefined || error.code === 'ERR_STREAM_PREMATURE_CLOSE' || error.code === 'ECONNRESET') return unreadableBody(error.message)
  return error
}
