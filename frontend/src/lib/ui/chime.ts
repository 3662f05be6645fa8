/**
 * A short two-note chime for new orders, synthesised with Web Audio (no sound file to ship).
 *
 * Browsers only let a page make sound after a tap, so `unlock()` is called from the first tap on
 * the page; until then `play()` stays silent instead of failing.
 */

type AudioContextCtor = typeof AudioContext

let context: AudioContext | null = null

function ctor(): AudioContextCtor | undefined {
  const w = globalThis as unknown as { AudioContext?: AudioContextCtor; webkitAudioContext?: AudioContextCtor }
  return w.AudioContext ?? w.webkitAudioContext
}

export function unlockChime(): void {
  const Ctor = ctor()
  if (!Ctor) return
  context ??= new Ctor()
  if (context.state === 'suspended') void context.resume()
}

export function playChime(): void {
  if (!context || context.state !== 'running') return
  const start = context.currentTime
  for (const [i, freq] of [880, 1318.5].entries()) {
    const osc = context.createOscillator()
    const gain = context.createGain()
    osc.type = 'sine'
    osc.frequency.value = freq
    const t = start + i * 0.16
    gain.gain.setValueAtTime(0.0001, t)
    gain.gain.exponentialRampToValueAtTime(0.25, t + 0.02)
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.45)
    osc.connect(gain).connect(context.destination)
    osc.start(t)
    osc.stop(t + 0.5)
  }
}
