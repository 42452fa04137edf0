// Test helpers for issuing: an achievement to issue, and a DID resolver for the independent verifier that goes through the app.
import type { FastifyInstance } from 'fastify'
import { admin } from './app.js'
import { didKeyDocument, type ResolveDid } from './independent-verifier.js'

/** The host of PUBLIC_URL in test apps. */
export const HOST = 'badges.example.edu'

/** Resolves our did:web DIDs through the app's public DID document route, and did:key from the DID itself. */
export function resolverFor(app: FastifyInstance, didWebHost = HOST): ResolveDid {
  return async (did) => {
    if (did.startsWith('did:key:')) return didKeyDocument(did)
    const [, , host, ...path] = did.split(':')
    if (host !== didWebHost) throw new Error(`unexpected did:web host ${host}`)
    const res = await app.inject({ method: 'GET', url: `/${path.join('/')}/did.json` })
    if (res.statusCode !== 200) throw new Error(`did:web resolution answered ${res.statusCode}`)
    return res.json()
  }
}

export async function createAchievement(app: FastifyInstance, issuerId: string, body: Record<string, unknown> = {}) {
  const res = await app.inject({
    method: 'POST', url: `/v1/issuers/${issuerId}/achievements`, headers: admin,
    payload: {
      name: 'Safe Welding', description: 'Welds a butt joint to code.', criteria: { narrative: 'Pass the practical exam.' },
      achievementType: 'Certificate', tags: ['welding'],
      alignments: [{ targetName: 'Welding', targetUrl: 'https://skills.example.org/welding', targetType: 'CFItem' }],
      ...body
    }
  })
  if (res.statusCode !== 201) throw new Error(`creating an achievement answered ${res.statusCode}: ${res.body}`)
  return res.json()
}
