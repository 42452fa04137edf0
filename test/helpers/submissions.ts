// Evidence for tests: real files of the accepted types (and a renamed executable), and submissions sent over real HTTP.
import { PNG } from 'pngjs'
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { admin } from './app.js'

/** A one-page PDF: the header, one object, and the trailer file-type and readers look for. */
export function pdfBytes(text = 'Lesson plan: fractions with paper strips'): Buffer {
  return Buffer.from(`%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n% ${text}\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n`, 'latin1')
}

/** A real PNG of a few pixels. */
export function pngBytes(width = 4, height = 3): Buffer {
  const png = new PNG({ width, height })
  png.data.fill(0x7f)
  return PNG.sync.write(png)
}

/** A Windows executable's first bytes: the MZ header pointing at a PE signature. */
export function executableBytes(): Buffer {
  const bytes = Buffer.alloc(512)
  bytes.write('MZ', 0, 'latin1')
  bytes.writeUInt32LE(0x80, 0x3c)
  bytes.write('PE\0\0', 0x80, 'latin1')
  bytes.writeUInt16LE(0x14c, 0x84)
  return bytes
}

export interface FilePart {
  name: string
  bytes: Buffer
  /** What the client claims; Lanyard reads the type from the bytes. */
  type?: string
}

/** Sends a multipart submission (the JSON as `submission`, then the files) to a listening app. */
export async function postMultipart(origin: string, path: string, submission: unknown, files: FilePart[], headers: Record<string, string> = admin) {
  const form = new FormData()
  form.append('submission', JSON.stringify(submission))
  for (const file of files) form.append('file', new Blob([new Uint8Array(file.bytes)], { type: file.type ?? 'application/octet-stream' }), file.name)
  const res = await fetch(`${origin}${path}`, { method: 'POST', body: form, headers })
  const text = await res.text()
  return { status: res.status, body: text, json: () => JSON.parse(text), headers: res.headers }
}

/** The app listening on a loopback port, for multipart over real HTTP. */
export async function listening(t: Test, app: FastifyInstance): Promise<string> {
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  return address
}
