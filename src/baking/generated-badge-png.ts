// Draws the generated badge's medal and ribbons as a PNG (encoded by pngjs): badge.png's image when the stored one cannot be baked.
//
// Without its text: the server has no font rasterizer. The credential baked into it names the achievement.
import { PNG } from 'pngjs'
import { MEDAL } from './generated-badge.js'

type Colour = readonly [number, number, number]
type Point = readonly [number, number]

/** Samples per pixel along each axis: 9 in all, so edges are smooth rather than stepped. */
const SAMPLES = 3

const byte = (hex: string, at: number): number => parseInt(hex.slice(at, at + 2), 16)
const rgb = (hex: string): Colour => [byte(hex, 1), byte(hex, 3), byte(hex, 5)]
const FROM = rgb(MEDAL.gradient[0])
const TO = rgb(MEDAL.gradient[1])
const WHITE: Colour = [255, 255, 255]
const RIBBONS = MEDAL.ribbons.map(({ fill, points }) => ({ colour: rgb(fill), points }))

const mix = (a: Colour, b: Colour, share: number): Colour => [a[0] + (b[0] - a[0]) * share, a[1] + (b[1] - a[1]) * share, a[2] + (b[2] - a[2]) * share]

/** The even-odd rule: a ray to the right from the point crosses the outline an odd number of times. */
function inside(points: readonly Point[], x: number, y: number): boolean {
  let crossings = 0
  for (let index = 0; index < points.length; index++) {
    const [x1, y1] = points[index]!
    const [x2, y2] = points[(index + 1) % points.length]!
    if (y1 > y !== y2 > y && x < x1 + ((y - y1) * (x2 - x1)) / (y2 - y1)) crossings++
  }
  return crossings % 2 === 1
}

/** The colour painted at a point, in the SVG's order (ribbons, medal, ring); undefined where the image is transparent. */
function paint(x: number, y: number): Colour | undefined {
  const { center, radius, ring } = MEDAL
  // Math.hypot is several times slower, and this runs for every sample.
  const distance = Math.sqrt((x - center.x) ** 2 + (y - center.y) ** 2)
  if (distance > radius) return RIBBONS.find((ribbon) => inside(ribbon.points, x, y))?.colour
  // The gradient runs along the diagonal of the medal's bounding square.
  const along = (x - center.x + y - center.y + 2 * radius) / (4 * radius)
  const medal = mix(FROM, TO, along)
  return Math.abs(distance - ring.radius) <= ring.width / 2 ? mix(medal, WHITE, ring.opacity) : medal
}

/** One pixel's RGBA: the average of its samples, with coverage as alpha. */
function pixel(column: number, row: number): number[] {
  let [red, green, blue, covered] = [0, 0, 0, 0]
  for (let i = 0; i < SAMPLES * SAMPLES; i++) {
    const colour = paint(column + ((i % SAMPLES) + 0.5) / SAMPLES, row + (Math.floor(i / SAMPLES) + 0.5) / SAMPLES)
    if (colour === undefined) continue
    red += colour[0]
    green += colour[1]
    blue += colour[2]
    covered++
  }
  if (covered === 0) return [0, 0, 0, 0]
  return [red / covered, green / covered, blue / covered, (255 * covered) / (SAMPLES * SAMPLES)].map(Math.round)
}

function draw(): Buffer {
  const image = new PNG({ width: MEDAL.size, height: MEDAL.size })
  for (let row = 0; row < MEDAL.size; row++) {
    for (let column = 0; column < MEDAL.size; column++) image.data.set(pixel(column, row), (row * MEDAL.size + column) * 4)
  }
  return PNG.sync.write(image)
}

let drawn: Buffer | undefined

/** The same bytes every time: drawn on first use (a fraction of a second, once per process) and kept. */
export function generatedBadgePng(): Buffer {
  drawn ??= draw()
  return drawn
}
