// The events Lanyard reports (the contract's list), and the shape of one on its way into the outbox.

/** Every type a webhook may subscribe to; those of capabilities still to come are accepted now and emitted when they exist. */
export const EVENT_TYPES = [
  'credential.issued', 'credential.revoked', 'job.completed', 'job.failed', 'claim.accepted', 'pathway.completed',
  'endorsement.issued', 'submission.created', 'submission.approved', 'submission.rejected', 'submission.revision_requested',
  // Beyond the contract's list: a learner's new version of the evidence after a revision was asked for.
  'submission.revised'
] as const

export type EventType = (typeof EVENT_TYPES)[number]

export interface NewEvent {
  type: EventType
  /** Whose event it is: only this issuer's webhooks (and the admin's) receive it. Null for events of no one issuer. */
  issuerId: string | null
  /** What a receiver gets as `data`: ids and URLs it can act on, never a secret. */
  data: Record<string, unknown>
}
