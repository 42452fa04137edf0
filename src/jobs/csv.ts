// CSV for jobs: an uploaded cohort file read as a stream into checked issue rows, and results written back as CSV.
import { pipeline, Transform, type Readable } from 'node:stream'
import { CsvError, parse } from 'csv-parse'
import { AppError, type FieldError } from '../http/errors.js'
import { checkIssueRow, MAX_JOB_ROWS, RowErrors, tooManyRows, type IssueRowInput, type JobRowInput } from './rows.js'

/** The columns an issue file may have; a recipient column (email, did or url) is required. */
export const CSV_COLUMNS = ['email', 'did', 'url', 'name', 'externalId', 'validFrom', 'validUntil', 'narrative'] as const
type Column = typeof CSV_COLUMNS[number]
const RECIPIENT_COLUMNS = new Set<Column>(['email', 'did', 'url', 'name', 'externalId'])
/** Header names are matched without regard to case: spreadsheets write "Email" and "externalid" as often as not. */
const BY_LOWER_CASE = new Map(CSV_COLUMNS.map((column) => [column.toLowerCase(), column]))

function bodyTooLarge(limit: number): AppError {
  return new AppError('body-too-large', 413, `the request body is larger than this endpoint accepts (${limit} bytes)`)
}

/** Passes bytes through until more than `limit` have gone by. */
function byteLimit(limit: number): Transform {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length
      callback(seen > limit ? bodyTooLarge(limit) : null, chunk)
    }
  })
}

/** The header row's columns; a header that cannot be read stops the upload at once (no row means anything without it). */
function headerColumns(record: string[]): Column[] {
  const errors: FieldError[] = []
  const columns = record.map((name) => {
    const column = BY_LOWER_CASE.get(name.toLowerCase())
    if (column === undefined) errors.push({ pointer: `/rows/1/${name}`, message: `unknown column: expected some of ${CSV_COLUMNS.join(', ')}` })
    return column!
  })
  const repeated = columns.filter((column, index) => column !== undefined && columns.indexOf(column) !== index)
  for (const column of new Set(repeated)) errors.push({ pointer: `/rows/1/${column}`, message: 'this column appears more than once' })
  if (!columns.some((column) => column === 'email' || column === 'did' || column === 'url')) {
    errors.push({ pointer: '/rows/1', message: 'the header row needs an email, did or url column' })
  }
  if (errors.length > 0) throw new AppError('rows-invalid', 422, 'the header row of the CSV cannot be used; nothing was queued', errors, { errorCount: errors.length })
  return columns
}

/** A data row in the shape of a batch item; empty cells are absent values. */
function itemOf(columns: Column[], record: string[]): Record<string, unknown> {
  const recipient: Record<string, string> = {}
  const item: Record<string, unknown> = { recipient }
  columns.forEach((column, index) => {
    const value = record[index]!
    if (value === '') return
    if (RECIPIENT_COLUMNS.has(column)) recipient[column] = value
    else item[column] = value
  })
  return item
}

/** A batch item's path as the CSV column it came from: recipient.email is the email column; the recipient itself, the row. */
const columnOf = (path: PropertyKey[]): PropertyKey[] => path[0] === 'recipient' ? path.slice(1) : path

/**
 * Reads an issue CSV (UTF-8, with or without a BOM, CRLF or LF, RFC 4180 quoting) from `stream` as it arrives, checking
 * every row; throws one 422 naming the bad rows (`/rows/42/email`, the header being row 1), 413 past `limit` bytes or
 * MAX_JOB_ROWS rows, 400 when it is not CSV at all.
 */
export async function readIssueCsv(stream: Readable, limit: number): Promise<JobRowInput<IssueRowInput>[]> {
  // The request itself is not destroyed on a refusal (that would take the reply with it): it is only no longer read.
  const limiter = byteLimit(limit)
  const records = pipeline(limiter, parse({ bom: true, relax_column_count: true, skip_empty_lines: true, trim: true }), () => {})
  stream.pipe(limiter)
  const rows: JobRowInput<IssueRowInput>[] = []
  const errors = new RowErrors()
  let columns: Column[] | undefined
  let row = 0
  try {
    for await (const record of records as AsyncIterable<string[]>) {
      row++
      if (columns === undefined) {
        columns = headerColumns(record)
        continue
      }
      if (row - 1 > MAX_JOB_ROWS) throw tooManyRows()
      if (record.length !== columns.length) {
        errors.add([{ pointer: `/rows/${row}`, message: `expected ${columns.length} fields (as in the header), found ${record.length}` }])
        continue
      }
      const checked = checkIssueRow(itemOf(columns, record), `/rows/${row}`, columnOf)
      if ('errors' in checked) errors.add(checked.errors)
      else rows.push({ row, input: checked.input })
    }
  } catch (error) {
    stream.unpipe(limiter)
    if (error instanceof CsvError) throw new AppError('invalid-csv', 400, `the body is not CSV that can be read: ${error.message}`)
    throw error
  }
  errors.throwIfAny()
  if (rows.length === 0) throw new AppError('rows-invalid', 422, 'the CSV has no rows below its header; nothing was queued', [{ pointer: '/rows/2', message: 'no rows' }], { errorCount: 1 })
  return rows
}

/**
 * Text a spreadsheet would run as a formula (it starts with =, @, a tab or a carriage return, or with + or - and is not a
 * number) gets a leading apostrophe, as OWASP's CSV-injection advice says: results are opened in spreadsheets, and an
 * externalId or a message may hold what a learner typed.
 */
function defused(text: string): string {
  return /^[=@\t\r]/.test(text) || (/^[+-]/.test(text) && !/^[+-]\d+(\.\d+)?$/.test(text)) ? `'${text}` : text
}

/** One CSV field: quoted when it holds a quote, a comma or a line break (RFC 4180); text that looks like a formula defused. */
function field(value: string | number | undefined): string {
  if (value === undefined) return ''
  const text = typeof value === 'number' ? String(value) : defused(value)
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** Rows of fields as CSV lines, CRLF-terminated. */
export function csvLine(fields: (string | number | undefined)[]): string {
  return `${fields.map(field).join(',')}\r\n`
}
