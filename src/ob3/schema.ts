// Validates documents against the official OB 3.0 AchievementCredential JSON Schema, shipped with Lanyard (never fetched).
import { Ajv2019, type ValidateFunction } from 'ajv/dist/2019.js'
import addFormats from 'ajv-formats'
import achievementCredentialSchema from './schemas/ob_v3p0_achievementcredential_schema.json' with { type: 'json' }
import type { FieldError } from '../http/errors.js'

export const ACHIEVEMENT_CREDENTIAL_SCHEMA_ID = achievementCredentialSchema.$id

let compiled: ValidateFunction | undefined

/** Compiling takes about half a second, so it happens once, on first use; the compiled function is pure and shareable. */
function validator(): ValidateFunction {
  if (compiled === undefined) {
    const ajv = new Ajv2019({ allErrors: true, strict: false })
    addFormats.default(ajv)
    compiled = ajv.compile(achievementCredentialSchema)
  }
  return compiled
}

/** The schema's complaints about `document`, as field errors with JSON Pointers into it; empty when it is valid. */
export function achievementCredentialErrors(document: unknown): FieldError[] {
  const validate = validator()
  if (validate(document)) return []
  // Ajv sets errors whenever validation fails, and every error of this schema's keywords has a message.
  return validate.errors!.map((error) => ({ pointer: error.instancePath, message: error.message! }))
}
