// The `format` check: is this a W3C verifiable credential whose JSON-LD contexts Lanyard knows?
import { BUNDLED_CONTEXT_URLS } from '../../crypto/document-loader.js'
import { isEndorsementJwtContext, OB3_CONTEXT, VC_V1_CONTEXT, VC_V2_CONTEXT } from '../../crypto/contexts.js'
import { failed, passed, warning, type Check } from '../report.js'

const OB3_CONTEXTS = new Set(BUNDLED_CONTEXT_URLS.filter((url) => url.startsWith('https://purl.imsglobal.org/spec/ob/v3p0/context')))
const BUNDLED = new Set(BUNDLED_CONTEXT_URLS)
const OB_TYPES = ['OpenBadgeCredential', 'AchievementCredential', 'EndorsementCredential']

export type VcVersion = '1.1' | '2.0'

export interface FormatFindings {
  check: Check
  /** Undefined when the document is not a credential the other checks can read. */
  version?: VcVersion
  isOpenBadge: boolean
}

export function checkFormat(credential: Record<string, unknown>): FormatFindings {
  const context = credential['@context']
  if (!Array.isArray(context) || context.length === 0) {
    return { check: failed('format', 'The credential has no @context list, so it is not a W3C verifiable credential'), isOpenBadge: false }
  }
  const version: VcVersion | undefined = context[0] === VC_V2_CONTEXT ? '2.0' : context[0] === VC_V1_CONTEXT ? '1.1' : undefined
  if (version === undefined) {
    return { check: failed('format', `The first @context must be ${VC_V2_CONTEXT} (or ${VC_V1_CONTEXT}); it is ${JSON.stringify(context[0])}`), isOpenBadge: false }
  }
  // The one embedded context accepted is the definition of endorsementJwt that the published OB 3.0 context lacked.
  const embedded = context.filter((entry) => typeof entry !== 'string' && !isEndorsementJwtContext(entry))
  if (embedded.length > 0) return { check: failed('format', 'The credential embeds a JSON-LD context object; Lanyard accepts only published contexts it ships with'), version, isOpenBadge: false }
  const unknown = context.filter((url) => typeof url === 'string' && !BUNDLED.has(url))
  if (unknown.length > 0) {
    return { check: failed('format', `Unknown JSON-LD context ${unknown.join(', ')}: Lanyard verifies only with the contexts it ships with, and never fetches one`), version, isOpenBadge: false }
  }
  const types = credential.type
  if (!Array.isArray(types) || !types.includes('VerifiableCredential')) {
    return { check: failed('format', 'The credential\'s type must be a list that includes "VerifiableCredential"'), version, isOpenBadge: false }
  }
  const isOpenBadge = types.some((type) => OB_TYPES.includes(type as string))
  const obContext = context.find((url) => OB3_CONTEXTS.has(url as string)) as string | undefined
  if (isOpenBadge && obContext === undefined) {
    return { check: failed('format', 'An Open Badge must include the Open Badges 3.0 JSON-LD context'), version, isOpenBadge }
  }
  const notes: string[] = []
  if (version === '1.1') notes.push('it uses the older VC Data Model 1.1')
  if (obContext !== undefined && obContext !== OB3_CONTEXT) notes.push(`it uses the older OB context ${obContext.split('/').pop()} (current: ${OB3_CONTEXT.split('/').pop()})`)
  const what = isOpenBadge ? 'an Open Badges 3.0 credential' : 'a W3C verifiable credential'
  if (notes.length > 0) return { check: warning('format', `This is ${what}, but ${notes.join(' and ')}`), version, isOpenBadge }
  return { check: passed('format', `This is ${what} (VC Data Model ${version})`), version, isOpenBadge }
}
