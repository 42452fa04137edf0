// How a JSON-LD refusal is put in words, for signing and verifying alike: the JSON-LD error code and what is at fault.
import t from 'tap'
import { jsonLdBreach } from '../src/crypto/jsonld-errors.js'
import { jsonLdMessage } from '../src/verify/data-integrity.js'

/** An error shaped as jsonld.js throws them (JsonLdError: name, message, details). */
function jsonLdError(name: string, details: Record<string, unknown>): Error {
  return Object.assign(new Error('Invalid JSON-LD syntax.'), { name, details })
}

t.test('the breach names the JSON-LD error code, and the term or the value at fault', async (t) => {
  t.equal(jsonLdBreach(jsonLdError('jsonld.SyntaxError', { code: 'protected term redefinition', term: 'name', context: {} })), 'protected term redefinition "name"')
  t.equal(jsonLdBreach(jsonLdError('jsonld.SyntaxError', { code: 'invalid type value', value: [5] })), 'invalid type value [5]')
  t.equal(jsonLdBreach(jsonLdError('jsonld.SyntaxError', { code: 'invalid @id value', value: null })), 'invalid @id value null')
  t.equal(jsonLdBreach(jsonLdError('jsonld.UnsupportedVersion', { code: 'invalid @version value', context: {} })), 'invalid @version value')
})

t.test('a long value is cut after 100 characters', async (t) => {
  const breach = jsonLdBreach(jsonLdError('jsonld.SyntaxError', { code: 'invalid @id value', value: { note: 'x'.repeat(500) } }))
  t.equal(breach, `invalid @id value {"note":"${'x'.repeat(91)}…`)
})

t.test('errors that are not a JSON-LD rule broken have no breach', async (t) => {
  t.equal(jsonLdBreach(new TypeError('not jsonld')), undefined)
  t.equal(jsonLdBreach(Object.assign(new Error('x'), { details: { code: 'invalid type value' } })), undefined, 'a details.code alone is not enough')
  t.equal(jsonLdBreach(jsonLdError('jsonld.CanonizeError', {})), undefined, 'a jsonld.js error without a JSON-LD error code')
})

t.test('verification words a breach with its code, and any other jsonld.js error by its message', async (t) => {
  t.equal(jsonLdMessage({ name: 'jsonld.SyntaxError', message: 'Invalid JSON-LD syntax; tried to redefine a protected term.', breach: 'protected term redefinition "id"' }),
    'protected term redefinition "id" (Invalid JSON-LD syntax; tried to redefine a protected term.)')
  t.equal(jsonLdMessage({ name: 'jsonld.CanonizeError', message: 'Unknown canonicalization algorithm.' }), 'Unknown canonicalization algorithm.')
})
