// The JSON-LD safe-mode check of a VC-JWT's credential (src/verify/data-integrity.ts) goes through the shape cache and
// asks jsonld.js only when the cache refuses: its answer must be jsonld.js's own safe-mode expansion's, for valid
// documents, rejected ones, and documents of a shape the cache has seen with other values.
import t from 'tap'
import { expansionProblem, inProcessProofWork } from '../src/verify/data-integrity.js'
import { generatedCredentials } from './helpers/differential.js'

t.test('generated OB 3.0 credentials (seed 20264): the same safe-mode answer as jsonld.js expanding them', async (t) => {
  let documents = 0
  let refused = 0
  for (const document of generatedCredentials(20264, 24)) {
    documents++
    const expected = await expansionProblem(document)
    if (expected !== undefined) refused++
    const answer = await inProcessProofWork.safeModeProblem(document)
    if (answer !== expected) {
      t.fail(`document ${documents}: ${String(answer)} where jsonld.js says ${String(expected)}`, { document })
      return
    }
  }
  t.comment(`${documents} documents, ${refused} refused by jsonld.js`)
  t.ok(documents >= 500)
  t.ok(refused > 0 && refused < documents, 'both answers are compared')
})

t.test('a document jsonld.js refuses is refused with jsonld.js\'s words', async (t) => {
  const document = { '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiableCredential'], issuer: 'did:example:1', undefinedTerm: 'x', credentialSubject: { id: 'did:example:2' } }
  const answer = await inProcessProofWork.safeModeProblem(document)
  t.equal(answer, await expansionProblem(document))
  t.match(answer, /undefinedTerm/)
})
