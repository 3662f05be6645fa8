// End-to-end journeys of the three apps against a real `presso serve`, in the system's Chromium.
//
// Nothing is faked: presso runs the project's template on a fresh data directory and serves the
// built apps (`npm run build` first), the API, Cognito (codes read from the dev outbox) and MQTT over
// WebSocket on one port. Three browser contexts stay open side by side — the display on a TV, the
// barista on a tablet, a customer on a small phone — and every step is checked where a person would
// see it. Requests are never intercepted.
//
// Scenarios, in order (each leaves the customer without an open order):
//   1. the order journey: scan, sign up, choose, queue, make, ready, on all three screens;
//   2. a drink the barista marks sold out is disabled on the phone; the barista cancels the order;
//   3. the customer cancels their own order;
//   4. presso restarts (SIGTERM, same port and data dir): the apps reconnect and follow again;
//   5. a closed store: the display says so and the order app refuses the scan;
//   6. an exhausted code: the display hides it and the customer is told why;
//   7. the QR window turns on presso's clock (`POST /_presso/clock`): the display shows the new code.
// Each main screen is checked with axe (serious and critical violations fail) and saved as a
// screenshot in e2e/artifacts/journey/ (emptied at every run), with presso's log.
//
// Run: `npm run build && npm run journey`. PRESSO_BIN (default ../target/debug/presso) and
// CHROMIUM_PATH (default /usr/bin/chromium) override the binaries.
import { spawn } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AxeBuilder } from '@axe-core/playwright'
import { chromium } from 'playwright-core'
import QRCode from 'qrcode'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const artifacts = join(here, 'artifacts', 'journey')
const dist = join(root, 'dist')
const template = resolve(root, '../template.yaml')
const PRESSO = resolve(root, process.env.PRESSO_BIN ?? '../target/debug/presso')
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
const BARISTA_EMAIL = 'barista@example.com'
const CUSTOMER_EMAIL = 'ana@example.com'
const CUSTOMER_NAME = 'Ana'
const EVENT = 'default'
/** The whole run must end well inside CI's patience. */
const RUN_DEADLINE_MS = 170_000
/** How long a screen may take to show a change that travels over the API and MQTT. */
const LIVE_MS = 8_000
/** A barista's tap is held 5 s for undo before it is sent: then it must show within LIVE_MS. */
const HELD_MS = 5_000 + LIVE_MS

const started = Date.now()
const watchdog = setTimeout(() => {
  console.error(`\nFAIL  the run took longer than ${RUN_DEADLINE_MS / 1000} s: stopping`)
  void shutdown().finally(() => process.exit(2))
}, RUN_DEADLINE_MS)

// ---------------------------------------------------------------------------------------------
// presso
// ---------------------------------------------------------------------------------------------

rmSync(artifacts, { recursive: true, force: true })
mkdirSync(artifacts, { recursive: true })
const pressoLog = createWriteStream(join(artifacts, 'presso.log'))
const dataDir = mkdtempSync(join(tmpdir(), 'presso-journey-'))

async function freePort() {
  return new Promise((done, fail) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => done(port))
    })
    s.on('error', fail)
  })
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** One presso process on a fixed port and data directory; `start` again after `stop` to restart. */
class Presso {
  constructor(port) {
    this.port = port
    this.origin = `http://127.0.0.1:${port}`
    this.child = null
  }

