// The learning stack page as a pure function: what it says for each kind of node, and that only http(s) links are links.
import t from 'tap'
import { pathwayPage, type PageAchievement } from '../src/pages/pathway-page.js'

const achievement = (name: string, extra: Partial<PageAchievement> = {}): PageAchievement =>
  ({ id: `https://badges.example.edu/achievements/${name}`, name, description: `About ${name}.`, criteria: { narrative: `Earn ${name}.` }, creator: { name: 'Riverside College' }, ...extra })

const render = (requirement: Parameters<typeof pathwayPage>[0]['pathway']['requirement'], overrides: Record<string, unknown> = {}) => pathwayPage({
  url: 'https://badges.example.edu/pathways/p', publicUrl: 'https://badges.example.edu',
  pathway: { name: 'Stack', issuer: { name: 'Riverside College', url: 'https://riverside.example.edu' }, award: achievement('Award'), requirement, ...overrides }
})

t.test('each kind of group reads as what it asks', async (t) => {
  const html = render({ all: [{ any: [{ achievement: achievement('A') }, { achievement: achievement('B') }] }, { atLeast: 2, of: [{ achievement: achievement('C') }, { achievement: achievement('D') }, { achievement: achievement('E') }] }] })
  t.match(html, 'All of these:')
  t.match(html, 'Any one of these:')
  t.match(html, 'At least 2 of these 3:')
  t.match(html, '<p class="narrative"><strong>To earn it:</strong> Earn A.</p>')
  t.match(html, 'Completing the stack earns this badge')
  t.match(html, 'Earn Award.', 'the award\'s own criteria')
  t.match(html, '<a href="https://riverside.example.edu/">Riverside College</a>')
  t.notMatch(html, '<img', 'no image when the award has none')
  t.match(html, '<meta name="description" content="Earn Award by completing this learning stack.">', 'a summary when the stack has no description')
})

t.test('criteria given only as a link, a nested stack, and links that are not http(s)', async (t) => {
  const html = render({
    all: [
      { achievement: achievement('Linked', { criteria: { id: 'https://college.example.edu/criteria' } }) },
      { pathway: { id: 'https://badges.example.edu/pathways/q', name: 'Inner Stack' } },
      { pathway: { id: 'javascript:alert(1)', name: 'Sneaky Stack' } }
    ]
  }, { issuer: { name: 'Odd Issuer', url: 'javascript:alert(2)' }, award: achievement('Award', { image: { id: 'https://img.example.edu/award.png' } }), description: 'Described.' })
  t.match(html, '<a href="https://college.example.edu/criteria">The full criteria for Linked</a>')
  t.notMatch(html, 'Earn Linked.')
  t.match(html, '<h3><a href="https://badges.example.edu/pathways/q">Inner Stack</a></h3>')
  t.match(html, '<h3>Sneaky Stack</h3>')
  t.match(html, 'A learning stack from Odd Issuer.')
  t.notMatch(html, 'javascript:')
  t.match(html, '<img class="badge" src="https://img.example.edu/award.png" alt="Badge: Award">')
  t.match(html, '<p class="narrative">Described.</p>')
})
