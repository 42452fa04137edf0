// Finds the master key: LANYARD_MASTER_KEY, else the one generated into DATA_DIR on first start.
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Config } from '../config.js'

export interface MasterKeySource {
  key: Buffer
  /** Set when the key was generated just now: the caller warns about it. */
  generatedAt?: string
}

export function resolveMasterKey(config: Config): MasterKeySource {
  if (config.LANYARD_MASTER_KEY !== undefined) return { key: Buffer.from(config.LANYARD_MASTER_KEY, 'base64') }
  const file = path.resolve(config.DATA_DIR, 'master.key')
  let existing: string | undefined
  try {
    existing = readFileSync(file, 'utf8').trim()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  if (existing !== undefined) {
    const key = Buffer.from(existing, 'base64')
    if (key.length !== 32) throw new Error(`${file} does not hold base64 of 32 bytes; restore it or set LANYARD_MASTER_KEY`)
    return { key }
  }
  const key = randomBytes(32)
  mkdirSync(path.dirname(file), { recursive: true })
  // 'wx' refuses to overwrite a key another process wrote in the meantime.
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' })
  return { key, generatedAt: file }
}