  /** Starts presso; a process that dies at once is tried again (its binary may be being replaced). */
  async start() {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce()
      } catch (error) {
        if (!error.exitedEarly || attempt >= 3) throw error
        console.log(`  ..    ${error.message}: starting it again`)
        await sleep(2000)
      }
    }
  }

  async startOnce() {
    // Another build may be replacing the binary right now: give it a moment to come back.
    for (let waited = 0; !existsSync(PRESSO); waited += 1000) {
      if (waited >= 60_000) throw new Error(`${PRESSO} does not exist: build presso (cargo build -p presso-local) or set PRESSO_BIN`)
      if (waited === 0) console.log(`  ..    waiting for ${PRESSO} to appear`)
      await sleep(1000)
    }
    const args = [
      'serve',
      '--template', template,
      '--static-dir', 'dist',
      '--port', String(this.port),
      '--data-dir', dataDir,
      '--parameter-overrides',
      `AdminEmail=${BARISTA_EMAIL}`,
      'SesIdentityArn=arn:aws:ses:us-east-1:000000000000:identity/example.com',
      'SesFromAddress=coffee@example.com',
    ]
    pressoLog.write(`\n===== ${new Date().toISOString()} ${PRESSO} ${args.join(' ')}\n`)
    const child = spawn(PRESSO, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
    this.child = child
    this.exited = new Promise((done) => {
      child.once('exit', (code, signal) => done({ code, signal }))
      child.once('error', (error) => done({ error: error.message }))
    })
    child.stdout.pipe(pressoLog, { end: false })
    child.stderr.pipe(pressoLog, { end: false })
    const deadline = Date.now() + 30_000
    for (;;) {
      const early = await Promise.race([this.exited, sleep(100).then(() => null)])
      if (early) {
        throw Object.assign(new Error(`presso exited during start-up (${JSON.stringify(early)}); see e2e/artifacts/journey/presso.log`), { exitedEarly: true })
      }
      try {
        const res = await fetch(`${this.origin}/config.json`)
        if (res.ok) return
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${this.origin}/config.json did not answer within 30 s`)
    }
  }

  /** Stops presso with `signal` and waits for it to exit (SIGKILL after 10 s). */
  async stop(signal = 'SIGTERM') {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return null
    child.kill(signal)
    const result = await Promise.race([this.exited, sleep(10_000).then(() => null)])
    if (result) return result
    child.kill('SIGKILL')
    return { ...(await this.exited), forced: true }
  }
}

// ---------------------------------------------------------------------------------------------
// Talking to presso from the test (set-up, checks and the dev endpoints)
// ---------------------------------------------------------------------------------------------

let presso
let runtime

async function request(method, path, { token, body } = {}) {
  const headers = {}
  if (token) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`${presso.origin}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  let json = null
  try {
    json = text ? JSON.parse(text) : null
  } catch {
    // not JSON
  }
  return { status: res.status, json, text }
}

/** `request`, expecting a 2xx answer; the error names the call and the answer otherwise. */
async function ok(method, path, options) {
  const res = await request(method, path, options)
  if (res.status < 200 || res.status > 299) throw new Error(`${method} ${path} answered ${res.status} ${res.text.slice(0, 300)}`)
  return res.json
}

async function cognito(operation, input) {
  const res = await fetch(runtime.cognitoEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityProviderService.${operation}` },
    body: JSON.stringify(input),
  })
  const json = await res.json()
  if (!res.ok) throw new Error(`Cognito ${operation} answered ${res.status} ${JSON.stringify(json)}`)
  return json
}

/** How many codes were sent to `email` so far. */
async function codesSent(email) {
  const outbox = await ok('GET', '/_presso/outbox')
  return outbox.filter((m) => m.to === email).length
}

/** The first code sent to `email` after `before` codes, waiting for it to arrive. */
async function nextCode(email, before) {
  const deadline = Date.now() + LIVE_MS
  for (;;) {
    const outbox = await ok('GET', '/_presso/outbox')
    const mine = outbox.filter((m) => m.to === email)
    if (mine.length > before) return mine[before].code
    if (Date.now() > deadline) throw new Error(`no code for ${email} in /_presso/outbox (it holds ${JSON.stringify(outbox)})`)
    await sleep(100)
  }
}

/** An ID token for the barista, for the admin calls the test makes itself. */
async function signInByApi(email) {
  const before = await codesSent(email)
  const challenge = await cognito('InitiateAuth', {
    AuthFlow: 'USER_AUTH',
    ClientId: runtime.userPoolClientId,
    AuthParameters: { USERNAME: email, PREFERRED_CHALLENGE: 'EMAIL_OTP' },
  })
  if (challenge.ChallengeName !== 'EMAIL_OTP') throw new Error(`InitiateAuth answered ${JSON.stringify(challenge)}`)
  const answer = await cognito('RespondToAuthChallenge', {
    ClientId: runtime.userPoolClientId,
    ChallengeName: 'EMAIL_OTP',
    Session: challenge.Session,
    ChallengeResponses: { USERNAME: email, EMAIL_OTP_CODE: await nextCode(email, before) },
  })
  const token = answer.AuthenticationResult?.IdToken
  if (!token) throw new Error(`RespondToAuthChallenge answered ${JSON.stringify(answer)}`)
  return token
}

/** The ID token a page is signed in with (the apps keep it in localStorage). */
async function pageToken(page) {
  const stored = await page.evaluate(() => localStorage.getItem('presso.auth'))
  const token = stored && JSON.parse(stored).idToken
  if (!token) throw new Error('the page is not signed in')
  return token
}

// ---------------------------------------------------------------------------------------------
// Checks and reporting
// ---------------------------------------------------------------------------------------------

const results = []
const notes = []

async function check(name, fn) {
  const t0 = Date.now()
  try {
    await fn()
    results.push({ name, ok: true })
    console.log(`  ok    ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
    return true
  } catch (error) {
    results.push({ name, ok: false })
    console.log(`  FAIL  ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
    for (const line of String(error?.stack ?? error).split('\n').slice(0, 6)) console.log(`        ${line}`)
    await Promise.all(Object.entries(pages).map(([who, p]) => p?.screenshot({ path: join(artifacts, `failed-${slug(name)}-${who}.png`) }).catch(() => undefined)))
    return false
  }
}

const slug = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60)

function fail(message) {
  throw new Error(message)
}

async function visible(locator, what, timeout = LIVE_MS) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout })
  } catch {
    fail(`${what}: not visible within ${timeout} ms`)
  }
}

async function gone(locator, what, timeout = LIVE_MS) {
  try {
    await locator.first().waitFor({ state: 'hidden', timeout })
  } catch {
    fail(`${what}: still visible after ${timeout} ms`)
  }
}

async function axe(page, label) {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze()
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  if (serious.length) {
    fail(`axe on ${label}: ${serious.map((v) => `${v.id} [${v.impact}] (${v.nodes.length}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`).join('; ')}`)
  }
}

/** A screenshot for a person to look at, and the axe check of the same screen. */
async function screen(page, name) {
  await page.waitForTimeout(300) // let entry transitions settle before the picture
  await page.screenshot({ path: join(artifacts, `${name}.png`) })
  await axe(page, name)
}

// ---------------------------------------------------------------------------------------------
// The apps, as people use them
// ---------------------------------------------------------------------------------------------

const pages = {}
let browser
let adminToken

/** Signs in through the shared sign-in panel with the code presso's outbox received. */
async function signInThroughUi(page, email, { givenName, shot } = {}) {
  const before = await codesSent(email)
  await page.getByLabel('Email', { exact: true }).fill(email)
  if (givenName) await page.getByLabel('First name').fill(givenName)
  if (shot) await screen(page, `${shot}-details`)
  await page.getByRole('button', { name: givenName ? 'Create account' : 'Email me a code' }).click()
  const codeField = page.getByLabel('Code from the email')
  await visible(codeField, `${email}: the code field`)
  const code = await nextCode(email, before)
  await codeField.fill(code)
  if (shot) await screen(page, `${shot}-code`)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await gone(codeField, `${email}: signing in with the emailed code`)
}

const badge = (page) => page.getByRole('status').filter({ hasText: /^(Live|Reconnecting…|Not connected|Offline)$/ })
const qrImage = (display) => display.getByRole('img', { name: /^QR code to order a drink: / })

/** The URL in the display's QR code (the image's text alternative carries it). */
async function displayedQrUrl(timeout = 25_000) {
  // The code hides in the last 15 s of its window; a new one follows.
  await visible(qrImage(pages.display), 'display: the QR code', timeout)
  const alt = await qrImage(pages.display).first().getAttribute('alt')
  const url = alt.replace(/^QR code to order a drink: /, '')
  const parsed = new URL(url)
  if (parsed.origin !== presso.origin || parsed.pathname !== '/order/' || parsed.searchParams.get('eventId') !== EVENT || !parsed.searchParams.get('token')) {
    fail(`display: the QR code points at ${url}, not at ${presso.origin}/order/?eventId=${EVENT}&token=…`)
  }
  // The picture itself must carry that URL: the same rendering as the display's (QrPanel.vue).
  const src = await qrImage(pages.display).first().getAttribute('src')
  const expected = await QRCode.toString(url, { type: 'svg', margin: 1, errorCorrectionLevel: 'M', color: { dark: '#24150e', light: '#ffffff' } })
  if (decodeURIComponent(src.replace(/^data:image\/svg\+xml;charset=utf-8,/, '')) !== expected) {
    fail(`display: the QR image does not encode ${url}, the URL its text alternative names`)
  }
  return url
}

const lane = (id) => pages.barista.locator('section.lane', { has: pages.barista.locator(`#lane-${id}`) })
const card = (laneId, orderNumber) => lane(laneId).getByRole('article', { name: `Order ${orderNumber} for ${CUSTOMER_NAME}` })
const column = (tone) => pages.display.locator(`section.column.${tone}`)
const boardRow = (tone, orderNumber) => column(tone).locator('li.row', { has: pages.display.locator('.number', { hasText: new RegExp(`^${orderNumber}$`) }) })

/** The customer opens a scanned URL and lands on the menu of a fresh order; returns its id. */
async function scanAndReachMenu(url) {
  const phone = pages.customer
  await phone.goto(url)
  await visible(phone.getByRole('heading', { name: 'Choose your drink' }), 'customer: the menu after the scan')
  const id = new URL(phone.url()).hash.match(/#\/orders\/([^/?]+)/)?.[1]
  if (!id) fail(`customer: the menu is not on an order's screen (${phone.url()})`)
  return id
}

/** Picks a drink (and options) on the phone and places the order; returns the order number. */
async function chooseAndPlace(drink, options = []) {
  const phone = pages.customer
  await phone.locator('label.drink', { hasText: drink }).click()
  for (const o of options) await phone.locator('label.option', { hasText: o }).click()
  await visible(phone.locator('.summary', { hasText: [drink, ...options].join(' · ') }), `customer: the basket shows ${drink}`)
  await phone.getByRole('button', { name: 'Place order' }).click()
  await visible(phone.getByRole('heading', { name: 'You are in the queue' }), 'customer: the order joins the queue')
  const number = (await phone.locator('.status .number').innerText()).trim()
  if (!/^\d+$/.test(number)) fail(`customer: the order number reads "${number}"`)
  return Number(number)
}

async function customerSees(heading, explanation) {
  const phone = pages.customer
  await visible(phone.getByRole('heading', { name: heading }), `customer: "${heading}"`, HELD_MS)
  if (explanation) await visible(phone.getByText(explanation), `customer: "${explanation}"`)
}

/** The barista taps `button` on an order's card and lets the undo window pass. */
async function baristaTaps(laneId, orderNumber, button) {
  const c = card(laneId, orderNumber)
  await visible(c, `barista: order #${orderNumber} in the ${laneId} lane`)
  await c.getByRole('button', { name: button, exact: true }).click()
  await visible(pages.barista.getByRole('button', { name: new RegExp(`^Undo .*#${orderNumber}`) }), `barista: the undo offer for #${orderNumber}`)
}

/** Cancels whatever the customer still has open (after a failed step), so the next scenario can scan. */
async function tidyCustomerOrders() {
  if (!pages.customer || !adminToken) return
  let token
  try {
    token = await pageToken(pages.customer)
  } catch {
    return
  }
  const mine = await request('GET', '/api/myOrders', { token })
  for (const o of mine.json ?? []) {
    if (['pending', 'submitted', 'queued', 'inProgress'].includes(o.state)) {
      const res = await request('PUT', `/api/orders/${o.orderId}?action=cancel`, { token: o.state === 'inProgress' ? adminToken : token })
      notes.push(`tidied order ${o.orderId} (${o.state}) left open by a failed step: ${res.status}`)
    }
  }
}

async function ensureStoreOpen() {
  if (!adminToken) return
  const config = await request('GET', `/api/events/${EVENT}/config`)
  if (config.json?.storeState !== 'open') await request('PUT', `/api/events/${EVENT}/store`, { token: adminToken, body: { state: 'open' } })
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

async function shutdown() {
  clearTimeout(watchdog)
  await browser?.close().catch(() => undefined)
  await presso?.stop('SIGTERM').catch(() => undefined)
  pressoLog.end()
  rmSync(dataDir, { recursive: true, force: true })
}

const pageErrors = []
process.once('SIGINT', () => void shutdown().finally(() => process.exit(130)))

async function main() {
  if (!existsSync(join(dist, 'display/index.html')) || !existsSync(join(dist, 'order/index.html')) || !existsSync(join(dist, 'barista/index.html'))) {
    fail(`${dist} has no built apps: run \`npm run build\` first`)
  }
  presso = new Presso(await freePort())
  await presso.start()
  runtime = await ok('GET', '/config.json')
  console.log(`presso at ${presso.origin} (data in ${dataDir})`)

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS })
  async function open(who, viewport) {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1, reducedMotion: 'reduce' })
    const page = await context.newPage()
    page.on('pageerror', (e) => pageErrors.push(`${who}: ${e.message}`))
    pages[who] = page
    return page
  }
  const display = await open('display', { width: 1600, height: 900 })
  const barista = await open('barista', { width: 1180, height: 820 })
  const phone = await open('customer', { width: 375, height: 667 })

  // The test's own admin session, before the apps sign in (each sign-in reads the next code).
  adminToken = await signInByApi(BARISTA_EMAIL)

  await check('a fresh presso answers the display\'s GET /api/qr-code (the default event is seeded at start-up)', async () => {
    // Before anything asked for the event's configuration: the design seeds `default` on first start.
    const res = await request('GET', `/api/qr-code?eventId=${EVENT}`, { token: adminToken })
    if (res.status !== 200) fail(`GET /api/qr-code?eventId=${EVENT} answered ${res.status} ${res.text}; expected 200 {bucket, storeState}`)
  })

  let signedIn = await check('barista signs in with an emailed code and sees the empty lanes', async () => {
    await barista.goto(`${presso.origin}/barista/`)
    await visible(barista.getByRole('heading', { name: 'Barista sign-in' }), 'barista: the sign-in screen')
    await screen(barista, 'barista-sign-in')
    await signInThroughUi(barista, BARISTA_EMAIL)
    await visible(barista.locator('#lane-new'), 'barista: the New lane')
    await visible(barista.getByText('No new orders. Time for a sip.'), 'barista: an empty New lane')
    await visible(badge(barista).filter({ hasText: 'Live' }), 'barista: the connection badge says Live')
    const open = barista.getByRole('radio', { name: 'Open' })
    await visible(open, 'barista: the store switch')
    if ((await open.getAttribute('aria-checked')) !== 'true') {
      await open.click()
      await visible(barista.locator('[role=radio][aria-checked=true]', { hasText: 'Open' }), 'barista: the store opens')
    }
    await screen(barista, 'barista-queue-empty')
  })

  signedIn &&= await check('display signs in as a barista and shows the QR code of the current window', async () => {
    await display.goto(`${presso.origin}/display/`)
    await visible(display.getByRole('heading', { name: 'Start the display' }), 'display: the sign-in gate')
    await screen(display, 'display-sign-in')
    await signInThroughUi(display, BARISTA_EMAIL)
    const url = await displayedQrUrl()
    const view = await ok('GET', `/api/qr-code?eventId=${EVENT}`, { token: adminToken })
    if (new URL(url).searchParams.get('token') !== view.bucket.code) fail(`display shows code ${url}, the API's current code is ${view.bucket.code}`)
    await visible(display.locator('.left', { hasText: `${view.bucket.availableTokens} drinks left` }), `display: "${view.bucket.availableTokens} drinks left"`)
    await visible(display.getByText(/Scan within \d:\d\d/), 'display: the countdown')
    await visible(badge(display).filter({ hasText: 'Live' }), 'display: the connection badge says Live')
    await screen(display, 'display-board-empty')
  })
  if (!signedIn) return

  // 1. The journey ----------------------------------------------------------------------------
  let journeyNumber
  await check('journey: the customer scans, signs up, orders; the barista makes and completes it; phone and display follow', async () => {
    const url = await displayedQrUrl()
    await phone.goto(url)
    await visible(phone.getByRole('heading', { name: 'Almost there' }), 'customer: asked to sign in after the scan')
    if (phone.url().includes('token=')) fail(`customer: the scanned code stays in the address bar: ${phone.url()}`)
    await signInThroughUi(phone, CUSTOMER_EMAIL, { givenName: CUSTOMER_NAME, shot: 'order-sign-up' })
    await visible(phone.getByRole('heading', { name: 'Choose your drink' }), 'customer: the menu after signing in')
    await visible(phone.getByText(`Hi ${CUSTOMER_NAME}`), 'customer: greeted by first name')
    const cappuccino = phone.getByRole('radio', { name: /Cappuccino/ })
    if (!(await cappuccino.isDisabled())) fail('customer: Cappuccino (sold out in the seeded menu) can be chosen')
    await visible(phone.getByText(/Please choose within \d:\d\d/), 'customer: the time left to choose')
    await screen(phone, 'order-menu')
    const view = await ok('GET', `/api/qr-code?eventId=${EVENT}`, { token: adminToken })
    await visible(display.locator('.left', { hasText: new RegExp(`^${view.bucket.availableTokens} drinks? left`) }), `display: the scan leaves "${view.bucket.availableTokens} drinks left"`)

    journeyNumber = await chooseAndPlace('Flat White', ['Oat'])
    await visible(phone.getByText('Flat White · Oat'), 'customer: the chosen drink')
    await visible(phone.locator('dl.queue dd', { hasText: 'Next' }), 'customer: position "Next" in an otherwise empty queue')
    await screen(phone, 'order-queued')

    await visible(card('new', journeyNumber), `barista: #${journeyNumber} arrives in the New lane`)
    await visible(card('new', journeyNumber).getByText('Flat White'), 'barista: the card names the drink')
    await visible(boardRow('preparing', journeyNumber).getByText(CUSTOMER_NAME), `display: ${CUSTOMER_NAME} under Preparing`)
    await screen(barista, 'barista-queue')
    await screen(display, 'display-board')

    await baristaTaps('new', journeyNumber, 'Make')
    await screen(barista, 'barista-undo')
    await customerSees('Your drink is being made', 'A barista is making it now.')
    await visible(card('progress', journeyNumber).getByText('Made by'), `barista: #${journeyNumber} in progress`)
    await visible(boardRow('preparing', journeyNumber).getByText('being made'), 'display: "being made"')
    await screen(phone, 'order-making')
    await screen(display, 'display-board-making')

    await baristaTaps('progress', journeyNumber, 'Ready')
    await customerSees('Ready for pickup!', 'Collect it at the bar. Enjoy!')
    await visible(boardRow('ready', journeyNumber).getByText(CUSTOMER_NAME), `display: ${CUSTOMER_NAME} under Ready for pickup`)
    await gone(boardRow('preparing', journeyNumber), `display: #${journeyNumber} leaves Preparing`)
    await visible(card('ready', journeyNumber), `barista: #${journeyNumber} in the Ready lane`)
    await screen(phone, 'order-ready')
    await screen(display, 'display-board-ready')
    await screen(barista, 'barista-ready')

    await phone.getByRole('link', { name: "See the order's journey" }).click()
    await visible(phone.getByRole('heading', { name: "Your order's journey" }), "customer: the order's journey")
    const steps = ['New Order', 'Workflow Started', 'Order Submitted', 'Make Order', 'Order Completed']
    let seen = []
    for (const deadline = Date.now() + LIVE_MS; ; await sleep(250)) {
      seen = await phone.locator('.timeline li .head strong').allInnerTexts()
      let i = 0
      for (const title of seen) if (title === steps[i]) i++
      if (i === steps.length) break
      if (Date.now() > deadline) fail(`customer: the journey lists ${JSON.stringify(seen)}; expected ${JSON.stringify(steps)} in this order among them`)
      await phone.reload()
    }
    await screen(phone, 'order-journey')
  })
  await tidyCustomerOrders()

  // 2. Sold out, and a cancel by the barista ---------------------------------------------------
  await check('sold out: a drink the barista switches off is disabled on the phone; the barista cancels the order', async () => {
    await barista.getByRole('link', { name: 'Menu' }).click()
    const flatWhite = barista.locator('li.drink', { hasText: 'Flat White' }).getByRole('switch')
    await visible(flatWhite, 'barista: the Flat White switch')
    await flatWhite.uncheck()
    await visible(barista.locator('li.drink', { hasText: 'Flat White' }).getByText('Sold out'), 'barista: Flat White shows sold out')
    await screen(barista, 'barista-menu')

    await scanAndReachMenu(await displayedQrUrl())
    const radio = phone.getByRole('radio', { name: /Flat White/ })
    await visible(phone.locator('label.drink', { hasText: 'Flat White' }).getByText('Sold out'), 'customer: Flat White marked sold out')
    if (!(await radio.isDisabled())) fail('customer: the sold-out Flat White can be chosen')
    await screen(phone, 'order-menu-sold-out')

    // Back on while the customer looks: the phone follows without a reload.
    await flatWhite.check()
    await visible(barista.locator('li.drink', { hasText: 'Flat White' }).getByText('Available'), 'barista: Flat White available again')
    try {
      await phone.waitForFunction(() => !document.querySelector('input[type=radio][value="flat-white"]')?.disabled, null, { timeout: LIVE_MS })
    } catch {
      fail('customer: Flat White stays disabled after the barista switched it back on')
    }

    const number = await chooseAndPlace('Americano')
    await barista.getByRole('link', { name: 'Orders' }).click()
    await baristaTaps('new', number, 'Cancel')
    await customerSees('Order cancelled', 'The bar cancelled this order.')
    await gone(card('new', number), `barista: #${number} leaves the New lane`)
    await gone(boardRow('preparing', number), `display: #${number} leaves Preparing`)
    await screen(phone, 'order-cancelled-by-barista')
  })
  await tidyCustomerOrders()

  // 3. A cancel by the customer ----------------------------------------------------------------
  await check('cancel by the customer: the phone shows it cancelled and the barista loses the card', async () => {
    await scanAndReachMenu(await displayedQrUrl())
    const number = await chooseAndPlace('Double Espresso')
    await visible(card('new', number), `barista: #${number} arrives`)
    await phone.getByRole('button', { name: 'Cancel order' }).click()
    await visible(phone.getByText('Cancel this order?'), 'customer: asked to confirm the cancel')
    await phone.getByRole('button', { name: 'Yes, cancel' }).click()
    await customerSees('Order cancelled', 'Nothing more to do.')
    await gone(card('new', number), `barista: #${number} leaves the New lane`)
    await gone(boardRow('preparing', number), `display: #${number} leaves Preparing`)
    await screen(phone, 'order-cancelled-by-customer')
  })
  await tidyCustomerOrders()

  // 4. presso restarts -------------------------------------------------------------------------
  await check('reconnect: after presso restarts on the same port and data, the apps reconnect and follow the order again', async () => {
    await scanAndReachMenu(await displayedQrUrl())
    const number = await chooseAndPlace('Single Espresso')
    const orderId = new URL(phone.url()).hash.match(/#\/orders\/([^/?]+)/)[1]
    await visible(card('new', number), `barista: #${number} arrives`)
    await visible(boardRow('preparing', number), `display: #${number} under Preparing`)

    const exit = await presso.stop('SIGTERM')
    if (exit?.forced) fail('presso did not exit within 10 s of SIGTERM')
    notes.push(`presso exited on SIGTERM with ${JSON.stringify(exit)}`)
    for (const who of ['display', 'barista', 'customer']) {
      await visible(badge(pages[who]).filter({ hasText: /Reconnecting…|Offline|Not connected/ }), `${who}: shows the lost connection`)
    }
    await screen(barista, 'barista-reconnecting')
    await presso.start()
    // A change made before the apps are back: only their resync after the reconnect can show it.
    await ok('PUT', `/api/orders/${orderId}?action=make`, { token: adminToken })
    for (const who of ['display', 'barista', 'customer']) {
      await visible(badge(pages[who]).filter({ hasText: 'Live' }), `${who}: live again after the restart`, 20_000)
    }
    await customerSees('Your drink is being made')
    await visible(card('progress', number), `barista: #${number} in progress after the restart`)
    await visible(boardRow('preparing', number).getByText('being made'), `display: #${number} being made after the restart`)
    await baristaTaps('progress', number, 'Ready')
    await customerSees('Ready for pickup!')
    await visible(boardRow('ready', number), `display: #${number} ready`)
    await displayedQrUrl()
  })
  await tidyCustomerOrders()

  // 5. A closed store --------------------------------------------------------------------------
  await check('closed store: the display shows it closed and the order app refuses the scan', async () => {
    const url = await displayedQrUrl()
    await barista.getByRole('radio', { name: 'Close' }).click()
    await visible(barista.locator('[role=radio][aria-checked=true]', { hasText: 'Close' }), 'barista: the store switch shows Close')
    await visible(display.getByRole('heading', { name: 'Store closed' }), 'display: "Store closed"')
    await gone(qrImage(display), 'display: the QR code while closed')
    await screen(display, 'display-closed')
    await phone.goto(url)
    await visible(phone.getByRole('alert').filter({ hasText: 'The coffee bar is closed' }), 'customer: the scan is refused as closed')
    await visible(phone.getByRole('heading', { name: 'The coffee bar is closed' }), 'customer: the closed notice')
    if (/#\/orders\//.test(phone.url())) fail(`customer: an order screen opened while closed: ${phone.url()}`)
    await screen(phone, 'order-closed')
    await barista.getByRole('radio', { name: 'Open' }).click()
    await visible(barista.locator('[role=radio][aria-checked=true]', { hasText: 'Open' }), 'barista: the store switch shows Open')
    await displayedQrUrl(LIVE_MS)
    await gone(phone.getByRole('heading', { name: 'The coffee bar is closed' }), 'customer: the closed notice after the store reopened')
  })
  await ensureStoreOpen()
  await tidyCustomerOrders()

  // 6. An exhausted code -----------------------------------------------------------------------
  await check('exhausted code: the display hides it and the customer is told no drinks are left', async () => {
    let view = await ok('GET', `/api/qr-code?eventId=${EVENT}`, { token: adminToken })
    // The code must not turn while the test uses it up (windows follow the clock).
    const left = view.bucket.endTs - (await ok('GET', '/_presso/clock')).nowMs
    if (left < 30_000) {
      notes.push(`waited ${Math.ceil(left / 1000)} s for a fresh QR window before exhausting one`)
      await sleep(left + 1000)
      view = await ok('GET', `/api/qr-code?eventId=${EVENT}`, { token: adminToken })
    }
    const url = await displayedQrUrl()
    const code = new URL(url).searchParams.get('token')
    if (code !== view.bucket.code) fail(`display shows ${code}, the API's current code is ${view.bucket.code}`)
    // Other people take the remaining drinks (the customer's own scans, each cancelled at once).
    const token = await pageToken(phone)
    for (let i = 0; i < 50; i++) {
      const res = await request('POST', `/api/qr-code?eventId=${EVENT}&token=${encodeURIComponent(code)}`, { token })
      if (res.json?.code === 'no_tokens_remaining') break
      if (res.status !== 200 || !res.json?.orderId) fail(`POST /api/qr-code answered ${res.status} ${res.text} while using up the code`)
      await ok('PUT', `/api/orders/${res.json.orderId}?action=cancel`, { token })
    }
    await visible(display.getByRole('heading', { name: 'All drinks for this round are taken' }), 'display: the exhausted code is replaced by "All drinks for this round are taken"')
    await gone(qrImage(display), 'display: the exhausted QR code')
    await screen(display, 'display-sold-out')
    await phone.goto(url)
    await visible(phone.getByRole('alert').filter({ hasText: 'No drinks left for this code' }), 'customer: "No drinks left for this code"')
    if (/#\/orders\//.test(phone.url())) fail(`customer: an order screen opened for an exhausted code: ${phone.url()}`)
    await screen(phone, 'order-no-drinks-left')
  })
  await tidyCustomerOrders()

  // 7. The QR window turns on presso's clock ---------------------------------------------------
  await check('QR window: after POST /_presso/clock moves past the window, the API and the display give the next code', async () => {
    const config = await ok('PUT', `/api/events/${EVENT}/config`, { token: adminToken, body: { drinksPerBarcode: 3 } })
    if (config.drinksPerBarcode !== 3) fail(`PUT /api/events/${EVENT}/config {"drinksPerBarcode":3} answered drinksPerBarcode ${config.drinksPerBarcode}`)
    const before = (await ok('GET', `/api/qr-code?eventId=${EVENT}`, { token: adminToken })).bucket
    const clock = await ok('GET', '/_presso/clock')
    // Past the window and its 15 s of grace, into the next one.
    const advanceSeconds = Math.ceil((before.endTs - clock.nowMs) / 1000) + 20
    const moved = await ok('POST', '/_presso/clock', { body: { advanceSeconds } })
    const after = (await ok('GET', `/api/qr-code?eventId=${EVENT}`, { token: adminToken })).bucket
    if (after.windowId === before.windowId) {
      fail(
        `POST /_presso/clock {"advanceSeconds": ${advanceSeconds}} moved the clock to ${new Date(moved.nowMs).toISOString()}, ` +
          `but GET /api/qr-code still answers window ${before.windowId} (${new Date(before.startTs).toISOString()}–${new Date(before.endTs).toISOString()}, code ${before.code}); ` +
          `expected window ${before.windowId + 1} with a new code and tokensPerWindow 3`,
      )
    }
    if (after.code === before.code) fail(`the next window kept the code ${before.code}`)
    if (after.tokensPerWindow !== 3 || after.availableTokens !== 3) fail(`the new window has ${after.availableTokens}/${after.tokensPerWindow} drinks; expected 3/3 after drinksPerBarcode 3`)
    // The display re-reads its code periodically: it must replace the old one without a reload.
    try {
      await display.waitForFunction(
        (code) => [...document.querySelectorAll('img')].some((i) => i.alt.includes(`token=${code}`)),
        after.code,
        { timeout: 25_000 },
      )
    } catch {
      fail(`display: still not showing the new window's code ${after.code} 25 s after the clock moved`)
    }
    await visible(display.locator('.left', { hasText: /^3 drinks left/ }), 'display: "3 drinks left" for the new window')
    await screen(display, 'display-next-window')
  })

  await check('no uncaught errors in the apps', async () => {
    if (pageErrors.length) fail(pageErrors.join('\n'))
  })
}

let fatal = null
try {
  await main()
} catch (error) {
  fatal = error
  console.log(`  FAIL  the run stopped: ${String(error?.stack ?? error).split('\n').slice(0, 6).join('\n        ')}`)
} finally {
  await shutdown()
}

const passed = results.filter((r) => r.ok).length
const failed = results.length - passed + (fatal ? 1 : 0)
for (const n of notes) console.log(`  note  ${n}`)
console.log(`\nscreenshots and presso.log in ${artifacts}`)
console.log(`${passed} passed, ${failed} failed in ${((Date.now() - started) / 1000).toFixed(1)} s`)
process.exit(failed ? 1 : 0)
