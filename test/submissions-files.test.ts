// Evidence files: their type read from the bytes, uploads spooled to disk over real HTTP, and their bytes stored and read in chunks.
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { EventEmitter, once } from 'node:events'
import { createReadStream, createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { crc32 } from 'node:zlib'
import multipart from '@fastify/multipart'
import fastify from 'fastify'
import { sql } from 'kysely'
import { PNG } from 'pngjs'
import t, { type Test } from 'tap'
import type { Db } from '../src/db/schema.js'
import { registerErrorHandling } from '../src/http/errors.js'
import { CHUNK_BYTES, fileBytes, fileSize, findSubmissionFile, insertSubmissionFile, submissionFiles } from '../src/submissions/file-store.js'
import { checkFileType, SAMPLE_BYTES } from '../src/submissions/file-type.js'
import { MAX_FILE_BYTES, MULTIPART_LIMITS, readSubmissionUpload, type SpooledFile } from '../src/submissions/uploads.js'
import { onEachDatabase } from './helpers/app.js'

// Memory held, measured after collecting garbage: what a stream keeps, not what it has dropped and not yet freed.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** The ArrayBuffer bytes still reachable: V8 frees dropped ones on a later turn, so collect, let it, and collect again. */
async function heldArrayBuffers(): Promise<number> {
  gc()
  await new Promise((resolve) => setImmediate(resolve))
  gc()
  return process.memoryUsage().arrayBuffers
}

// ---- Real files of each kind, built byte by byte from their formats ----

/** A whole one-page PDF: header, catalog, pages, page, cross-reference table and trailer. */
function pdf(): Buffer {
  const objects = ['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>']
  let body = '%PDF-1.4\n'
  const offsets = objects.map((object, i) => {
    const offset = body.length
    body += `${i + 1} 0 obj\n${object}\nendobj\n`
    return offset
  })
  const xref = body.length
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
  return Buffer.from(body, 'latin1')
}

function png(): Buffer {
  const image = new PNG({ width: 2, height: 2 })
  image.data.fill(0x80)
  return PNG.sync.write(image)
}

/** SOI, a JFIF APP0 segment (version 1.1, 1:1 aspect), EOI. */
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, ...Buffer.from('JFIF\0'), 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xd9])
/** A real 1×1 lossless WebP (the one browsers' feature tests decode). */
const WEBP = Buffer.from('UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==', 'base64')

/** An ISO-BMFF `ftyp` box with this major brand, then an empty `mdat`. */
function isoMedia(brand: string): Buffer {
  const ftyp = Buffer.alloc(24)
  ftyp.writeUInt32BE(24, 0)
  ftyp.write('ftyp', 4, 'latin1')
  ftyp.write(brand, 8, 'latin1')
  ftyp.writeUInt32BE(0x200, 12)
  ftyp.write('isommp41', 16, 'latin1')
  return Buffer.concat([ftyp, Buffer.from([0, 0, 0, 8, ...Buffer.from('mdat')])])
}

/** A Windows executable: the DOS header (`MZ`, e_lfanew at 0x3C), then `PE\0\0` and an i386 COFF header. */
function windowsExecutable(): Buffer {
  const bytes = Buffer.alloc(0x80 + 24)
  bytes.write('MZ', 0, 'latin1')
  bytes.writeUInt32LE(0x80, 0x3c)
  bytes.write('PE\0\0', 0x80, 'latin1')
  bytes.writeUInt16LE(0x014c, 0x84)
  return bytes
}

/** A 64-bit little-endian ELF header: an x86-64 executable. */
function elf(): Buffer {
  const bytes = Buffer.alloc(64)
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(bytes)
  bytes.writeUInt16LE(2, 16)
  bytes.writeUInt16LE(0x3e, 18)
  bytes.writeUInt32LE(1, 20)
  return bytes
}

