// Bakes an Open Badges 3.0 credential into a PNG or SVG image (the OB 3.0 spec, "Baking"), and draws a default image in both forms.
export { bakePng } from './bake-png.js'
export { bakeSvg, type CredentialToBake } from './bake-svg.js'
export { BakedImageError, type BakedImageReason } from './baked.js'
export { generatedBadgeSvg, type GeneratedBadgeOptions } from './generated-badge.js'
export { generatedBadgePng } from './generated-badge-png.js'
export { sanitizeSvg } from './svg-sanitize.js'
