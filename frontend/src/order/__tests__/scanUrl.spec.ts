import { describe, expect, it } from 'vitest'
import { takeScanFromLocation } from '../scanUrl'

describe('takeScanFromLocation', () => {
  it('keeps the code for this tab and removes it from the address bar', () => {
    sessionStorage.clear()
    const replaced: string[] = []
    const location = { search: '?eventId=NYC&token=T9', pathname: '/order/', hash: '' } as Location
    const history = { state: null, replaceState: (_s: unknown, _t: string, url: string) => replaced.push(url) } as unknown as History
    takeScanFromLocation(location, history)
    expect(JSON.parse(sessionStorage.getItem('presso.order.pendingScan')!)).toEqual({ eventId: 'NYC', token: 'T9' })
    expect(replaced).toEqual(['/order/?eventId=NYC'])
  })

  it('does nothing without a code', () => {
    sessionStorage.clear()
    const replaced: string[] = []
    const history = { state: null, replaceState: (_s: unknown, _t: string, url: string) => replaced.push(url) } as unknown as History
    takeScanFromLocation({ search: '?eventId=NYC', pathname: '/order/', hash: '' } as Location, history)
    expect(sessionStorage.getItem('presso.order.pendingScan')).toBeNull()
    expect(replaced).toEqual([])
  })
})
