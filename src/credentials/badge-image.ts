// A credential's badge image with the credential baked in (OB 3.0 §5): the achievement's own PNG or SVG, or, without one
// (or with one that cannot be baked), a generated badge. What is baked is the credential exactly as signed: the JSON text, or the VC-JWT.
import { DOMImplementation, XMLSerializer } from '@xmldom/xmldom'
import type { FastifyBaseLogger } from 'fastify'
import type { ServiceContext } from '../context.js'
import { findAchievement, findAchievementImage } from '../achievements/store.js'
import { bakePng, bakeSvg, generatedBadgePng, generatedBadgeSvg } from '../baking/bake.js'
import { headerChunk, pngSize, readPngChunks } from '../baking/png-chunks.js'
import type { CredentialRow } from '../db/schema.js'
import { AppError } from '../http/errors.js'
import { summaryOf } from '../verify/pipeline.js'
import { credentialDocument } from './view.js'

export type BadgeImageKind = 'png' | 'svg'

export interface BadgeImage {
  mediaType: 'image/png' | 'image/svg+xml'
  body: Buffer
}

const SVG_NAMESPACE = 'http://www.w3.org/2000/svg'

interface StoredImage {
  mediaType: string
  bytes: Buffer
}

/** The achievement's stored image; undefined when it has none or only an https URL (never fetched to bake: it is not ours). */
async function storedImage(ctx: ServiceContext, achievementId: string | null): Promise<StoredImage | undefined> {
  const row = achievementId === null ? undefined : await findAchievementImage(ctx.db, achievementId)
  // PGlite reads bytea as a Uint8Array, pg as a Buffer.
  return row?.image_data ? { mediaType: row.image_media_type!, bytes: Buffer.from(row.image_data) } : undefined
}

/** Whether a badge.png exists for this credential (only when its achievement has a stored PNG): read without the image bytes. */
export async function hasPngBadge(ctx: ServiceContext, row: Pick<CredentialRow, 'achievement_id'>): Promise<boolean> {
  const achievement = row.achievement_id === null ? undefined : await findAchievement(ctx.db, row.achievement_id)
  return achievement?.image_media_type === 'image/png'
}

/** Where a badge whose stored image cannot be baked is reported. */
export type BadgeLog = Pick<FastifyBaseLogger, 'warn'>

export async function badgeImage(ctx: ServiceContext, row: CredentialRow, kind: BadgeImageKind, log: BadgeLog): Promise<BadgeImage> {
  const image = await storedImage(ctx, row.achievement_id)
  const text = row.signed
  if (kind === 'png') {
    if (image?.mediaType !== 'image/png') {
      throw new AppError('no-png-badge', 404, `this badge has no PNG image; its baked SVG is at ${ctx.publicUrl}/credentials/${row.id}/badge.svg`)
    }
    return { mediaType: 'image/png', body: bakedOrGenerated(log, row, () => bakePng(image.bytes, text), () => bakePng(generatedBadgePng(), text)) }
  }
  const credential = { kind: row.format === 'vc-jwt' ? 'jwt' as const : 'json' as const, text }
  const generated = () => bakeSvg(defaultBadge(row), credential)
  const source = (stored: StoredImage) => stored.mediaType === 'image/svg+xml' ? stored.bytes : svgShowingPng(stored.bytes)
  const svg = image === undefined ? generated() : bakedOrGenerated(log, row, () => bakeSvg(source(image), credential), generated)
  return { mediaType: 'image/svg+xml', body: Buffer.from(svg) }
}

/**
 * Uploads are checked in full, but a row stored before they were may hold an image that cannot be baked. Whatever
 * goes wrong with the stored image, the credential still leaves baked, into the generated badge, and the log says why.
 * The generated badge is Lanyard's own drawing: a failure baking it is a fault of ours, and propagates.
 */
function bakedOrGenerated<T>(log: BadgeLog, row: CredentialRow, bake: () => T, generated: () => T): T {
  try {
    return bake()
  } catch (error) {
    log.warn({ err: error, achievementId: row.achievement_id, credentialId: row.id }, 'the achievement\'s stored image cannot be baked; baking the generated badge instead')
    return generated()
  }
}

/** The generated badge names the achievement; a VC-API credential (any W3C credential) may have none, or several subjects. */
function defaultBadge(row: CredentialRow): string {
  const document = credentialDocument(row)
  const { achievement, issuer } = summaryOf(document)
  const name = achievement?.name ?? (typeof document.name === 'string' ? document.name : 'Verifiable Credential')
  return generatedBadgeSvg({ name, ...(issuer.name !== null && { issuerName: issuer.name }) })
}

/** An SVG that shows a PNG at its own size, so a PNG-only badge also has an SVG form to bake into. */
function svgShowingPng(png: Buffer): string {
  // Walked and checked as baking a PNG would: a PNG that cannot be baked is not wrapped either.
  const { width, height } = pngSize(headerChunk(readPngChunks(png)))
  const document = new DOMImplementation().createDocument(SVG_NAMESPACE, 'svg', null)
  const svg = document.documentElement!
  svg.setAttribute('width', String(width))
  svg.setAttribute('height', String(height))
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`)
  const image = document.createElementNS(SVG_NAMESPACE, 'image')
  image.setAttribute('width', String(width))
  image.setAttribute('height', String(height))
  image.setAttribute('href', `data:image/png;base64,${png.toString('base64')}`)
  svg.appendChild(image)
  return new XMLSerializer().serializeToString(document)
}
