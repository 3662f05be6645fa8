import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { UndoQueue, type HeldAction } from '../undoQueue'

describe('UndoQueue', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  function queue() {
    const sent: string[] = []
    const errors: Array<[HeldAction<string>, unknown]> = []
    const q = new UndoQueue<string>({ delayMs: 5000, onError: (a, e) => errors.push([a, e]) })
    const run = async (payload: string) => {
      sent.push(payload)
    }
    return { q, sent, errors, run }
  }

  it('sends an action only after the undo window', async () => {
    const { q, sent, run } = queue()
    q.hold('o1', 'Make #1', 'make o1', run)
    await vi.advanceTimersByTimeAsync(4999)
    expect(sent).toEqual([])
    expect(q.pending).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(sent).toEqual(['make o1'])
    expect(q.pending).toHaveLength(0)
  })

  it('never sends an undone action', async () => {
    const { q, sent, run } = queue()
    const a = q.hold('o1', 'Cancel #1', 'cancel o1', run)
    expect(q.undo(a.id)).toBe(true)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(sent).toEqual([])
    expect(q.undo(a.id)).toBe(false)
  })

  it('sends the earlier action at once when the same order gets another one', async () => {
    const { q, sent, run } = queue()
    q.hold('o1', 'Make #1', 'make o1', run)
    q.hold('o2', 'Make #2', 'make o2', run)
    await vi.advanceTimersByTimeAsync(1000)
    q.hold('o1', 'Complete #1', 'complete o1', run)
    await vi.advanceTimersByTimeAsync(0)
    expect(sent).toEqual(['make o1'])
    expect(q.pending.map((a) => a.label)).toEqual(['Make #2', 'Complete #1'])
    await vi.advanceTimersByTimeAsync(5000)
    expect(sent).toEqual(['make o1', 'make o2', 'complete o1'])
  })

  it('sends actions of one order in order even when the first is slow', async () => {
    const sent: string[] = []
    const q = new UndoQueue<string>({ delayMs: 5000 })
    const slow = (p: string) => new Promise<void>((r) => setTimeout(() => (sent.push(p), r()), 3000))
    const fast = async (p: string) => {
      sent.push(p)
    }
    q.hold('o1', 'Make', 'make', slow)
    q.hold('o1', 'Complete', 'complete', fast)
    const flushed = q.flush()
    await vi.advanceTimersByTimeAsync(3000)
    await flushed
    expect(sent).toEqual(['make', 'complete'])
  })

  it('reports a failed send so the view can be restored', async () => {
    const { q, errors } = queue()
    q.hold('o1', 'Complete #1', 'x', async () => {
      throw new Error('409')
    })
    await vi.advanceTimersByTimeAsync(5000)
    expect(errors.map(([a, e]) => [a.label, (e as Error).message])).toEqual([['Complete #1', '409']])
  })

  it('sends everything at once on flush', async () => {
    const { q, sent, run } = queue()
    q.hold('o1', 'a', 'a', run)
    q.hold('o2', 'b', 'b', run)
    await q.flush()
    expect(sent).toEqual(['a', 'b'])
    expect(q.pending).toEqual([])
  })

  it('tells listeners when the pending list changes', () => {
    const { q, run } = queue()
    const seen: number[] = []
    q.onChange(() => seen.push(q.pending.length))
    const a = q.hold('o1', 'a', 'a', run)
    q.undo(a.id)
    expect(seen).toEqual([1, 0])
  })
})
