// Checks of the house rules that a machine can check, run with the unit tests.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const SRC = join(__dirname, '..', '..')

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : [path]
  })
}

const sources = files(SRC).filter((f) => /\.(ts|vue)$/.test(f) && !f.includes('__tests__') && !f.includes(`${join('lib', 'testing')}`))
const rel = (f: string) => relative(SRC, f)

describe('house rules', () => {
  it('only the API layer calls fetch', () => {
    const offenders = sources.filter((f) => !rel(f).startsWith(join('lib', 'api')) && /\bfetch\s*\(/.test(readFileSync(f, 'utf8')))
    expect(offenders.map(rel)).toEqual([])
  })

  it('only the realtime layer talks to mqtt.js', () => {
    const offenders = sources.filter((f) => !rel(f).startsWith(join('lib', 'realtime')) && /from 'mqtt'/.test(readFileSync(f, 'utf8')))
    expect(offenders.map(rel)).toEqual([])
  })

  it('components have multi-word PascalCase names and routes end in View', () => {
    const components = sources.filter((f) => f.endsWith('.vue')).map((f) => basename(f, '.vue'))
    expect(components.filter((n) => !/^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+$/.test(n))).toEqual([])
    const views = sources.filter((f) => f.includes(`${join('views', '')}`)).map((f) => basename(f, '.vue'))
    expect(views.filter((n) => !n.endsWith('View'))).toEqual([])
  })

  it('every module says what it is for in its opening comment', () => {
    const undocumented = sources.filter((f) => {
      const text = readFileSync(f, 'utf8')
      const code = f.endsWith('.vue') ? (text.match(/<script setup lang="ts">\s*([\s\S]*?)<\/script>/)?.[1] ?? '') : text
      return !/^\s*(\/\*\*|\/\/)/.test(code)
    })
    expect(undocumented.map(rel)).toEqual([])
  })

  it('wire shapes are imported from the one types file', () => {
    const offenders = sources.filter((f) => {
      const text = readFileSync(f, 'utf8')
      return /\binterface\s+(OrderView|ConfigView|QrBucket|QrCodeView|RuntimeConfig|ProblemDetails|DrinkOrder|JourneyEntry)\b/.test(text) && !rel(f).endsWith(join('api', 'types.ts'))
    })
    expect(offenders.map(rel)).toEqual([])
  })
})
