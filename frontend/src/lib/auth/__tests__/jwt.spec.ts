import { describe, expect, it } from 'vitest'
import { decodeJwt, groupsOf, isAdmin } from '../jwt'
import { fakeJwt } from '../../testing/fakes'

describe('claims', () => {
  it.each([
    [['admin', 'barista'], ['admin', 'barista']],
    ['[admin barista]', ['admin', 'barista']],
    ['admin,barista', ['admin', 'barista']],
    [undefined, []],
  ])('reads cognito:groups given as %j', (groups, expected) => {
    const claims = decodeJwt(fakeJwt({ sub: 's', exp: 1, 'cognito:groups': groups }))
    expect(groupsOf(claims)).toEqual(expected)
  })

  it('finds admins', () => {
    expect(isAdmin(decodeJwt(fakeJwt({ sub: 's', exp: 1, 'cognito:groups': '[admin]' })))).toBe(true)
    expect(isAdmin(decodeJwt(fakeJwt({ sub: 's', exp: 1 })))).toBe(false)
  })

  it.each(['', 'a.b', 'a.!!!.c', `x.${btoa('[1]')}.y`])('refuses %j as a token', (token) => {
    expect(decodeJwt(token)).toBeNull()
  })

  it('decodes non-ASCII names', () => {
    const claims = decodeJwt(fakeJwt({ sub: 's', exp: 1, given_name: 'Zoë 李' }))
    expect(claims?.given_name).toBe('Zoë 李')
  })
})
