// Group commit for issue writes. Each single issue used to be its own statement and its own commit, and PostgreSQL spent
// ~1 ms of CPU on each; written together, the same rows cost it a fraction of that (the batch endpoint shows it). So
// while one write is on its way to the database, the writes that arrive meanwhile wait and then go as one statement
// (insertIssuedGroup). Nothing waits on a timer: an idle service writes at once, a busy one in groups as large as its
// concurrency. Each write keeps its own outcome: checks, Idempotency-Key and rows are per write, and a group the
// database refuses as a whole is written again one by one, so one bad write never fails the others.
import type { CredentialRow, Db } from '../db/schema.js'
import { insertIssued, insertIssuedGroup, type IssuedWrite } from './store.js'

/** Credentials per group, at most (a write is never split). */
const MAX_GROUP_CREDENTIALS = 1000
/** A write of this many credentials (a batch) is a group already: it goes at once, beside whatever group is being written. */
const ALONE_FROM = 100

type Outcome = CredentialRow[] | undefined

interface Pending {
  write: IssuedWrite
  resolve(outcome: Outcome): void
  reject(error: unknown): void
}

export interface IssueWriterStatistics {
  /** Writes asked for. */
  writes: number
  /** Statements that wrote a group of two or more requests' writes. */
  groups: number
  /** Writes that went in such a group. */
  groupedWrites: number
  /** Groups the database refused as a whole, written again one by one. */
  groupFailures: number
}

export class IssueWriter {
  private readonly queue: Pending[] = []
  private writing = false
  private readonly stats: IssueWriterStatistics = { writes: 0, groups: 0, groupedWrites: 0, groupFailures: 0 }

  constructor(private readonly db: Db) {}

  /** insertIssued's answer for `write`: its credential rows, or undefined when it wrote nothing. */
  write(write: IssuedWrite): Promise<Outcome> {
    this.stats.writes++
    if (write.credentials.length >= ALONE_FROM) return insertIssued(this.db, write)
    return new Promise((resolve, reject) => {
      this.queue.push({ write, resolve, reject })
      if (!this.writing) void this.drain()
    })
  }

  statistics(): IssueWriterStatistics {
    return { ...this.stats }
  }

  /** Writes what is queued, a group at a time, until nothing is left; one drain runs at a time. */
  private async drain(): Promise<void> {
    this.writing = true
    try {
      while (this.queue.length > 0) {
        const group = takeGroup(this.queue)
        if (group.length === 1) await settle(group[0]!, () => insertIssued(this.db, group[0]!.write))
        else await this.writeGroup(group)
      }
    } finally {
      this.writing = false
    }
  }

  private async writeGroup(group: Pending[]): Promise<void> {
    let outcomes: Outcome[]
    try {
      outcomes = await insertIssuedGroup(this.db, group.map((pending) => pending.write))
    } catch {
      // Whichever write the database refused, it refused the statement: each is tried alone for its own answer.
      this.stats.groupFailures++
      await Promise.all(group.map((pending) => settle(pending, () => insertIssued(this.db, pending.write))))
      return
    }
    this.stats.groups++
    this.stats.groupedWrites += group.length
    group.forEach((pending, index) => pending.resolve(outcomes[index]))
  }
}

async function settle(pending: Pending, run: () => Promise<Outcome>): Promise<void> {
  try {
    pending.resolve(await run())
  } catch (error) {
    pending.reject(error)
  }
}

/**
 * Takes from the front of `queue` the writes that may share a statement: no two with one Idempotency-Key or one
 * recipient, at most MAX_GROUP_CREDENTIALS credentials (the first write always). The rest keep their order.
 */
function takeGroup(queue: Pending[]): Pending[] {
  const group: Pending[] = []
  const rest: Pending[] = []
  const claims = new Set<string>()
  const recipients = new Set<string>()
  let credentials = 0
  for (const pending of queue) {
    const { write } = pending
    const claim = write.idempotency === undefined ? undefined : `${write.idempotency.scope}\u0000${write.idempotency.key}`
    const identities = write.recipients.map((r) => `${write.issuerId}\u0000${r.identityType}\u0000${r.identity}`)
    const fits = group.length === 0 || (
      credentials + write.credentials.length <= MAX_GROUP_CREDENTIALS &&
      (claim === undefined || !claims.has(claim)) && identities.every((identity) => !recipients.has(identity))
    )
    if (!fits) {
      rest.push(pending)
      continue
    }
    group.push(pending)
    credentials += write.credentials.length
    if (claim !== undefined) claims.add(claim)
    for (const identity of identities) recipients.add(identity)
  }
  queue.splice(0, queue.length, ...rest)
  return group
}

const writers = new WeakMap<Db, IssueWriter>()

/** The writer of a database handle: one per handle, so writes to one database are grouped only with each other. */
export function issueWriterOf(db: Db): IssueWriter {
  let writer = writers.get(db)
  if (writer === undefined) writers.set(db, writer = new IssueWriter(db))
  return writer
}
