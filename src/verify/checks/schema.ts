// The `schema` check: the official OB 3.0 JSON Schema for the credential's type, plus the type rules the 1EdTech validator
// applies to nested objects.
import { ob3SchemaErrors, type Ob3SchemaName } from '../../ob3/schema.js'
import { failed, passed, skipped, warning, type Check } from '../report.js'
import type { VcVersion } from './format.js'
import { OB3_CONTEXT, OB3_EXTENSIONS_CONTEXT, VC_V2_CONTEXT } from '../../crypto/contexts.js'

type Json = Record<string, unknown>

export function checkSchema(credential: Json, version: VcVersion): Check {
  const types = credential.type as unknown[]
  const name: Ob3SchemaName | undefined = types.includes('EndorsementCredential')
    ? 'EndorsementCredential'
    : types.includes('OpenBadgeCredential') || types.includes('AchievementCredential') ? 'AchievementCredential' : undefined
  if (name === undefined) return skipped('schema', 'Not an Open Badge, so no Open Badges schema applies')
  // The published schemas describe the VC 2.0 form; a VC 1.1 badge is checked with its envelope mapped onto it.
  const document = version === '1.1' ? asVc2(credential) : credential
  const problems = [
    ...ob3SchemaErrors(name, document).map((error) => `${error.pointer || '/'} ${error.message}`),
    ...typeRuleBreaches(credential)
  ]
  if (problems.length > 0) {
    const shown = [...new Set(problems)].slice(0, 5)
    return failed('schema', `The credential does not meet the official ${name} schema: ${shown.join('; ')}${problems.length > shown.length ? ' …' : ''}`)
  }
  if (version === '1.1') return warning('schema', `Meets the ${name} schema once its VC 1.1 dates and contexts are read as VC 2.0 ones`)
  return passed('schema', `Meets the official Open Badges 3.0 ${name} schema`)
}

function asVc2(credential: Json): Json {
  const { issuanceDate, expirationDate, ...rest } = credential
  const context = [VC_V2_CONTEXT, OB3_CONTEXT, ...(credential.credentialSchema === undefined ? [] : [OB3_EXTENSIONS_CONTEXT])]
  return {
    ...rest,
    '@context': context,
    ...(rest.validFrom === undefined && issuanceDate !== undefined && { validFrom: issuanceDate }),
    ...(rest.validUntil === undefined && expirationDate !== undefined && { validUntil: expirationDate })
  }
}

/** Where the 1EdTech validator insists on a type the schema leaves open: [path, required type]. */
const TYPE_RULES: [string[], string][] = [
  [['issuer'], 'Profile'],
  [['issuer', 'parentOrg'], 'Profile'],
  [['issuer', 'otherIdentifier'], 'IdentifierEntry'],
  [['credentialSubject'], 'AchievementSubject'],
  [['credentialSubject', 'source'], 'Profile'],
  [['credentialSubject', 'identifier'], 'IdentityObject'],
  [['credentialSubject', 'result'], 'Result'],
  [['credentialSubject', 'achievement'], 'Achievement'],
  [['credentialSubject', 'achievement', 'resultDescription'], 'ResultDescription'],
  [['evidence'], 'Evidence']
]

function typeRuleBreaches(credential: Json): string[] {
  if (!(credential.type as unknown[]).some((t) => t === 'OpenBadgeCredential' || t === 'AchievementCredential')) return []
  const breaches: string[] = []
  for (const [path, type] of TYPE_RULES) {
    for (const node of objectsAt(credential, path)) {
      const types = Array.isArray(node.type) ? node.type : [node.type]
      if (!types.includes(type)) breaches.push(`/${path.join('/')} must have type "${type}" (has ${JSON.stringify(node.type)})`)
    }
  }
  return breaches
}

/** Every object reached by following `path`, stepping into arrays along the way (runs on every verification: no copies). */
function objectsAt(root: Json, path: string[], depth = 0, found: Json[] = []): Json[] {
  const value = root[path[depth]!]
  for (const item of Array.isArray(value) ? value : [value]) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) continue
    if (depth === path.length - 1) found.push(item as Json)
    else objectsAt(item as Json, path, depth + 1, found)
  }
  return found
}
