// The OB 3.0 JSON Schemas Lanyard ships are the official ones, unchanged (compared with the reference copies in ../shared).
import { readFileSync } from 'node:fs'
import t from 'tap'
import { ob3SchemaErrors } from '../src/ob3/schema.js'

const SHIPPED = new URL('../src/ob3/schemas/', import.meta.url)
const REFERENCE = new URL('../../shared/ob3/schemas/json-ld-published/', import.meta.url)

for (const name of ['ob_v3p0_achievementcredential_schema.json', 'ob_v3p0_endorsementcredential_schema.json']) {
  t.test(`${name} is the official schema`, async (t) => {
    t.same(JSON.parse(readFileSync(new URL(name, SHIPPED), 'utf8')), JSON.parse(readFileSync(new URL(name, REFERENCE), 'utf8')))
  })
}

t.test('each schema is applied to its own type', async (t) => {
  const endorsement = JSON.parse(readFileSync(new URL('../../shared/ob3/examples/validator-ob30/endorsement-valid.json', import.meta.url), 'utf8'))
  t.same(ob3SchemaErrors('EndorsementCredential', endorsement), [])
  t.not(ob3SchemaErrors('AchievementCredential', endorsement).length, 0, 'an endorsement is not an AchievementCredential')
})
