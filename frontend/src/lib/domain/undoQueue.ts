/**
 * Actions held for a few seconds before they are sent, so a mistaken tap can be undone.
 *
 * Undoing a held action is free: nothing reached the server. Actions on the same key (one order) are
 * sent in the order they were taken: a second action sends the first one at once, so "make" then
 * "complete" never arrive swapped. `flush()` sends everything now (the page is being hidden).
 */

export interface TimerScheduler {
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export interface HeldAction<T> {
  id: number
  key: string
  label: string
  payload: T
  /** When it will be sent (epoch ms). */
  dueAt: number
}

type Runner<T> = (payload: T) => Promise<void>

interface Entry<T> {
  action: HeldAction<T>
  run: Runner<T>
  timer: unknown
}

export const UNDO_WINDOW_MS = 5000

const realTimers: TimerScheduler = {
  setTimeout: (cb, ms) => globalThis.setTimeout(cb, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
}

export class UndoQueue<T> {
  private readonly held = new Map<number, Entry<T>>()
  private readonly chains = new Map<string, Promise<void>>()
  private readonly listeners = new Set<() => void>()
  private nextId = 1

  constructor(
    private readonly options: {
      delayMs?: number
      timers?: TimerScheduler
      now?: () => number
      /** Told when a sent action failed, so the caller can show it and restore the view. */
      onError?: (action: HeldAction<T>, error: unknown) => void
      /** Told when a sent action succeeded. */
      onSent?: (action: HeldAction<T>) => void
    } = {},
  ) {}

  /** Actions waiting to be sent, oldest first. */
  get pending(): HeldAction<T>[] {
    return [...this.held.values()].map((e) => e.action)
  }

  pendingFor(key: string): HeldAction<T> | undefined {
    return this.pending.filter((a) => a.key === key).at(-1)
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Holds an action; returns it so the UI can offer to undo it. */
  hold(key: string, label: string, payload: T, run: Runner<T>): HeldAction<T> {
    for (const e of [...this.held.values()]) if (e.action.key === key) this.send(e.action.id)
    const delay = this.options.delayMs ?? UNDO_WINDOW_MS
    const timers = this.options.timers ?? realTimers
    const now = (this.options.now ?? Date.now)()
    const action: HeldAction<T> = { id: this.nextId++, key, label, payload, dueAt: now + delay }
    const timer = timers.setTimeout(() => this.send(action.id), delay)
    this.held.set(action.id, { action, run, timer })
    this.emit()
    return action
  }

  /** Cancels a held action. False when it was already sent. */
  undo(id: number): boolean {
    const entry = this.held.get(id)
    if (!entry) return false
    ;(this.options.timers ?? realTimers).clearTimeout(entry.timer)
    this.held.delete(id)
    this.emit()
    return true
  }

  /** Sends every held action now and waits for them. */
  async flush(): Promise<void> {
    for (const id of [...this.held.keys()]) this.send(id)
    await Promise.all([...this.chains.values()])
  }

  private send(id: number): void {
    const entry = this.held.get(id)
    if (!entry) return
    ;(this.options.timers ?? realTimers).clearTimeout(entry.timer)
    this.held.delete(id)
    this.emit()
    const { action, run } = entry
    const previous = this.chains.get(action.key) ?? Promise.resolve()
    const next = previous
      .then(() => run(action.payload))
      .then(
        () => this.options.onSent?.(action),
        (error: unknown) => this.options.onError?.(action, error),
      )
    this.chains.set(action.key, next)
    void next.finally(() => {
      if (this.chains.get(action.key) === next) this.chains.delete(action.key)
    })
  }

  private emit(): void {
    for (const l of this.listeners) l()
  }
}