/** A ZIP archive of one stored file: local header, data, central directory, end record. */
function zip(name: string, content: string): Buffer {
  const data = Buffer.from(content)
  const local = Buffer.alloc(30)
  local.writeUInt32LE(0x04034b50, 0)
  local.writeUInt16LE(20, 4)
  local.writeUInt32LE(crc32(data), 14)
  local.writeUInt32LE(data.length, 18)
  local.writeUInt32LE(data.length, 22)
  local.writeUInt16LE(name.length, 26)
  const central = Buffer.alloc(46)
  central.writeUInt32LE(0x02014b50, 0)
  central.writeUInt16LE(20, 4)
  central.writeUInt16LE(20, 6)
  central.writeUInt32LE(crc32(data), 16)
  central.writeUInt32LE(data.length, 20)
  central.writeUInt32LE(data.length, 24)
  central.writeUInt16LE(name.length, 28)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(1, 8)
  end.writeUInt16LE(1, 10)
  end.writeUInt32LE(46 + name.length, 12)
  end.writeUInt32LE(30 + name.length + data.length, 16)
  return Buffer.concat([local, Buffer.from(name), data, central, Buffer.from(name), end])
}

const TEXT = Buffer.from('Résumé of the lab — 学習の記録\n\tstep 1\r\n\fpage two\n')
const REFUSED_LIST = 'not one of PDF, PNG, JPEG, WebP, MP4 or plain text'

