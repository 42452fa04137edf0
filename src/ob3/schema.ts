// Validates documents against the official OB 3.0 JSON Schemas (AchievementCredential, EndorsementCredential), shipped
// with Lanyard (never fetched).
import { Ajv2019, type ValidateFunction } from 'ajv/dist/2019.js'
import addFormats from 'ajv-formats'
import achievementCredentialSchema from './schemas/ob_v3p0_achievementcredential_schema.json' with { type: 'json' }
import endorsementCredentialSchema from './schemas/ob_v3p0_endorsementcredential_schema.json' with { type: 'json' }
import type { FieldError } from '../http/errors.js'

export const ACHIEVEMENT_CREDENTIAL_SCHEMA_ID = achievementCredentialSchema.$id
export const ENDORSEMENT_CREDENTIAL_SCHEMA_ID = endorsementCredentialSchema.$id

export type Ob3SchemaName = 'AchievementCredential' | 'EndorsementCredential'

const SCHEMAS: Record<Ob3SchemaName, object> = {
  AchievementCredential: achievementCredentialSchema,
  EndorsementCredential: endorsementCredentialSchema
}

const compiled = new Map<Ob3SchemaName, ValidateFunction>()

/** Compiling takes about half a second, so it happens once per schema, on first use; the compiled function is pure and shareable. */
function validator(name: Ob3SchemaName): ValidateFunction {
  let validate = compiled.get(name)
  if (validate === undefined) {
    // One Ajv per schema: both schemas define the same $defs names under different $ids.
    const ajv = new Ajv2019({ allErrors: true, strict: false })
    addFormats.default(ajv)
    validate = ajv.compile(SCHEMAS[name])
    compiled.set(name, validate)
  }
  return validate
}

/** The schema's complaints about `document`, as field errors with JSON Pointers into it; empty when it is valid. */
export function ob3SchemaErrors(name: Ob3SchemaName, document: unknown): FieldError[] {
  const validate = validator(name)
  if (validate(document)) return []
  // Ajv sets errors whenever validation fails, and every error of these schemas' keywords has a message.
  return validate.errors!.map((error) => ({ pointer: error.instancePath, message: error.message! }))
}

export function achievementCredentialErrors(document: unknown): FieldError[] {
  return ob3SchemaErrors('AchievementCredential', document)
}
