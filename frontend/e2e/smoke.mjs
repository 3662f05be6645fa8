// Smoke test of the three app shells in the system's Chromium, against `vite preview` of the build.
//
// The backend is replaced by routes inside the browser: a fake /config.json, fixture answers for the
// API, and a minimal MQTT-over-WebSocket responder (CONNACK, SUBACK, PINGRESP) that can also push a
// message, so the apps run signed in, live, and update on an event. Each screen is checked for its
// key content and for serious accessibility violations (axe), and saved as a screenshot in
// e2e/artifacts/ for a person to look at.
import { spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AxeBuilder } from '@axe-core/playwright'
import { chromium } from 'playwright-core'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const artifacts = join(here, 'artifacts')
mkdirSync(artifacts, { recursive: true })

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

const NOW = Date.now()
const b64url = (o) => Buffer.from(JSON.stringify(o)).toString('base64url')
const jwt = (claims) => `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url(claims)}.c2ln`
const EXP = Math.floor(NOW / 1000) + 3600

function session(sub, givenName, groups) {
  return {
    idToken: jwt({ sub, email: `${givenName.toLowerCase()}@example.com`, given_name: givenName, exp: EXP, 'cognito:groups': groups }),
    accessToken: jwt({ sub, exp: EXP }),
    refreshToken: 'refresh',
    expiresAt: NOW + 3600_000,
    username: `${givenName.toLowerCase()}@example.com`,
  }
}
const BARISTA = session('barista-1', 'Bea', ['admin'])
const CUSTOMER = session('customer-1', 'Ana', [])

function runtimeConfig(origin) {
  return {
    region: 'us-east-1',
    userPoolId: 'local_pool',
    userPoolClientId: 'local-client',
    cognitoEndpoint: `${origin}/cognito`,
    apiBase: '/api',
    mqttUrl: `${origin.replace('http', 'ws')}/mqtt`,
    mqttAuth: 'jwt',
    defaultEventId: 'default',
    orderAppUrl: `${origin}/order/`,
  }
}

const option = (id, available = true) => ({ id, name: id.charAt(0).toUpperCase() + id.slice(1), available })
const milk = (oat = true) => ({ id: 'milk', name: 'Milk', required: true, maxChoices: 1, options: [option('regular'), option('oat', oat)] })
const syrup = { id: 'syrup', name: 'Syrup', required: false, maxChoices: 2, options: [option('vanilla'), option('caramel')] }
const drink = (id, name, available, modifiers) => ({ id, name, icon: id, available, modifiers })
const MENU = {
  drinks: [
    drink('americano', 'Americano', true, [milk()]),
    drink('flat-white', 'Flat White', true, [milk(false)]),
    drink('cappuccino', 'Cappuccino', false, [milk()]),
    drink('latte', 'Latte', true, [milk(), syrup]),
    drink('single-espresso', 'Single Espresso', true, []),
    drink('double-espresso', 'Double Espresso', true, []),
  ],
}
function configView(storeState = 'open') {
  return {
    storeState,
    eventId: 'default',
    open: storeState !== 'closed',
    paused: storeState === 'paused',
    drinksPerBarcode: 10,
    maxOrdersInQueue: 20,
    maxOrdersPerUser: 1,
    secondsPerDrink: 90,
    menu: MENU,
    version: 3,
    updatedAt: NOW - 3_600_000,
  }
}

const NAMES = ['Ana', 'Ben', 'Chloé', 'Dev', 'Emeka', 'Fatima', 'Gus', 'Hana', 'Ivan', 'Jo']
const DRINKS = [
  ['flat-white', 'Flat White', ['regular']],
  ['latte', 'Latte', ['oat', 'vanilla']],
  ['americano', 'Americano', ['regular']],
  ['double-espresso', 'Double Espresso', []],
  ['flat-white', 'Flat White', ['regular']],
  ['latte', 'Latte', ['oat', 'vanilla']],
]
function drinkOrder(n) {
  const [drinkId, name, options] = DRINKS[n % DRINKS.length]
  return {
    drinkId,
    drink: name,
    icon: drinkId,
    modifiers: options.map((o) => ({ modifier: o === 'vanilla' ? 'syrup' : 'milk', option: o, name: o.charAt(0).toUpperCase() + o.slice(1) })),
  }
}
function order(n, over = {}) {
  const createdAt = NOW - (9 - n) * 50_000
  return {
    orderId: `order-${n}`,
    eventId: 'default',
    userId: `user-${n}`,
    displayName: NAMES[n % NAMES.length],
    state: 'queued',
    orderNumber: 40 + n,
    drinkOrder: drinkOrder(n),
    robot: false,
    createdAt,
    updatedAt: createdAt,
    ...over,
  }
}
const QUEUED = [order(2), order(3), order(5), order(6), order(7)]
const IN_PROGRESS = [order(1, { state: 'inProgress', baristaUserId: 'barista-1' }), order(4, { state: 'inProgress', baristaUserId: 'barista-2' })]
const COMPLETED = [order(0, { state: 'completed', finishedAt: NOW - 60_000 }), order(8, { state: 'completed', orderNumber: 38, finishedAt: NOW - 120_000 })]
const WINDOW_ID = Math.floor(NOW / 300_000)

