// SQL for evidence files: a row per file, and its bytes in 256 KiB chunks, written and read as streams.
import { createReadStream } from 'node:fs'
import { Readable } from 'node:stream'
import type { Insertable } from 'kysely'
import type { Db, SubmissionFileRow, SubmissionFilesTable } from '../db/schema.js'

/** A chunk's size: big enough that a 25 MB file is a hundred rows, small enough that reading one holds little memory. */
export const CHUNK_BYTES = 256 * 1024

/** Inserts the file's row, then its bytes from where the upload spooled them, one chunk per insert as they are read. */
export async function insertSubmissionFile(trx: Db, row: Insertable<SubmissionFilesTable>, spooledPath: string): Promise<void> {
  await trx.insertInto('submission_files').values(row).execute()
  let seq = 0
  for await (const data of createReadStream(spooledPath, { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>) {
    await trx.insertInto('submission_file_chunks').values({ file_id: row.id, seq: seq++, data }).execute()
  }
}

export async function findSubmissionFile(db: Db, fileId: string): Promise<SubmissionFileRow | undefined> {
  return db.selectFrom('submission_files').selectAll().where('id', '=', fileId).executeTakeFirst()
}

/** Every version's files, in version order and, within one, in the order they were uploaded. */
export async function submissionFiles(db: Db, submissionId: string): Promise<SubmissionFileRow[]> {
  return db.selectFrom('submission_files').selectAll().where('submission_id', '=', submissionId).orderBy('version').orderBy('position').execute()
}

/** A file's size as a number: the column is bigint, which pg reads as a string (25 MB is far inside a double's exact range). */
export function fileSize(row: Pick<SubmissionFileRow, 'size'>): number {
  return Number(row.size)
}

/**
 * A file's bytes as a stream that reads one chunk per query, only as the consumer asks for more: serving a file holds
 * about one chunk in memory, whatever its size. An unknown file is an empty stream (look its row up first).
 */
export function fileBytes(db: Db, fileId: string): Readable {
  const chunkAt = (seq: number) =>
    db.selectFrom('submission_file_chunks').select('data').where('file_id', '=', fileId).where('seq', '=', seq).executeTakeFirst()
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let seq = 0, chunk = await chunkAt(seq); chunk !== undefined; chunk = await chunkAt(++seq)) {
      // PGlite reads bytea as a Uint8Array, pg as a Buffer: a view of either, without a copy.
      yield Buffer.from(chunk.data.buffer, chunk.data.byteOffset, chunk.data.byteLength)
    }
  }
  return Readable.from(chunks(), { objectMode: false })
}
