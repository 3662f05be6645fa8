import { describe, expect, it } from 'vitest'
import { absoluteWsUrl, loadConfigPatiently, pickEventId } from '../services'
import { TEST_CONFIG } from '../testing/services'
import { fakeFetch, MemoryStorage } from '../testing/fakes'

describe('start-up helpers', () => {
  it.each([
    ['ws://h/mqtt', 'http:', 'ws://h/mqtt'],
    ['/mqtt', 'http:', 'ws://bar.local:8080/mqtt'],
    ['/mqtt', 'https:', 'wss://bar.local:8080/mqtt'],
    ['https://x/mqtt', 'http:', 'wss://x/mqtt'],
  ])('turns %s on %s into %s', (url, protocol, expected) => {
    expect(absoluteWsUrl(url, { protocol, host: 'bar.local:8080' })).toBe(expected)
  })

  it('takes the event from the URL, then from memory, then the default', () => {
    localStorage.clear()
    expect(pickEventId(TEST_CONFIG, 'display', '')).toBe('E')
    expect(pickEventId(TEST_CONFIG, 'display', '?eventId=NYC')).toBe('NYC')
    expect(pickEventId(TEST_CONFIG, 'display', '')).toBe('NYC')
    expect(pickEventId(TEST_CONFIG, 'barista', '')).toBe('E')
  })

  it('retries /config.json with growing pauses until it answers', async () => {
    let calls = 0
    const fetch = fakeFetch(() => (++calls < 4 ? { status: 502, body: 'bad gateway' } : { body: TEST_CONFIG }))
    const waits: number[] = []
    const config = await loadConfigPatiently({ fetch, storage: new MemoryStorage() as unknown as Storage, wait: async (ms) => void waits.push(ms) })
    expect(config.defaultEventId).toBe('E')
    expect(waits).toEqual([1000, 2000, 4000])
  })

  it('falls back to the last settings seen when the server is down', async () => {
    const storage = new MemoryStorage() as unknown as Storage
    await loadConfigPatiently({ fetch: fakeFetch(() => ({ body: TEST_CONFIG })), storage })
    const offline = fakeFetch(() => {
      throw new TypeError('offline')
    })
    const config = await loadConfigPatiently({ fetch: offline, storage, wait: async () => undefined })
    expect(config).toEqual(TEST_CONFIG)
  })
})