// ---------------------------------------------------------------------------------------------
// The fake backend, installed per page
// ---------------------------------------------------------------------------------------------

const json = (route, body, status = 200) =>
  route.fulfill({ status, contentType: status >= 400 ? 'application/problem+json' : 'application/json', body: JSON.stringify(body) })

async function fakeBackend(page, origin, state = {}) {
  let customerOrder = state.customerOrder ?? null
  const eventConfig = configView(state.storeState ?? 'open')
  await page.route('**/config.json', (r) => json(r, runtimeConfig(origin)))
  await page.route('**/cognito', (route) => {
    const target = route.request().headers()['x-amz-target'] ?? ''
    if (target.endsWith('.SignUp')) return json(route, { UserConfirmed: false, UserSub: 'customer-1', CodeDeliveryDetails: { Destination: 'a***@e***', DeliveryMedium: 'EMAIL' } })
    return json(route, { __type: 'NotAuthorizedException', message: 'not in this fake' }, 400)
  })
  await page.route('**/api/**', async (route) => {
    const url = new URL(route.request().url())
    const method = route.request().method()
    const path = url.pathname
    if (path === '/api/events/default/config') return json(route, eventConfig)
    if (path === '/api/qr-code' && method === 'GET') {
      // The window after the current one, so the code shows for the whole run.
      const startTs = (WINDOW_ID + 1) * 300_000
      const bucket = { eventId: 'default', windowId: WINDOW_ID + 1, code: 'Xy7pQ2mN4v', startTs, endTs: startTs + 299_999, validUntil: startTs + 314_999, availableTokens: 7, tokensPerWindow: 10, createdAt: startTs }
      return json(route, { bucket, storeState: eventConfig.storeState })
    }
    if (path === '/api/qr-code' && method === 'POST') {
      if (url.searchParams.get('token') === 'expired') {
        return json(route, { type: 'urn:serverlesspresso:problem:invalid_code', title: 'Bad Request', status: 400, code: 'invalid_code', detail: 'this QR code is not valid (it may have expired): scan the code on the display' }, 400)
      }
      return json(route, { orderId: 'order-new', eventId: 'default', state: 'pending', drinkDeadline: NOW + 280_000 })
    }
    if (path === '/api/orders') {
      const lists = { queued: QUEUED, inProgress: IN_PROGRESS, completed: COMPLETED }
      return json(route, lists[url.searchParams.get('state')] ?? [])
    }
    if (path === '/api/myOrders') return json(route, customerOrder ? [customerOrder, { ...order(9), state: 'completed', userId: 'customer-1', createdAt: NOW - 86_400_000 }] : [])
    if (path === '/api/orders/order-new' && method === 'PUT' && !url.searchParams.has('action')) {
      const body = route.request().postDataJSON()
      const drink = MENU.drinks.find((d) => d.id === body.drink)
      const options = drink.modifiers.flatMap((m) => m.options.filter((o) => body.modifiers.includes(o.id)).map((o) => ({ modifier: m.id, option: o.id, name: o.name })))
      customerOrder = {
        orderId: 'order-new', eventId: 'default', userId: 'customer-1', displayName: 'Ana', state: 'submitted', robot: false,
        drinkOrder: { drinkId: drink.id, drink: drink.name, icon: drink.icon, modifiers: options },
        createdAt: NOW - 20_000, updatedAt: Date.now(), submittedAt: Date.now(),
      }
      return json(route, customerOrder)
    }
    if (path === '/api/orders/order-new' && method === 'GET') {
      return json(route, customerOrder ?? { orderId: 'order-new', eventId: 'default', userId: 'customer-1', state: 'pending', robot: false, createdAt: NOW - 20_000, updatedAt: NOW - 20_000, drinkDeadline: NOW + 280_000 })
    }
    if (path.startsWith('/api/orders/') && path.endsWith('/journey')) {
      const steps = [
        ['Validator.NewOrder', 'pending', 'A QR code was scanned and verified. The validator created the order and emitted this event, which starts the Order Processor workflow.'],
        ['OrderProcessor.WorkflowStarted', 'pending', 'The workflow waits for your order to be submitted.'],
        ['OrderManager.WaitingCompletion', 'queued', 'Your order got its number and joined the queue.'],
        ['OrderManager.MakeOrder', 'inProgress', 'A barista claimed your order.'],
      ]
      return json(route, steps.map(([detailType, st, Message], i) => ({ orderId: 'order-new', at: NOW - (4 - i) * 45_000, detailType, state: st, Message, detail: {} })))
    }
    return json(route, { type: 'urn:serverlesspresso:problem:order_not_found', title: 'Not Found', status: 404, code: 'order_not_found', detail: 'not in this fake' }, 404)
  })
  const sockets = []
  await page.routeWebSocket(/\/mqtt$/, (ws) => {
    sockets.push(ws)
    ws.onMessage((data) => {
      const buf = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data)
      for (const packet of mqttPackets(buf)) {
        const type = packet[0] >> 4
        if (type === 1) ws.send(Buffer.from([0x20, 0x02, 0x00, 0x00]))
        else if (type === 8) {
          const { body } = mqttBody(packet)
          const count = countFilters(body.subarray(2))
          ws.send(Buffer.from([0x90, 2 + count, body[0], body[1], ...Array(count).fill(1)]))
        } else if (type === 12) ws.send(Buffer.from([0xd0, 0x00]))
      }
    })
  })
  return {
    publish(topic, message) {
      const t = Buffer.from(topic)
      const p = Buffer.from(JSON.stringify(message))
      const rest = Buffer.concat([Buffer.from([t.length >> 8, t.length & 0xff]), t, p])
      for (const ws of sockets) ws.send(Buffer.concat([Buffer.from([0x30]), varint(rest.length), rest]))
    },
  }
}

