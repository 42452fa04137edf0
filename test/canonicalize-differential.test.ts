// Template canonicalization is byte-identical to jsonld.js + rdf-canonize: 1EdTech's fixtures, the spec's test vectors,
// and half of the 10,000 generated credentials (canonicalize-generated.test.ts has the other half).
import { readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import { Canonizer } from '../src/crypto/canonicalize/index.js'
import { documentLoader } from '../src/crypto/document-loader.js'
import { compare, generatedCredentialsCanonizeAlike, library, OB, VC2, type Json } from './helpers/differential.js'

t.test('5,000 generated OB 3.0 credentials (seed 20260) canonize byte-identically, in families that share templates', async (t) => {
  t.ok(await generatedCredentialsCanonizeAlike(t, 20260, 175) >= 5_000, 'with canonicalize-generated.test.ts, 10,000 documents or more')
})

t.test('every 1EdTech validator fixture canonizes as the library does, or throws as it does', async (t) => {
  const canonizer = new Canonizer()
  const directory = new URL('../../shared/ob3/examples/validator-ob30/', import.meta.url)
  const files = readdirSync(directory).filter((file) => file.endsWith('.json'))
  t.ok(files.length > 20)
  for (const file of files) {
    const document = JSON.parse(readFileSync(new URL(file, directory), 'utf8')) as Json
    const { proof, ...unsigned } = document
    for (const candidate of [document, unsigned, proof === undefined ? unsigned : { '@context': document['@context'], ...proof }]) {
      // Twice: first sight builds the template, the second reads it.
      for (let i = 0; i < 2; i++) t.ok((await compare(canonizer, candidate, true)).same, `${file} #${i}`)
    }
  }
})

t.test('the spec test vectors come out of the Implementation Guide example', async (t) => {
  const canonizer = new Canonizer()
  const read = (name: string) => readFileSync(new URL(`../../shared/ob3/test-vectors/${name}`, import.meta.url), 'utf8')
  const options = { documentLoader, base: null, safe: true }
  // Reconstructed from ob_v3p0/impl/linked-data-proof-ob.html: the quads fix every term but the key order.
  const context = [VC2, OB(3)]
  const document = {
    '@context': context,
    id: 'http://example.com/credentials/3527',
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: { id: 'https://example.edu/issuers/565049', type: ['Profile'], name: 'Example Corp', url: 'https://www.imsglobal.org' },
    validFrom: '2010-01-01T00:00:00Z',
    name: 'Teamwork Badge',
    credentialSubject: {
      id: 'did:example:ebfeb1f712ebc6f1c276e12ec21',
      type: ['AchievementSubject'],
      achievement: {
        id: 'https://example.com/achievements/21st-century-skills/teamwork',
        type: ['Achievement'],
        criteria: { narrative: 'Team members are nominated for this badge by their peers and recognized upon review by Example Corp management.' },
        description: 'This badge recognizes the development of the capacity to collaborate within a group environment.',
        name: 'Teamwork'
      }
    }
  }
  const proof = {
    '@context': context,
    type: 'DataIntegrityProof',
    cryptosuite: 'eddsa-rdfc-2022',
    created: '2010-01-01T19:23:24Z',
    verificationMethod: 'https://example.edu/issuers/565049#z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi',
    proofPurpose: 'assertionMethod'
  }
  for (const [input, vector] of [[document, 'obv3p0-document-canon.txt'], [proof, 'obv3p0-proof-canon.txt']] as const) {
    const expected = read(vector)
    t.equal(await library(input, options), expected, `the library reproduces ${vector}`)
    t.equal(await canonizer.canonizeRdfc(input, options), expected, `first sight reproduces ${vector}`)
    t.equal(await canonizer.canonizeRdfc(structuredClone(input), options), expected, `a cache hit reproduces ${vector}`)
  }
  t.equal(canonizer.statistics().hits, 2)
})
