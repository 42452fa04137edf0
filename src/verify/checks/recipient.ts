// The `recipient` check (asked for by the caller): was this credential issued to the person in front of the verifier?
import { timingSafeEqual } from 'node:crypto'
import { identityHash } from '../../recipients/identity.js'
import { failed, passed, type Check } from '../report.js'

export interface ExpectedRecipient {
  email?: string
  /** A DID or URL the subject should be identified by. */
  id?: string
}

type Json = Record<string, unknown>

export function checkRecipient(credential: Json, expected: ExpectedRecipient): Check {
  const subjects = (Array.isArray(credential.credentialSubject) ? credential.credentialSubject : [credential.credentialSubject])
    .filter((subject): subject is Json => typeof subject === 'object' && subject !== null)
  if (expected.id !== undefined) {
    return subjects.some((subject) => subject.id === expected.id)
      ? passed('recipient', `Issued to ${expected.id}`)
      : failed('recipient', `Not issued to ${expected.id}`)
  }
  const email = expected.email!.trim()
  const identifiers = subjects
    .flatMap((subject) => (Array.isArray(subject.identifier) ? subject.identifier : subject.identifier === undefined ? [] : [subject.identifier]))
    .filter((identifier): identifier is Json => typeof identifier === 'object' && identifier !== null && identifier.identityType === 'emailAddress')
  if (identifiers.length === 0) return failed('recipient', 'The credential does not name its recipient by email address, so the email cannot be checked')
  return identifiers.some((identifier) => matches(identifier, email))
    ? passed('recipient', `Issued to ${email}`)
    : failed('recipient', `Not issued to ${email}`)
}

/** Hashed identities are compared for the address as given and lower-cased (issuers normalise differently). */
function matches(identifier: Json, email: string): boolean {
  const candidates = [...new Set([email, email.toLowerCase()])]
  if (identifier.hashed === true) {
    if (typeof identifier.identityHash !== 'string') return false
    const salt = typeof identifier.salt === 'string' ? identifier.salt : ''
    return candidates.some((candidate) => sameText(identityHash(candidate, salt), identifier.identityHash as string))
  }
  return typeof identifier.identityHash === 'string' && identifier.identityHash.toLowerCase() === email.toLowerCase()
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a.toLowerCase())
  const right = Buffer.from(b.toLowerCase())
  return left.length === right.length && timingSafeEqual(left, right)
}
