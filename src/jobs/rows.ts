// Checking a job's rows before anything is queued: every bad row is named, in one 422, up to a cap.
import type { z } from 'zod'
import { batchItem } from '../credentials/award-input.js'
import { AppError, type FieldError } from '../http/errors.js'
import { unstorableFields } from '../http/validation.js'

/** The most rows one job takes. */
export const MAX_JOB_ROWS = 100_000
/** Enough errors to fix a file by; the problem says how many there were in all. */
export const MAX_REPORTED_ERRORS = 100

/** An issue row as stored and replayed: the item shape of POST /v1/credentials/batch. */
export type IssueRowInput = z.infer<typeof batchItem>

export interface JobRowInput<T> {
  /** What results call the row: its index in `items`/`ids`, or its line in the CSV (the header is row 1). */
  row: number
  input: T
}

/** Collects row errors, keeping the first MAX_REPORTED_ERRORS and counting the rest. */
export class RowErrors {
  readonly reported: FieldError[] = []
  count = 0

  add(errors: FieldError[]): void {
    this.count += errors.length
    for (const error of errors) if (this.reported.length < MAX_REPORTED_ERRORS) this.reported.push(error)
  }

  /** Throws the 422 when any row was bad. */
  throwIfAny(): void {
    if (this.count === 0) return
    const shown = this.count > this.reported.length ? ` (the first ${this.reported.length} are listed)` : ''
    throw new AppError('rows-invalid', 422, `${this.count} problem${this.count === 1 ? '' : 's'} in the rows${shown}; nothing was queued`,
      this.reported, { errorCount: this.count })
  }
}

export function tooManyRows(): AppError {
  return new AppError('too-many-rows', 413, `a job takes at most ${MAX_JOB_ROWS.toLocaleString('en')} rows: split the file`)
}

/** A JSON Pointer: `base` and then each key of `path`, escaped (RFC 6901). */
function pointer(base: string, path: PropertyKey[]): string {
  return base + path.map((key) => `/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('')
}

type Rename = (path: PropertyKey[]) => PropertyKey[]
const asIs: Rename = (path) => path

/** zod's issues as field errors under `base`; `rename` maps a path (CSV columns are flat). */
export function issueErrors(issues: z.core.$ZodIssue[], base: string, rename: Rename = asIs): FieldError[] {
  const errors = issues.flatMap((issue): FieldError[] => {
    const at = pointer(base, rename(issue.path))
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ pointer: pointer(at, [key]), message: 'unknown field' }))
    return [{ pointer: at, message: issue.message }]
  })
  // One message per field: a value that fails its format may also fail a refinement of it, which says nothing new.
  return errors.filter((error, index) => errors.findIndex((other) => other.pointer === error.pointer) === index)
}

/** Checks one issue item; its errors point under `base` (`/items/41`), with paths renamed by `rename` for CSV. */
export function checkIssueRow(value: unknown, base: string, rename: Rename = asIs): { input: IssueRowInput } | { errors: FieldError[] } {
  // The rule every request body meets (no NUL, no lone surrogate) applies to each row: no route schema saw this body.
  const unstorable = unstorableFields(value)
  if (unstorable.length > 0) return { errors: unstorable.map(({ path, message }) => ({ pointer: pointer(base, rename(path)), message })) }
  const parsed = batchItem.safeParse(value)
  return parsed.success ? { input: parsed.data } : { errors: issueErrors(parsed.error.issues, base, rename) }
}
