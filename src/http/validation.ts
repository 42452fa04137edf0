// Request validation: one rule every route shares, before its own zod schema — every key and string is text PostgreSQL can
// store. It cannot hold U+0000 in text or jsonb, and its jsonb refuses a lone UTF-16 surrogate (JSON's "\ud800"), which
// text would silently turn into U+FFFD. No badge field has a use for either: refusing them here, naming the field, means no
// route can reach the database with one and answer 500.
import type { FastifySchemaCompiler } from 'fastify'
import { validatorCompiler } from 'fastify-type-provider-zod'
import { z } from 'zod'

const NUL = '\u0000'
/** A surrogate without its other half. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
/** A request part may name many fields; a problem names enough of them to act on. */
const MAX_REPORTED = 20

/** Why `text` cannot be stored, or undefined when it can. */
export function unstorable(text: string): string | undefined {
  if (text.includes(NUL)) return 'contains a NUL character (U+0000), which is not accepted'
  if (LONE_SURROGATE.test(text)) return 'contains a lone UTF-16 surrogate (not valid Unicode), which is not accepted'
  return undefined
}

type Path = (string | number)[]
/** A path as a chain of links to the parent: copying whole paths at every step would be quadratic in the depth. */
interface Step { parent: Step | undefined; key: string | number }

function pathOf(step: Step | undefined): Path {
  const path: Path = []
  for (let at = step; at !== undefined; at = at.parent) path.push(at.key)
  return path.reverse()
}

/** Every key and string in `value`, depth first. Iterative: a JSON body can nest deeper than the call stack. */
function* texts(value: unknown): Generator<{ text: string; step: Step | undefined }> {
  const pending: [unknown, Step | undefined][] = [[value, undefined]]
  while (pending.length > 0) {
    const [next, step] = pending.pop()!
    if (typeof next === 'string') {
      yield { text: next, step }
    } else if (typeof next === 'object' && next !== null) {
      const entries = Object.entries(next)
      // Pushed in reverse, so fields are reported in the order the caller wrote them.
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, item] = entries[i]!
        const child: Step = { parent: step, key: Array.isArray(next) ? i : key }
        pending.push([item, child])
        if (!Array.isArray(next)) pending.push([key, child])
      }
    }
  }
}

/** The fields whose key or value cannot be stored, and why; at most MAX_REPORTED. */
export function unstorableFields(value: unknown): { path: Path; message: string }[] {
  const found: { path: Path; message: string }[] = []
  for (const { text, step } of texts(value)) {
    const message = unstorable(text)
    if (message !== undefined && found.push({ path: pathOf(step), message }) === MAX_REPORTED) break
  }
  return found
}

// The refusal goes through the zod validator too, so it reaches the error handler as every other validation error does.
const refuseUnstorable = validatorCompiler({
  schema: z.unknown().superRefine((value, ctx) => {
    for (const { path, message } of unstorableFields(value)) ctx.addIssue({ code: 'custom', path, message })
  }),
  method: 'any', url: 'any', httpPart: 'body'
})

/** The zod validator of each route, behind the rule. */
export const requestValidatorCompiler: FastifySchemaCompiler<z.ZodType> = (route) => {
  const validate = validatorCompiler(route)
  return (data) => unstorableFields(data).length > 0 ? refuseUnstorable(data) : validate(data)
}
