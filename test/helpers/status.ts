// Reading a credential's revocation bit from its published status list, as any verifier would.
import { gunzipSync } from 'node:zlib'
import type { FastifyInstance } from 'fastify'
import { resolverFor } from './credentials.js'
import { verifyDataIntegrity, type ResolveDid } from './independent-verifier.js'

/** Reads a credential's revocation bit the way any verifier would: fetch the list, check its proof, gunzip, read MSB-first. */
export async function revocationBit(app: FastifyInstance, credential: Record<string, any>, resolve: ResolveDid = resolverFor(app)): Promise<boolean> {
  const status = credential.credentialStatus
  const url = new URL(status.statusListCredential)
  const res = await app.inject({ method: 'GET', url: url.pathname })
  if (res.statusCode !== 200) throw new Error(`status list answered ${res.statusCode}`)
  const list = res.json()
  const verification = await verifyDataIntegrity(list, resolve)
  if (!verification.verified) throw new Error(`status list does not verify: ${verification.error}`)
  if (list.issuer !== (credential.issuer.id ?? credential.issuer)) throw new Error('status list signed by someone else')
  const { encodedList, statusPurpose } = list.credentialSubject
  if (statusPurpose !== 'revocation' || encodedList[0] !== 'u') throw new Error('not a revocation list in multibase base64url')
  const bits = gunzipSync(Buffer.from(encodedList.slice(1), 'base64url'))
  const index = Number(status.statusListIndex)
  return (bits[index >> 3]! & (0x80 >> (index & 7))) !== 0
}
