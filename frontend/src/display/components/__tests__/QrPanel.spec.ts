import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import type { QrBucket } from '@lib/api'
import { qrPanelState } from '@lib/domain'
import QrPanel from '../QrPanel.vue'

const END = 1_700_000_099_999
const bucket = (availableTokens: number): QrBucket => ({
  eventId: 'E',
  windowId: 1,
  code: 'Code123456',
  startTs: END - 299_999,
  endTs: END,
  validUntil: END + 15_000,
  availableTokens,
  tokensPerWindow: 10,
  createdAt: END - 299_999,
})

function render(availableTokens: number, msLeft: number, storeState: 'open' | 'closed' = 'open') {
  const qr = bucket(availableTokens)
  return mount(QrPanel, {
    props: { qr, panel: qrPanelState({ bucket: qr, now: END - msLeft, storeState }), orderAppUrl: 'http://bar/order/' },
  })
}

describe('QrPanel', () => {
  it('shows the code for the order URL with the drinks left and the time to scan', async () => {
    const w = render(3, 75_000)
    await flushPromises()
    const img = w.find('img')
    expect(img.attributes('alt')).toContain('http://bar/order/?eventId=E&token=Code123456')
    expect(img.attributes('src')).toMatch(/^data:image\/svg\+xml/)
    expect(w.text()).toContain('3 drinks left')
    expect(w.text()).toContain('Scan within 1:00')
  })

  it('hides the code when the drinks are gone and says when the next one comes', async () => {
    const w = render(0, 75_000)
    await flushPromises()
    expect(w.find('img').exists()).toBe(false)
    expect(w.text()).toContain('All drinks for this round are taken')
    expect(w.text()).toContain('1:15')
  })

  it('hides the code in the last seconds of its window', async () => {
    const w = render(5, 10_000)
    await flushPromises()
    expect(w.find('img').exists()).toBe(false)
    expect(w.text()).toContain('We are making drinks!')
  })

  it('says the store is closed', () => {
    expect(render(5, 75_000, 'closed').text()).toContain('Store closed')
  })
})