function varint(n) {
  const out = []
  do {
    let b = n % 128
    n = Math.floor(n / 128)
    if (n > 0) b |= 128
    out.push(b)
  } while (n > 0)
  return Buffer.from(out)
}
function mqttBody(packet) {
  let i = 1
  let len = 0
  let mul = 1
  let b
  do {
    b = packet[i++]
    len += (b & 127) * mul
    mul *= 128
  } while (b & 128)
  return { body: packet.subarray(i, i + len), end: i + len }
}
function* mqttPackets(buf) {
  let rest = buf
  while (rest.length >= 2) {
    const { end } = mqttBody(rest)
    yield rest.subarray(0, end)
    rest = rest.subarray(end)
  }
}
function countFilters(buf) {
  let i = 0
  let n = 0
  while (i + 2 <= buf.length) {
    i += 2 + ((buf[i] << 8) | buf[i + 1]) + 1
    n++
  }
  return n
}

// ---------------------------------------------------------------------------------------------
// Runner
// ---------------------------------------------------------------------------------------------

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

async function waitForHttp(url, deadlineMs) {
  const deadline = Date.now() + deadlineMs
  for (;;) {
    try {
      const res = await fetch(url)
      if (res.ok) return
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${deadlineMs} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const results = []
async function check(name, fn) {
  const started = Date.now()
  try {
    await fn()
    results.push({ name, ok: true })
    console.log(`  ok    ${name} (${Date.now() - started} ms)`)
  } catch (error) {
    results.push({ name, ok: false })
    console.log(`  FAIL  ${name}\n        ${String(error?.stack ?? error).split('\n').slice(0, 4).join('\n        ')}`)
  }
}

async function expectText(page, text) {
  await page.getByText(text, { exact: false }).first().waitFor({ state: 'visible', timeout: 10_000 })
}

async function axe(page, label) {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze()
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  if (serious.length) {
    throw new Error(`${label}: ${serious.map((v) => `${v.id} (${v.nodes.length}): ${v.nodes[0]?.target}`).join('; ')}`)
  }
}

async function shot(page, name) {
  await page.waitForTimeout(350) // let entry transitions finish before the picture
  await page.screenshot({ path: join(artifacts, `${name}.png`) })
}

const port = await freePort()
const origin = `http://127.0.0.1:${port}`
const preview = spawn(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'pipe'],
})
let browser
try {
  await waitForHttp(`${origin}/display/`, 15_000)
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS })

  async function newPage(viewport, tokens) {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1, reducedMotion: 'reduce' })
    if (tokens) await context.addInitScript((t) => localStorage.setItem('presso.auth', JSON.stringify(t)), tokens)
    return context.newPage()
  }

  await check('display asks for a barista sign-in when signed out', async () => {
    const page = await newPage({ width: 1920, height: 1080 })
    await fakeBackend(page, origin)
    await page.goto(`${origin}/display/`)
    await expectText(page, 'Start the display')
    await expectText(page, 'Preparing')
    await shot(page, 'display-signed-out')
    await axe(page, 'display sign-in')
    await page.context().close()
  })

  await check('display shows the QR code, the queue and live updates', async () => {
    const page = await newPage({ width: 1920, height: 1080 }, BARISTA)
    const backend = await fakeBackend(page, origin)
    await page.goto(`${origin}/display/`)
    await page.getByRole('img', { name: /QR code to order/ }).waitFor({ timeout: 10_000 })
    await expectText(page, '7 drinks left')
    await expectText(page, 'Chloé')
    await page.getByText('Live').first().waitFor({ timeout: 10_000 })
    backend.publish('serverlesspresso-admin-default', {
      type: 'OrderManager.OrderCompleted',
      detail: { ...order(2), state: 'completed', TS: Date.now(), Message: 'Completed.' },
    })
    backend.publish('serverlesspresso-admin-default', {
      type: 'Validator.NewOrder',
      detail: { eventId: 'default', orderId: 'order-x', userId: 'u', state: 'pending', bucket: { windowId: WINDOW_ID + 1, availableTokens: 6, tokensPerWindow: 10, validUntil: NOW + 600_000 } },
    })
    await expectText(page, '6 drinks left')
    await page.locator('.ready .row', { hasText: 'Chloé' }).waitFor({ timeout: 5000 })
    await shot(page, 'display-board')
    await axe(page, 'display board')
    await page.context().close()
  })

  await check('display shows a closed store instead of a code', async () => {
    const page = await newPage({ width: 1920, height: 1080 }, BARISTA)
    await fakeBackend(page, origin, { storeState: 'closed' })
    await page.goto(`${origin}/display/`)
    await expectText(page, 'Store closed')
    await shot(page, 'display-closed')
    await axe(page, 'display closed')
    await page.context().close()
  })

  await check('barista signs in on a sign-in screen', async () => {
    const page = await newPage({ width: 1280, height: 800 })
    await fakeBackend(page, origin)
    await page.goto(`${origin}/barista/`)
    await expectText(page, 'Barista sign-in')
    await shot(page, 'barista-sign-in')
    await axe(page, 'barista sign-in')
    await page.context().close()
  })

  await check('barista sees lanes, acts with undo and hears of new orders', async () => {
    const page = await newPage({ width: 1280, height: 800 }, BARISTA)
    const backend = await fakeBackend(page, origin)
    const actions = []
    page.on('request', (r) => {
      if (r.method() === 'PUT' && r.url().includes('action=')) actions.push(r.url())
    })
    await page.goto(`${origin}/barista/`)
    await expectText(page, 'In progress')
    await page.locator('#lane-new').waitFor()
    await page.getByText('Live').first().waitFor({ timeout: 10_000 })
    const card = page.locator('article', { hasText: '#43' })
    await card.getByRole('button', { name: 'Make' }).click()
    await page.getByRole('button', { name: /Undo Making #43/ }).waitFor()
    await shot(page, 'barista-undo')
    await page.getByRole('button', { name: /Undo Making #43/ }).click()
    if (actions.length) throw new Error(`undone action was sent: ${actions}`)
    backend.publish('serverlesspresso-admin-default', {
      type: 'OrderManager.WaitingCompletion',
      detail: { ...order(11), orderId: 'order-live', orderNumber: 50, displayName: 'Zoë', drinkOrder: drinkOrder(1), TS: Date.now() },
    })
    await page.locator('article', { hasText: '#50' }).waitFor({ timeout: 5000 })
    await shot(page, 'barista-queue')
    await axe(page, 'barista queue')
    await page.getByLabel('Group identical drinks').check()
    await page.getByText(/3 ×\s+Latte · Oat · Vanilla/).waitFor()
    await shot(page, 'barista-grouped')
    await axe(page, 'barista grouped')
    await page.getByRole('link', { name: 'Menu' }).click()
    await expectText(page, 'Switch off what has run out')
    await shot(page, 'barista-menu')
    await axe(page, 'barista menu')
    await page.context().close()
  })

  const phone = { width: 390, height: 844 }

  await check('order app welcomes a customer who has not scanned yet', async () => {
    const page = await newPage(phone)
    await fakeBackend(page, origin)
    await page.goto(`${origin}/order/`)
    await expectText(page, 'Scan the code on the screen')
    await shot(page, 'order-start')
    await axe(page, 'order start')
    await page.context().close()
  })

  await check('order app asks a scanning customer to sign in, keeping the code', async () => {
    const page = await newPage(phone)
    await fakeBackend(page, origin)
    await page.goto(`${origin}/order/?eventId=default&token=Xy7pQ2mN4v`)
    await expectText(page, 'Almost there')
    if (page.url().includes('token=')) throw new Error(`token left in the URL: ${page.url()}`)
    await page.getByLabel('Email').fill('ana@example.com')
    await page.getByLabel('First name').fill('Ana')
    await shot(page, 'order-sign-up')
    await axe(page, 'order sign-up')
    await page.getByRole('button', { name: 'Create account' }).click()
    await expectText(page, 'Check your email')
    await page.getByLabel('Code from the email').fill('123456')
    await shot(page, 'order-code')
    await axe(page, 'order code')
    await page.context().close()
  })

  await check('order app shows the menu after a scan, with sold-out items disabled', async () => {
    const page = await newPage(phone, CUSTOMER)
    await fakeBackend(page, origin)
    await page.goto(`${origin}/order/?eventId=default&token=Xy7pQ2mN4v`)
    await expectText(page, 'Choose your drink')
    if (!(await page.getByRole('radio', { name: /Cappuccino/ }).isDisabled())) throw new Error('sold-out drink is selectable')
    await page.getByText('Latte', { exact: true }).click()
    await page.locator('label.option', { hasText: 'Oat' }).click()
    await page.locator('label.option', { hasText: 'Vanilla' }).click()
    if (!(await page.getByRole('radio', { name: /Oat/ }).isChecked())) throw new Error('tapping Oat did not choose it')
    await expectText(page, 'Latte · Oat · Vanilla')
    await shot(page, 'order-menu')
    await axe(page, 'order menu')
    const submitted = page.waitForRequest((r) => r.method() === 'PUT' && r.url().endsWith('/api/orders/order-new'))
    await page.getByRole('button', { name: 'Place order' }).click()
    const body = (await submitted).postDataJSON()
    if (JSON.stringify(body) !== JSON.stringify({ drink: 'latte', modifiers: ['oat', 'vanilla'] })) throw new Error(`sent ${JSON.stringify(body)}`)
    await expectText(page, 'Order received')
    await shot(page, 'order-received')
    await page.context().close()
  })

  await check('order app explains an expired code', async () => {
    const page = await newPage(phone, CUSTOMER)
    await fakeBackend(page, origin)
    await page.goto(`${origin}/order/?eventId=default&token=expired`)
    await expectText(page, 'This QR code has expired')
    await shot(page, 'order-expired')
    await axe(page, 'order expired code')
    await page.context().close()
  })

  await check('order app follows the order live', async () => {
    const page = await newPage(phone, CUSTOMER)
    const placed = { ...order(3), orderId: 'order-new', userId: 'customer-1', displayName: 'Ana', queuePosition: 3, estimatedWaitSeconds: 260 }
    const backend = await fakeBackend(page, origin, { customerOrder: placed })
    await page.goto(`${origin}/order/#/orders/order-new`)
    await expectText(page, 'You are in the queue')
    await expectText(page, 'about 4 min')
    await shot(page, 'order-status')
    await axe(page, 'order status')
    await page.getByText('Live').first().waitFor({ timeout: 10_000 })
    const making = { ...placed, state: 'inProgress', baristaUserId: 'barista-1', updatedAt: Date.now(), queuePosition: 1, estimatedWaitSeconds: 90 }
    await page.route('**/api/orders/order-new', (r) => json(r, making))
    backend.publish('serverlesspresso-user-customer-1', {
      type: 'OrderManager.MakeOrder',
      detail: { ...making, TS: making.updatedAt, Message: 'A barista is making your drink.' },
    })
    await expectText(page, 'Your drink is being made')
    await shot(page, 'order-making')
    await page.getByRole('link', { name: /journey/ }).click()
    await expectText(page, 'Workflow Started')
    await shot(page, 'order-journey')
    await axe(page, 'order journey')
    await page.context().close()
  })
} finally {
  await browser?.close()
  preview.kill()
}

const passed = results.filter((r) => r.ok).length
const failed = results.length - passed
console.log(`\nscreenshots in ${artifacts}`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
