// The official 1EdTech OB 3.0 JSON Schemas from ../shared/ob3, compiled with Ajv (draft 2019-09) for tests.
import { readFileSync } from 'node:fs'
import { Ajv2019 } from 'ajv/dist/2019.js'
import addFormats from 'ajv-formats'

const SCHEMAS = new URL('../../../shared/ob3/schemas/json-ld-published/', import.meta.url)

export function officialSchemaValidator(name: 'profile' | 'achievementcredential' | 'endorsementcredential') {
  const schema = JSON.parse(readFileSync(new URL(`ob_v3p0_${name}_schema.json`, SCHEMAS), 'utf8'))
  const ajv = new Ajv2019({ allErrors: true, strict: false })
  addFormats.default(ajv)
  const validate = ajv.compile(schema)
  return (document: unknown): string[] =>
    validate(document) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`)
}