t.test('the type of a file is read from its bytes', async (t) => {
  const accepted: [string, Buffer, string][] = [
    ['a PDF', pdf(), 'application/pdf'],
    ['a PNG', png(), 'image/png'],
    ['a JPEG', JPEG, 'image/jpeg'],
    ['a WebP', WEBP, 'image/webp'],
    ['an MP4 video', isoMedia('isom'), 'video/mp4'],
    ['an M4V video, stored as the MP4 it is', isoMedia('M4V '), 'video/mp4'],
    ['UTF-8 text with accents and CJK, tabs, CR and form feeds', TEXT, 'text/plain'],
    ['UTF-8 text after a byte order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), TEXT]), 'text/plain'],
    ['text cut inside a character where the sample ends', TEXT.subarray(0, TEXT.indexOf('学') + 2), 'text/plain'],
    ['text that merely mentions a tag', Buffer.from('I wrote the <svg> element by hand.\n'), 'text/plain']
  ]
  for (const [label, bytes, type] of accepted) t.same(await checkFileType(bytes), { accepted: true, contentType: type }, label)

  const refused: [string, Buffer, string, string][] = [
    ['a renamed Windows executable', windowsExecutable(), 'application/x-msdownload', 'a Windows executable'],
    ['an ELF program', elf(), 'application/x-elf', 'a Linux or Unix program'],
    ['a ZIP archive', zip('essay.txt', 'hello'), 'application/zip', 'a ZIP archive'],
    ['an SVG image', Buffer.from('<?xml-stylesheet href="a.css"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), 'image/svg+xml', 'an SVG image'],
    ['an HTML page', Buffer.from('\ufeff\n  <!DOCTYPE html><html><body onload="alert(1)"></body></html>'), 'text/html', 'an HTML page'],
    ['text with a NUL byte', Buffer.from('line one\0line two\n'), 'application/octet-stream', 'unrecognised binary data'],
    ['text with an escape sequence', Buffer.from('\u001b[31mred\u001b[0m\n'), 'application/octet-stream', 'unrecognised binary data'],
    ['bytes that are not UTF-8', Buffer.from([0x48, 0x69, 0xc3, 0x28, 0x0a]), 'application/octet-stream', 'unrecognised binary data'],
    ['a QuickTime movie', isoMedia('qt  '), 'video/quicktime', 'in MOV format'],
    ['an M4A recording', isoMedia('M4A '), 'audio/x-m4a', 'in M4A format']
  ]
  for (const [label, bytes, type, words] of refused) {
    t.same(await checkFileType(bytes), { accepted: false, found: type, message: `this file is ${words} (${type}), ${REFUSED_LIST}` }, label)
  }
  t.same(await checkFileType(pdf(), ['image/png', 'image/jpeg']),
    { accepted: false, found: 'application/pdf', message: 'this file is in PDF format (application/pdf), not one of PNG or JPEG' }, 'a type left out of the list given is refused')
})

// ---- Uploads over real HTTP ----

const BOUNDARY = 'lanyard-test-boundary-7MA4YWxkTrZu0gW'

interface Part {
  name: string
  filename?: string
  type?: string
  body: string | Uint8Array | AsyncIterable<Uint8Array>
}

function partHead(part: Part): Buffer {
  const filename = part.filename === undefined ? '' : `; filename="${part.filename}"`
  const type = part.type === undefined ? '' : `content-type: ${part.type}\r\n`
  return Buffer.from(`--${BOUNDARY}\r\ncontent-disposition: form-data; name="${part.name}"${filename}\r\n${type}\r\n`)
}

/** A multipart/form-data body as a stream, written by hand so a test can send what a browser never would. */
async function* multipartBody(parts: Part[], { close = true } = {}): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    yield partHead(part)
    if (typeof part.body === 'string' || part.body instanceof Uint8Array) yield Buffer.from(part.body)
    else yield* part.body
    yield Buffer.from('\r\n')
  }
  if (close) yield Buffer.from(`--${BOUNDARY}--\r\n`)
}

/** `size` bytes starting with `head`, made 64 KiB at a time as they are sent. */
async function* generated(head: Buffer, size: number): AsyncGenerator<Uint8Array> {
  const block = randomBytes(64 * 1024)
  yield head
  for (let sent = head.length; sent < size; sent += block.length) yield block.subarray(0, Math.min(block.length, size - sent))
}

const submissionJson = JSON.stringify({ recipient: { email: 'ada@example.edu' }, evidence: [{ name: 'Lab report' }] })

interface UploadServer {
  url: string
  /** What the private temp root holds: the upload's directories, while they exist. */
  leftovers(): string[]
  tmpRoot: string
  /** The next error readSubmissionUpload throws (seen by the server even when the client is gone). */
  nextFailure(): Promise<unknown>
}

interface StoredFile extends SpooledFile {
  bytesSha256: string
  mode: number
  dirMode: number
}

async function uploadServer(t: Test): Promise<UploadServer> {
  const tmpRoot = mkdtempSync(path.join(tmpdir(), 'lanyard-files-test-'))
  t.teardown(() => rmSync(tmpRoot, { recursive: true, force: true }))
  const failures = new EventEmitter()
  const app = fastify()
  registerErrorHandling(app)
  await app.register(multipart, { limits: MULTIPART_LIMITS })
  app.post('/upload', async (request) => {
    const options = (request.query as { tmp?: string }).tmp === 'system' ? {} : { tmpDir: tmpRoot }
    const upload = await readSubmissionUpload(request, options).catch((error: unknown) => {
      failures.emit('failure', error)
      throw error
    })
    const files: StoredFile[] = upload.files.map((file) => ({
      ...file,
      bytesSha256: createHash('sha256').update(readFileSync(file.path)).digest('hex'),
      mode: statSync(file.path).mode & 0o777,
      dirMode: statSync(path.dirname(file.path)).mode & 0o777
    }))
    await upload.dispose()
    return { submission: upload.submission, files, gone: files.every((file) => !existsSync(path.dirname(file.path))) }
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const address = app.server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${address.port}/upload`,
    tmpRoot,
    leftovers: () => readdirSync(tmpRoot),
    nextFailure: async () => (await once(failures, 'failure'))[0]
  }
}

/** A Blob of these bytes, declared as `type`: what a browser sends for a file input. */
function blob(bytes: Uint8Array, type = ''): Blob {
  return new Blob([new Uint8Array(bytes)], { type })
}

function postForm(server: UploadServer, form: FormData, query = ''): Promise<Response> {
  return fetch(`${server.url}${query}`, { method: 'POST', body: form })
}

function postStream(server: UploadServer, body: AsyncIterable<Uint8Array>): Promise<Response> {
  return fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    body: Readable.toWeb(Readable.from(body)) as ReadableStream<Uint8Array>,
    duplex: 'half'
  } as RequestInit)
}

/** A multipart upload by curl (`--form-string` for the JSON, so curl reads nothing special into it). */
async function postWithCurl(server: UploadServer, submission: string, file: string): Promise<{ status: number; body: string }> {
  const curl = spawn('curl', ['-s', '-w', '\\n%{http_code}', '--form-string', `submission=${submission}`, '-F', `file=@${file};filename=lecture.mp4`, server.url])
  const [output] = await Promise.all([curl.stdout.toArray(), once(curl, 'close')])
  const text = Buffer.concat(output).toString('utf8')
  const split = text.lastIndexOf('\n')
  return { status: Number(text.slice(split + 1)), body: text.slice(0, split) }
}

async function expectProblem(t: Test, res: Response, status: number, code: string, pointer: string) {
  t.equal(res.status, status, `${code}: status`)
  t.match(res.headers.get('content-type'), /^application\/problem\+json/)
  const body = await res.json() as { code: string; detail: string; errors: { pointer: string; message: string; in: string }[] }
  t.equal(body.code, code)
  t.match(body.errors, [{ pointer, message: String, in: 'body' }], `${code} names ${pointer}`)
  return body
}

/** Waits until `ready` holds, polling: for what the server does on its own (spooling, cleaning up). */
async function until(ready: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !ready(); waited += 10) {
    if (waited > 10_000) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

t.test('uploading files', async (t) => {
  const server = await uploadServer(t)

  t.test('two files are spooled privately, each with its size, SHA-256 and the type its bytes say, whatever the client declared', async (t) => {
    const form = new FormData()
    form.append('submission', submissionJson)
    form.append('file', blob(pdf(), 'image/png'), 'report.txt')
    form.append('file', blob(png(), 'application/octet-stream'), 'photo.png')
    const res = await postForm(server, form)
    t.equal(res.status, 200)
    const body = await res.json() as { submission: unknown; files: StoredFile[]; gone: boolean }
    t.same(body.submission, JSON.parse(submissionJson))
    t.match(body.files, [
      { position: 0, name: 'report.txt', contentType: 'application/pdf', size: pdf().length, sha256: sha256(pdf()), mode: 0o600, dirMode: 0o700 },
      { position: 1, name: 'photo.png', contentType: 'image/png', size: png().length, sha256: sha256(png()), mode: 0o600 }
    ])
    for (const file of body.files) t.equal(file.bytesSha256, file.sha256, `${file.name}: the spooled bytes are the ones sent`)
    t.ok(body.gone, 'dispose removes the spooled files')
    t.same(server.leftovers(), [])
  })

  t.test('without a directory given, files are spooled under the system temp directory', async (t) => {
    const form = new FormData()
    form.append('submission', submissionJson)
    form.append('file', blob(JPEG), 'photo.jpg')
    const body = await (await postForm(server, form, '?tmp=system')).json() as { files: StoredFile[]; gone: boolean }
    t.match(body.files, [{ contentType: 'image/jpeg', size: JPEG.length }])
    t.equal(path.dirname(path.dirname(body.files[0]!.path)), tmpdir())
    t.match(path.basename(path.dirname(body.files[0]!.path)), /^lanyard-upload-/)
    t.ok(body.gone)
  })

  t.test('a submission without files is read, and a JSON-typed field comes parsed', async (t) => {
    const res = await postStream(server, multipartBody([{ name: 'submission', type: 'application/json', body: submissionJson }]))
    t.equal(res.status, 200)
    t.same(await res.json(), { submission: JSON.parse(submissionJson), files: [], gone: true })
  })

  t.test('a file is named by its client name, without directories or unprintable characters, at most 255 characters', async (t) => {
    const long = `${'é'.repeat(300)}.txt`
    const res = await postStream(server, multipartBody([
      { name: 'submission', body: submissionJson },
      { name: 'file', filename: '  C:\\Users\\ada\\lab\u0007 notes\u202Etxt.exe  ', body: TEXT },
      { name: 'file', filename: long, body: TEXT }
    ]))
    t.equal(res.status, 200)
    const { files } = await res.json() as { files: StoredFile[] }
    t.equal(files[0]!.name, 'lab notestxt.exe')
    t.equal(files[1]!.name, 'é'.repeat(255))
  })

  t.test('a text file longer than the sample, cut inside a character there, is plain text', async (t) => {
    const text = Buffer.from('学'.repeat(3000))
    t.not(SAMPLE_BYTES % 3, 0, 'the sample ends inside a three-byte character')
    const form = new FormData()
    form.append('submission', submissionJson)
    form.append('file', blob(text), 'notes.txt')
    const { files } = await (await postForm(server, form)).json() as { files: StoredFile[] }
    t.match(files, [{ contentType: 'text/plain', size: text.length, sha256: sha256(text) }])
  })

  t.test('a file of exactly 25 MB is taken, and spooling it holds about a chunk in memory', async (t) => {
    const before = await heldArrayBuffers()
    let held = 0
    let uploading = true
    const sampling = (async () => {
      while (uploading) {
        held = Math.max(held, await heldArrayBuffers() - before)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    })()
    // The client is curl, in its own process: what this process holds is the server's alone, whatever the client buffers.
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'lanyard-upload-test-')), 'lecture.mp4')
    t.teardown(() => rmSync(path.dirname(file), { recursive: true, force: true }))
    await pipeline(Readable.from(generated(isoMedia('isom'), MAX_FILE_BYTES)), createWriteStream(file))
    const res = await postWithCurl(server, submissionJson, file)
    uploading = false
    await sampling
    t.equal(res.status, 200, res.body)
    t.match((JSON.parse(res.body) as { files: StoredFile[] }).files, [{ contentType: 'video/mp4', size: MAX_FILE_BYTES }])
    t.ok(held < 8 * 1024 * 1024, `memory held while uploading stays under 8 MB (${(held / 1024 / 1024).toFixed(1)} MB)`)
  })

  t.test('a file one byte over 25 MB is a 413 naming it, and nothing is left on disk', async (t) => {
    const res = await postStream(server, multipartBody([
      { name: 'submission', body: submissionJson },
      { name: 'file', filename: 'small.pdf', body: pdf() },
      { name: 'file', filename: 'huge.pdf', body: generated(pdf(), MAX_FILE_BYTES + 1) }
    ]))
    const problem = await expectProblem(t, res, 413, 'file-too-large', '/files/1')
    t.match(problem.detail, /at most 25 MB/)
    t.same(server.leftovers(), [])
  })

  t.test('a renamed executable is a 415 saying what it is', async (t) => {
    const form = new FormData()
    form.append('submission', submissionJson)
    form.append('file', blob(pdf(), 'application/pdf'), 'fine.pdf')
    form.append('file', blob(windowsExecutable(), 'application/pdf'), 'lesson.pdf')
    const problem = await expectProblem(t, await postForm(server, form), 415, 'file-type-refused', '/files/1')
    t.equal(problem.detail, `this file is a Windows executable (application/x-msdownload), ${REFUSED_LIST}`)
    t.same(server.leftovers(), [])
  })

  t.test('an executable larger than the sample is refused as soon as its first bytes are in', async (t) => {
    const res = await postStream(server, multipartBody([
      { name: 'submission', body: submissionJson },
      { name: 'file', filename: 'setup.pdf', body: generated(elf(), 8 * 1024 * 1024) }
    ]))
    const problem = await expectProblem(t, res, 415, 'file-type-refused', '/files/0')
    t.match(problem.detail, /a Linux or Unix program \(application\/x-elf\)/)
    t.same(server.leftovers(), [])
  })

  t.test('eleven files are a 413 naming the eleventh', async (t) => {
    const form = new FormData()
    form.append('submission', submissionJson)
    for (let i = 0; i < 11; i++) form.append('file', blob(TEXT), `page-${i}.txt`)
    const problem = await expectProblem(t, await postForm(server, form), 413, 'too-many-files', '/files/10')
    t.match(problem.detail, /at most 10 files/)
    t.same(server.leftovers(), [])
  })

  t.test('the submission field is required, as text, once, before any file, and as JSON', async (t) => {
    const cases: [string, Part[], number, string, string][] = [
      ['missing', [{ name: 'file', filename: 'a.txt', body: TEXT }], 400, 'validation-failed', '/submission'],
      ['an empty form', [], 400, 'validation-failed', '/submission'],
      ['after the files', [{ name: 'file', filename: 'a.txt', body: TEXT }, { name: 'submission', body: submissionJson }], 400, 'validation-failed', '/submission'],
      ['twice', [{ name: 'submission', body: submissionJson }, { name: 'submission', body: submissionJson }], 400, 'validation-failed', '/submission'],
      ['sent as a file', [{ name: 'submission', filename: 'submission.json', body: submissionJson }], 400, 'validation-failed', '/submission'],
      ['not JSON', [{ name: 'submission', body: '{"recipient": ' }], 400, 'invalid-json', '/submission'],
      ['labelled JSON but not JSON', [{ name: 'submission', type: 'application/json', body: '{"recipient": ' }], 400, 'invalid-json', '/submission'],
      ['longer than 1 MiB', [{ name: 'submission', body: JSON.stringify({ evidence: 'x'.repeat(1024 * 1024) }) }], 413, 'submission-too-large', '/submission']
    ]
    for (const [label, parts, status, code, pointer] of cases) {
      t.test(label, async (t) => {
        const problem = await expectProblem(t, await postStream(server, multipartBody(parts)), status, code, pointer)
        if (label === 'missing' || label === 'after the files') t.match(problem.detail, /before any file/)
        t.same(server.leftovers(), [])
      })
    }
  })

  t.test('a part the form does not take, a file without a name and an empty file are 400s naming them', async (t) => {
    const cases: [string, Part[], string][] = [
      ['an unknown part', [{ name: 'submission', body: submissionJson }, { name: 'notes', body: 'hello' }], '/notes'],
      ['an unknown part whose name needs escaping', [{ name: 'submission', body: submissionJson }, { name: 'a/b~c', body: 'x' }], '/a~1b~0c'],
      ['an unknown file part', [{ name: 'submission', body: submissionJson }, { name: 'attachment', filename: 'a.txt', body: TEXT }], '/attachment'],
      ['a file part with an empty filename', [{ name: 'submission', body: submissionJson }, { name: 'file', filename: '', body: TEXT }], '/files/0'],
      ['a file part whose name is only a directory', [{ name: 'submission', body: submissionJson }, { name: 'file', filename: ' dir/ ', body: TEXT }], '/files/0'],
      ['a `file` field without a filename', [{ name: 'submission', body: submissionJson }, { name: 'file', body: 'just text' }], '/files/0'],
      ['an empty file', [{ name: 'submission', body: submissionJson }, { name: 'file', filename: 'a.txt', body: TEXT }, { name: 'file', filename: 'empty.txt', body: '' }], '/files/1']
    ]
    for (const [label, parts, pointer] of cases) {
      t.test(label, async (t) => {
        await expectProblem(t, await postStream(server, multipartBody(parts)), 400, 'validation-failed', pointer)
        t.same(server.leftovers(), [])
      })
    }
  })

  t.test('a field named __proto__ is refused as @fastify/multipart refuses it', async (t) => {
    const res = await postStream(server, multipartBody([{ name: 'submission', body: submissionJson }, { name: '__proto__', body: '{}' }]))
    t.equal(res.status, 400)
    t.match(await res.json(), { code: 'invalid-multipart' })
    t.same(server.leftovers(), [])
  })

  t.test('a body that ends inside a file is a 400, and nothing is left on disk', async (t) => {
    const res = await postStream(server, multipartBody([{ name: 'submission', body: submissionJson }, { name: 'file', filename: 'a.pdf', body: pdf() }], { close: false }))
    const problem = await expectProblem(t, res, 400, 'invalid-multipart', '')
    t.match(problem.detail, /cannot be read/)
    t.same(server.leftovers(), [])
  })

  /** Starts a POST that announces more than it sends, and writes `chunks`; the caller cuts it off. */
  function unfinishedUpload(chunks: Uint8Array[]) {
    const request = httpRequest(server.url, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': 50_000_000 } })
    request.on('error', () => {})
    for (const chunk of chunks) request.write(chunk)
    return request
  }

  /** The upload's own directory under the temp root, and the files spooled in it. */
  function spooled(): string[] {
    return server.leftovers().flatMap((dir) => readdirSync(path.join(server.tmpRoot, dir)).map((file) => path.join(server.tmpRoot, dir, file)))
  }

  t.test('an upload aborted inside a file leaves nothing on disk', async (t) => {
    const failure = server.nextFailure()
    const request = unfinishedUpload([partHead({ name: 'submission', body: '' }), Buffer.from(`${submissionJson}\r\n`),
      partHead({ name: 'file', filename: 'big.pdf', body: '' }), pdf(), randomBytes(256 * 1024)])
    await until(() => spooled().length === 1 && statSync(spooled()[0]!).size > 0, 'the file to be spooling')
    request.destroy()
    t.match(await failure, { status: 400, code: 'invalid-multipart' })
    t.same(server.leftovers(), [])
  })

  t.test('an upload aborted between two files leaves nothing on disk', async (t) => {
    const failure = server.nextFailure()
    const request = unfinishedUpload([partHead({ name: 'submission', body: '' }), Buffer.from(`${submissionJson}\r\n`),
      partHead({ name: 'file', filename: 'a.pdf', body: '' }), pdf(), Buffer.from(`\r\n--${BOUNDARY}\r\n`)])
    await until(() => spooled().length === 1 && statSync(spooled()[0]!).size === pdf().length, 'the first file to be spooled')
    request.destroy()
    t.match(await failure, { status: 400, code: 'invalid-multipart' })
    t.same(server.leftovers(), [])
  })

  t.test('the disk failing under the spool is a 500 (not the client\'s fault), and the rest is cleaned up', async (t) => {
    async function* removingTheSpoolFirst(): AsyncGenerator<Uint8Array> {
      yield* multipartBody([{ name: 'submission', body: submissionJson }], { close: false })
      await until(() => server.leftovers().length === 1, 'the upload directory')
      rmSync(path.join(server.tmpRoot, server.leftovers()[0]!), { recursive: true })
      yield* multipartBody([{ name: 'file', filename: 'a.txt', body: TEXT }])
    }
    const res = await postStream(server, removingTheSpoolFirst())
    t.equal(res.status, 500)
    t.match(await res.json(), { code: 'internal' })
    t.same(server.leftovers(), [])
  })
})

// ---- Storing and reading the bytes ----

/** A spooled file of `size` random bytes, as an upload leaves it. */
async function spooledFile(t: Test, size: number): Promise<{ path: string; sha256: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lanyard-files-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'spooled')
  const hash = createHash('sha256')
  await pipeline(generated(Buffer.alloc(0), size), async function* (source) {
    for await (const chunk of source) {
      hash.update(chunk)
      yield chunk
    }
  }, createWriteStream(file))
  return { path: file, sha256: hash.digest('hex') }
}

async function submissionRow(db: Db): Promise<string> {
  const [issuer, achievement, submission] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()]
  await sql`insert into issuers (id, did, did_method, name, url) values (${issuer}, ${`did:key:z${issuer}`}, 'key', 'College', 'https://college.example.edu')`.execute(db)
  await sql`insert into achievements (id, issuer_id, name, description, criteria) values (${achievement}, ${issuer}, 'Lab safety', 'Safe in the lab', '{}'::jsonb)`.execute(db)
  await sql`insert into submissions (id, issuer_id, achievement_id, identity_type, identity) values (${submission}, ${issuer}, ${achievement}, 'email', 'ada@example.edu')`.execute(db)
  return submission
}

function fileRow(submissionId: string, size: number, sha: string, version = 1, position = 0) {
  return { id: crypto.randomUUID(), submission_id: submissionId, version, position, name: `file-${version}-${position}.pdf`, content_type: 'application/pdf', size, sha256: sha }
}

async function chunkSizes(db: Db, fileId: string): Promise<{ seq: number; bytes: number }[]> {
  const rows = await sql<{ seq: number; bytes: number }>`select seq, length(data) as bytes from submission_file_chunks where file_id = ${fileId} order by seq`.execute(db)
  return rows.rows.map((row) => ({ seq: row.seq, bytes: Number(row.bytes) }))
}

await onEachDatabase(t, async (t, { db }) => {
  const submissionId = await submissionRow(db)

  t.test('a 5 MB file is stored in 256 KiB chunks and read back byte for byte', async (t) => {
    const size = 5 * 1024 * 1024 + 12345
    const spooled = await spooledFile(t, size)
    const row = fileRow(submissionId, size, spooled.sha256)
    await db.transaction().execute((trx) => insertSubmissionFile(trx, row, spooled.path))

    const chunks = await chunkSizes(db, row.id)
    t.equal(chunks.length, Math.ceil(size / CHUNK_BYTES))
    t.same(chunks.map((c) => c.seq), chunks.map((_c, i) => i), 'numbered from 0')
    t.ok(chunks.every((c) => c.bytes <= CHUNK_BYTES), 'none over 256 KiB')

    const stored = (await findSubmissionFile(db, row.id))!
    t.match(stored, { id: row.id, submission_id: submissionId, name: row.name, content_type: 'application/pdf', sha256: spooled.sha256, public: false })
    t.equal(fileSize(stored), size)

    const read: Buffer[] = []
    for await (const chunk of fileBytes(db, row.id)) read.push(chunk as Buffer)
    t.ok(Buffer.isBuffer(read[0]), 'chunks are Buffers')
    t.ok(Buffer.concat(read).equals(readFileSync(spooled.path)), 'the bytes read are the bytes stored')
  })

  t.test('a file that fails to store leaves no row: the transaction takes it back', async (t) => {
    const row = fileRow(submissionId, 10, 'x', 9)
    await t.rejects(db.transaction().execute((trx) => insertSubmissionFile(trx, row, path.join(tmpdir(), 'no-such-spooled-file'))), { code: 'ENOENT' })
    t.equal(await findSubmissionFile(db, row.id), undefined)
  })

  t.test('a submission\'s files come in version order, then upload order', async (t) => {
    const revised = await submissionRow(db)
    const spooled = await spooledFile(t, 100)
    for (const [version, position] of [[2, 0], [1, 1], [1, 0]] as const) {
      await insertSubmissionFile(db, fileRow(revised, 100, spooled.sha256, version, position), spooled.path)
    }
    t.same((await submissionFiles(db, revised)).map((file) => [file.version, file.position]), [[1, 0], [1, 1], [2, 0]])
  })

  t.test('an unknown file has no row and no bytes; a read that fails ends the stream with its error', async (t) => {
    t.equal(await findSubmissionFile(db, crypto.randomUUID()), undefined)
    const read: Buffer[] = []
    for await (const chunk of fileBytes(db, crypto.randomUUID())) read.push(chunk as Buffer)
    t.same(read, [])
    await t.rejects(Readable.from(fileBytes(db, 'not-a-uuid')).toArray(), /uuid/)
  })

  t.test('reading a 25 MB file holds about one chunk in memory', async (t) => {
    const size = MAX_FILE_BYTES
    const spooled = await spooledFile(t, size)
    const row = fileRow(submissionId, size, spooled.sha256, 3)
    await db.transaction().execute((trx) => insertSubmissionFile(trx, row, spooled.path))

    // A first read warms the database's own buffers (PGlite's heap is an ArrayBuffer that grows once); the second is measured.
    let warmed = 0
    for await (const _chunk of fileBytes(db, row.id)) if (++warmed === 10) break
    const before = await heldArrayBuffers()
    let held = 0
    let largest = 0
    let count = 0
    const hash = createHash('sha256')
    for await (const chunk of fileBytes(db, row.id) as AsyncIterable<Buffer>) {
      hash.update(chunk)
      largest = Math.max(largest, chunk.length)
      if (++count % 10 === 0) held = Math.max(held, await heldArrayBuffers() - before)
    }
    t.equal(hash.digest('hex'), spooled.sha256, 'all 25 MB came back')
    t.ok(largest <= CHUNK_BYTES, `no chunk over 256 KiB (largest ${largest})`)
    t.ok(held < 8 * 1024 * 1024, `memory held while reading stays under 8 MB (${(held / 1024 / 1024).toFixed(1)} MB)`)
  })
})
