// A learning stack's public page for people: the award it leads to, and each badge it takes with who issues it and what
// earning it asks, as nested lists that read in order ("all of these", "any one of these", "at least 2 of these").
import { escapeHtml, httpUrl, page } from './html.js'

/** An OB 3.0 Achievement as the page reads it. */
export interface PageAchievement {
  id: string
  name: string
  description: string
  criteria: { id?: string; narrative?: string }
  image?: { id: string; caption?: string }
  creator: { name: string }
}

export interface PageNode {
  all?: PageNode[]
  any?: PageNode[]
  atLeast?: number
  of?: PageNode[]
  achievement?: PageAchievement
  pathway?: { id: string; name: string }
}

export interface PathwayPageModel {
  /** The stack's public URL (absolute). */
  url: string
  /** PUBLIC_URL, no trailing slash. */
  publicUrl: string
  pathway: {
    name: string
    description?: string
    issuer: { name: string; url: string }
    award: PageAchievement
    requirement: PageNode
  }
}

// Nesting shows as indented, ruled groups; inline, as the layout allows no stylesheet of its own.
const STYLE = `<style>
ul.stack { list-style: none; padding-left: 0; margin: .5rem 0 }
ul.stack ul.stack { padding-left: 1rem; border-left: 3px solid var(--line) }
ul.stack > li { margin: .75rem 0 }
.component h3 { margin: 0 }
.component p { margin: .25rem 0 }
.by { color: var(--muted) }
.group { font-weight: 600; margin: .5rem 0 .25rem }
</style>
`

function criteriaHtml(criteria: PageAchievement['criteria'], name: string): string {
  const link = httpUrl(criteria.id)
  return `${criteria.narrative === undefined ? '' : `<p class="narrative"><strong>To earn it:</strong> ${escapeHtml(criteria.narrative)}</p>\n`}` +
    `${link === null ? '' : `<p><a href="${escapeHtml(link)}">The full criteria for ${escapeHtml(name)}</a></p>\n`}`
}

function achievementHtml(achievement: PageAchievement): string {
  return `<div class="component">
<h3>${escapeHtml(achievement.name)}</h3>
<p class="by">Issued by ${escapeHtml(achievement.creator.name)}</p>
<p>${escapeHtml(achievement.description)}</p>
${criteriaHtml(achievement.criteria, achievement.name)}</div>`
}

function groupLabel(node: PageNode, count: number): string {
  if (node.all !== undefined) return 'All of these:'
  if (node.any !== undefined) return 'Any one of these:'
  return `At least ${node.atLeast} of these ${count}:`
}

function nodeHtml(node: PageNode): string {
  if (node.achievement !== undefined) return achievementHtml(node.achievement)
  if (node.pathway !== undefined) {
    const href = httpUrl(node.pathway.id)
    const name = escapeHtml(node.pathway.name)
    return `<div class="component">
<h3>${href === null ? name : `<a href="${escapeHtml(href)}">${name}</a>`}</h3>
<p>A learning stack of its own: its award counts here.</p>
</div>`
  }
  const children = node.all ?? node.any ?? node.of!
  return `<p class="group">${groupLabel(node, children.length)}</p>
<ul class="stack">
${children.map((child) => `<li>${nodeHtml(child)}</li>`).join('\n')}
</ul>`
}

export function pathwayPage(model: PathwayPageModel): string {
  const { pathway, url, publicUrl } = model
  const { award } = pathway
  const image = httpUrl(award.image?.id)
  const summary = pathway.description ?? `Earn ${award.name} by completing this learning stack.`
  const head = `<link rel="canonical" href="${escapeHtml(url)}">
<link rel="alternate" type="application/json" href="${escapeHtml(url)}">
<meta name="description" content="${escapeHtml(summary)}">
<meta property="og:type" content="website">
<meta property="og:title" content="${escapeHtml(pathway.name)}">
<meta property="og:description" content="${escapeHtml(summary)}">
<meta property="og:url" content="${escapeHtml(url)}">
${STYLE}`
  const issuerUrl = httpUrl(pathway.issuer.url)
  const issuer = escapeHtml(pathway.issuer.name)
  const main = `${image === null ? '' : `<img class="badge" src="${escapeHtml(image)}" alt="Badge: ${escapeHtml(award.name)}">\n`}<h1>${escapeHtml(pathway.name)}</h1>
<p>A learning stack from ${issuerUrl === null ? issuer : `<a href="${escapeHtml(issuerUrl)}">${issuer}</a>`}.</p>
${pathway.description === undefined ? '' : `<p class="narrative">${escapeHtml(pathway.description)}</p>\n`}<h2>The award</h2>
<p>Completing the stack earns this badge, issued automatically as soon as the last requirement is met:</p>
${achievementHtml(award)}
<h2>What it takes</h2>
${nodeHtml(pathway.requirement)}
<h2>Share</h2>
<ul class="actions">
<li><a href="${escapeHtml(url)}" type="application/json">This learning stack as JSON</a></li>
</ul>`
  return page({ title: pathway.name, head, main, verifyHref: `${publicUrl}/verify` })
}
