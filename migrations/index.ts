// The list of migrations, in order. Imported explicitly (not globbed) so the same list works under tsx, tap and compiled JS.
import type { Migration } from 'kysely'
import * as m0001 from './0001_initial.js'
import * as m0002 from './0002_issuing.js'
import * as m0003 from './0003_status_lists.js'
import * as m0004 from './0004_wallets.js'
import * as m0005 from './0005_jobs.js'
import * as m0006 from './0006_events_webhooks.js'
import * as m0007 from './0007_webhook_attempts.js'
import * as m0008 from './0008_pathways.js'
import * as m0009 from './0009_endorsements.js'
import * as m0010 from './0010_submissions.js'
import * as m0011 from './0011_idempotency_expiry.js'

export const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_issuing': m0002,
  '0003_status_lists': m0003,
  '0004_wallets': m0004,
  '0005_jobs': m0005,
  '0006_events_webhooks': m0006,
  '0007_webhook_attempts': m0007,
  '0008_pathways': m0008,
  '0009_endorsements': m0009,
  '0010_submissions': m0010,
  '0011_idempotency_expiry': m0011
}
