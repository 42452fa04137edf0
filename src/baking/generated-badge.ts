// Draws the default badge image for an achievement without one: a medal on two ribbon tails, its name and issuer.
//
// Built as a DOM and serialized, so a name such as "<script>" or "A & B" is text, never markup.
import { DOMImplementation, XMLSerializer, type Element } from '@xmldom/xmldom'
import { NOT_XML_CHARACTER, SVG_NAMESPACE } from './svg-document.js'

export interface GeneratedBadgeOptions {
  name: string
  issuerName?: string
}

/** Lines break by character count; the font then shrinks until the widest line fits inside the medal's ring. */
const NAME = { perLine: 15, lines: 3, fontSize: 25 }
const ISSUER = { characters: 26, fontSize: 15 }
const TEXT_WIDTH = 228
const CENTER = { x: 200, y: 170 }

/** The drawing without its text, shared with the PNG form (generated-badge-png.ts). */
export const MEDAL = {
  size: 400,
  center: CENTER,
  radius: 150,
  ring: { radius: 134, width: 3, opacity: 0.5 },
  /** From the medal's top left to its bottom right. */
  gradient: ['#6366f1', '#0e7490'],
  ribbons: [
    { fill: '#3730a3', points: [[128, 250], [188, 300], [150, 392], [128, 364], [96, 374]] },
    { fill: '#155e75', points: [[272, 250], [212, 300], [250, 392], [272, 364], [304, 374]] }
  ]
} as const
const FONT = "'Inter', 'Segoe UI', 'Helvetica Neue', Arial, sans-serif"

/** Drops what XML cannot hold and folds runs of whitespace, which SVG would fold anyway. */
const plainText = (text: string): string => text.replace(NOT_XML_CHARACTER, '').replace(/\s+/g, ' ').trim()

/** Graphemes, so an accent or an emoji sequence is never cut in half. */
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' })
const graphemes = (text: string): string[] => Array.from(segmenter.segment(text), (part) => part.segment)

/** A rough advance width in em for a sans-serif (no font metrics on the server), generous so text errs on fitting. */
function emWidth(text: string): number {
  let width = 0
  for (const character of graphemes(text)) {
    if (/[\u1100-\u11ff\u2e80-\ua4cf\uac00-\ud7af\uf900-\ufaff\uff00-\uff60]/.test(character)) width += 1
    else if (/[mwMW@%]/.test(character)) width += 0.95
    else if (/[A-Z0-9]/.test(character)) width += 0.75
    else if (/[ijlrtIf.,:;'!| ]/.test(character)) width += 0.35
    else width += 0.62
  }
  return width
}

/** The largest size up to `preferred` at which every line fits the text width. */
function fittingFontSize(lines: string[], preferred: number): number {
  return Math.min(preferred, ...lines.map((line) => Math.floor(TEXT_WIDTH / emWidth(line))))
}

function ellipsize(text: string, width: number): string {
  return `${graphemes(text).slice(0, width - 1).join('').trimEnd()}…`
}

/** Greedy word wrap; a word longer than a line is broken, and text beyond the last line ends in an ellipsis. */
function wrap(text: string, width: number, maxLines: number): string[] {
  const lines: string[] = []
  for (const word of text.split(' ').filter(Boolean)) {
    const characters = graphemes(word)
    for (let at = 0; at < characters.length; at += width) {
      const piece = characters.slice(at, at + width)
      const last = lines.length - 1
      if (last >= 0 && at === 0 && graphemes(lines[last]!).length + 1 + piece.length <= width) lines[last] += ` ${piece.join('')}`
      else lines.push(piece.join(''))
    }
  }
  if (lines.length <= maxLines) return lines
  return [...lines.slice(0, maxLines - 1), ellipsize(lines[maxLines - 1]!, width)]
}

type Attributes = Record<string, string | number>

function setAttributes(element: Element, attributes: Attributes): void {
  for (const [attribute, value] of Object.entries(attributes)) element.setAttribute(attribute, String(value))
}

function append(parent: Element, name: string, attributes: Attributes, text?: string): Element {
  // Every element here was made by the one document.
  const document = parent.ownerDocument!
  const element = document.createElementNS(SVG_NAMESPACE, name)
  setAttributes(element, attributes)
  if (text !== undefined) element.appendChild(document.createTextNode(text))
  parent.appendChild(element)
  return element
}

export function generatedBadgeSvg(options: GeneratedBadgeOptions): string {
  const name = plainText(options.name)
  const issuer = plainText(options.issuerName ?? '')
  const label = issuer ? `${name}, issued by ${issuer}` : name
  const document = new DOMImplementation().createDocument(SVG_NAMESPACE, 'svg', null)
  const svg = document.documentElement!
  const { size, radius, ring } = MEDAL
  setAttributes(svg, { width: size, height: size, viewBox: `0 0 ${size} ${size}`, role: 'img', 'aria-label': label })
  append(svg, 'title', {}, label)
  const gradient = append(append(svg, 'defs', {}), 'linearGradient', { id: 'lanyard-medal', x1: 0, y1: 0, x2: 1, y2: 1 })
  MEDAL.gradient.forEach((colour, offset) => append(gradient, 'stop', { offset, 'stop-color': colour }))
  for (const { fill, points } of MEDAL.ribbons) append(svg, 'path', { d: `M${points.map(([x, y]) => `${x} ${y}`).join(' L')} Z`, fill })
  append(svg, 'circle', { cx: CENTER.x, cy: CENTER.y, r: radius, fill: 'url(#lanyard-medal)' })
  append(svg, 'circle', { cx: CENTER.x, cy: CENTER.y, r: ring.radius, fill: 'none', stroke: '#ffffff', 'stroke-opacity': ring.opacity, 'stroke-width': ring.width })

  // The name block and the issuer line under it are centred on the medal; a baseline sits about 0.35 em below
  // the middle of its line.
  const lines = wrap(name, NAME.perLine, NAME.lines)
  const nameSize = fittingFontSize(lines, NAME.fontSize)
  const lineHeight = Math.round(nameSize * 1.25)
  const issuerLine = graphemes(issuer).length > ISSUER.characters ? ellipsize(issuer, ISSUER.characters) : issuer
  const issuerSize = fittingFontSize([issuerLine], ISSUER.fontSize)
  const blockHeight = lines.length * lineHeight + (issuer ? issuerSize * 2.2 : 0)
  const firstBaseline = Math.round(CENTER.y - blockHeight / 2 + lineHeight / 2 + nameSize * 0.35)
  const text = { x: CENTER.x, 'text-anchor': 'middle', 'font-family': FONT, fill: '#ffffff' }
  const nameText = append(svg, 'text', { ...text, 'font-size': nameSize, 'font-weight': 700 })
  lines.forEach((line, index) => append(nameText, 'tspan', { x: CENTER.x, y: firstBaseline + index * lineHeight }, line))
  if (issuer) {
    const y = Math.round(firstBaseline + (lines.length - 1) * lineHeight + issuerSize * 2.2)
    append(svg, 'text', { ...text, y, 'font-size': issuerSize, 'fill-opacity': 0.85 }, issuerLine)
  }
  return new XMLSerializer().serializeToString(document)
}
