// The other half of the 10,000 generated credentials of canonicalize-differential.test.ts: a file of its own, so tap runs
// the halves side by side.
import t from 'tap'
import { generatedCredentialsCanonizeAlike } from './helpers/differential.js'

t.test('5,000 generated OB 3.0 credentials (seed 20261) canonize byte-identically, in families that share templates', async (t) => {
  t.ok(await generatedCredentialsCanonizeAlike(t, 20261, 175) >= 5_000, 'with canonicalize-differential.test.ts, 10,000 documents or more')
})
