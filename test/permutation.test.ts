import { randomBytes } from 'node:crypto'
import t from 'tap'
import { permute } from '../src/status/permutation.js'

t.test('a keyed permutation gives every index exactly once, for list sizes that are and are not powers of two', async (t) => {
  for (const size of [8, 64, 200, 1024, 131_072 / 64]) {
    const key = randomBytes(32).toString('hex')
    const indexes = Array.from({ length: size }, (_, position) => permute(position, size, key))
    t.equal(new Set(indexes).size, size, `size ${size}: no index twice`)
    t.ok(indexes.every((index) => index >= 0 && index < size), `size ${size}: every index inside the list`)
  }
})

t.test('indexes do not follow issue order, and another key shuffles differently', async (t) => {
  const size = 131_072
  const [a, b] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')]
  const first = Array.from({ length: 100 }, (_, position) => permute(position, size, a))
  t.not(first.join(), Array.from({ length: 100 }, (_, i) => i).join())
  const increasing = first.filter((index, i) => i > 0 && index > first[i - 1]!).length
  t.ok(increasing > 25 && increasing < 75, `about half the steps go up (${increasing} of 99): no visible order`)
  t.not(first.join(), Array.from({ length: 100 }, (_, position) => permute(position, size, b)).join())
  t.equal(permute(12_345, size, a), permute(12_345, size, a), 'the same key and position always give the same index')
})

t.test('a position outside the list is refused', async (t) => {
  const key = randomBytes(32).toString('hex')
  for (const position of [-1, 64, 1.5]) t.throws(() => permute(position, 64, key), RangeError)
})
