// The bounded caches' eviction order: least recently used first, where asking for the newest entry moves nothing.
import t from 'tap'
import { Lru, lruPer } from '../src/lru.js'

t.test('forgets the least recently used entry, counting reads as use', async (t) => {
  const lru = new Lru<string, number>(2)
  lru.set('a', 1)
  lru.set('b', 2)
  t.equal(lru.get('a'), 1, 'a is now the most recent')
  lru.set('c', 3)
  t.equal(lru.get('b'), undefined, 'b was the least recent')
  t.equal(lru.get('a'), 1)
  t.equal(lru.get('c'), 3)
  t.equal(lru.get('c'), 3, 'asking for the newest again')
  lru.set('d', 4)
  t.equal(lru.get('a'), undefined, 'a was read before c, so it went first')
  t.same([lru.get('c'), lru.get('d')], [3, 4])
})

t.test('setting a known key replaces its value and makes it the most recent', async (t) => {
  const lru = new Lru<string, number>(2)
  lru.set('a', 1)
  lru.set('b', 2)
  lru.set('a', 10)
  lru.set('c', 3)
  t.equal(lru.get('b'), undefined)
  t.equal(lru.get('a'), 10)
})

t.test('lruPer keeps one cache per owner', async (t) => {
  const cacheOf = lruPer<object, string, number>(4)
  const [one, two] = [{}, {}]
  cacheOf(one).set('k', 1)
  t.equal(cacheOf(one).get('k'), 1)
  t.equal(cacheOf(two).get('k'), undefined)
  t.equal(cacheOf(one), cacheOf(one))
})
