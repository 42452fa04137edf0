// The `validity` check: is now inside the credential's validity period (validFrom/validUntil; issuanceDate/expirationDate in VC 1.1)?
import { failed, passed, type Check } from '../report.js'

/** Clocks differ: a credential issued a moment ago by a server a little ahead of ours is not "not yet valid". */
export const CLOCK_SKEW_MS = 60_000

type Json = Record<string, unknown>

export function validityPeriod(credential: Json): { from: unknown; until: unknown } {
  return {
    from: credential.validFrom ?? credential.issuanceDate,
    until: credential.validUntil ?? credential.expirationDate
  }
}

export function checkValidity(credential: Json, now: Date): Check {
  const { from, until } = validityPeriod(credential)
  const start = parseDate(from)
  const end = parseDate(until)
  if (from !== undefined && start === undefined) return failed('validity', `The start date ${JSON.stringify(from)} is not a date`)
  if (until !== undefined && end === undefined) return failed('validity', `The end date ${JSON.stringify(until)} is not a date`)
  if (start !== undefined && start.getTime() > now.getTime() + CLOCK_SKEW_MS) return failed('validity', `Not valid yet: valid from ${from as string}`)
  if (end !== undefined && end.getTime() < now.getTime()) return failed('validity', `Expired on ${until as string}`)
  if (start === undefined) return failed('validity', 'The credential has no start date (validFrom)')
  return passed('validity', end === undefined ? `Valid since ${from as string}, with no expiry` : `Valid from ${from as string} until ${until as string}`)
}

/** XML Schema dateTime as VCs use it; a date without a time zone is refused rather than guessed. */
function parseDate(value: unknown): Date | undefined {
  if (typeof value !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value)) return undefined
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? undefined : date
}
