// Dates as Lanyard writes them into credentials and proofs: XML Schema date-time stamps in UTC, to the whole second.
/** `date` without its milliseconds: what a credential can state, so rows and documents hold the same instant. */
export function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000)
}

/** `2026-01-31T12:00:00Z`: whole seconds, as most verifiers, the suites' `created` and JWT NumericDates use. */
export function w3cDate(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`
}
