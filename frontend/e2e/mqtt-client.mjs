// presso's realtime broker driven by the real mqtt.js client the apps use (MQTT 3.1.1 over
// WebSocket at /mqtt, the user pool's ID token as the CONNECT password):
//
// - anonymous, customer and barista clients connect; each SUBSCRIBE filter is granted or refused
//   (SUBACK 0x80) exactly as the ACL in presso-core (`acl.rs`) says;
// - a client's PUBLISH is refused: the broker closes that connection (as IoT Core does) and no
//   subscriber ever receives the message;
// - forged, tampered, foreign-issuer, garbage and (on presso's clock) expired tokens get CONNACK 5;
// - a message published server-side through the IoT data plane (`POST /topics/{topic}?qos=1`, as
//   `aws iot-data publish` sends it) reaches the customer's subscription byte for byte, and only it.
//
// Run: `cd frontend && node e2e/mqtt-client.mjs` (or `npm run mqtt-client`). It starts
// `${PRESSO_BIN:-../target/debug/presso} serve --template ../template.yaml --in-memory` on a free
// port and stops it at the end. Exits non-zero if any check fails.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createSign, generateKeyPairSync, createHmac, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import mqtt from 'mqtt'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..') // frontend/
const PRESSO_BIN = resolve(root, process.env.PRESSO_BIN ?? '../target/debug/presso')
const WAIT_MS = 5_000 // how long any one MQTT exchange may take
const QUIET_MS = 400 // how long we listen for a message that must not arrive
const DEADLINE_MS = 28_000 // the whole run

const started = Date.now()
const watchdog = setTimeout(() => {
  console.error(`\nFAIL: the run took longer than ${DEADLINE_MS / 1000} s; stopping.`)
  printPressoLog()
  stopPresso()
  process.exit(1)
}, DEADLINE_MS)
watchdog.unref()

// ---------------------------------------------------------------------------------------------
// presso
// ---------------------------------------------------------------------------------------------

let presso = null
const pressoLog = []
let base = ''
let port = 0

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer()
    server.unref()
    server.on('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => ok(port))
    })
  })
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms))

async function startPresso() {
  // The binary may be missing for a moment while it is being rebuilt: wait for it.
  for (let waited = 0; !existsSync(PRESSO_BIN); waited += 250) {
    if (waited >= 15_000) throw new Error(`no presso binary at ${PRESSO_BIN} (set PRESSO_BIN or build it)`)
    await sleep(250)
  }
  for (let attempt = 1; ; attempt++) {
    port = await freePort()
    base = `http://127.0.0.1:${port}`
    const child = spawn(
      PRESSO_BIN,
      [
        'serve',
        '--template', '../template.yaml',
        '--port', String(port),
        '--in-memory',
        '--parameter-overrides',
        'AdminEmail=barista@example.com',
        'SesIdentityArn=arn:aws:ses:us-east-1:000000000000:identity/example.com',
        'SesFromAddress=coffee@example.com',
      ],
      { cwd: root, env: { ...process.env, NO_COLOR: '1', RUST_LOG: process.env.RUST_LOG ?? 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    presso = child
    let exited = null
    child.on('exit', (code, signal) => (exited = { code, signal }))
    child.on('error', (e) => (exited = { error: e.code ?? e.message }))
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding('utf8')
      stream.on('data', (chunk) => {
        pressoLog.push(...chunk.split('\n').filter(Boolean))
        if (pressoLog.length > 400) pressoLog.splice(0, pressoLog.length - 400)
      })
    }
    // Ask for /config.json only once our child says it listens on this port, so a stranger that
    // took the port in the meantime is never mistaken for it.
    const listening = () => pressoLog.some((l) => l.includes(`accepting requests on ${base}`))
    for (let waited = 0; waited < 10_000; waited += 50) {
      if (exited) break
      if (listening()) {
        try {
          const res = await fetch(`${base}/config.json`)
          if (res.ok) return await res.json()
        } catch {
          // not answering yet
        }
      }
      await sleep(50)
    }
    if (exited?.error === 'ENOENT' || exited?.error === 'ETXTBSY') {
      if (attempt < 20) {
        await sleep(500) // the binary vanished mid-rebuild
        continue
      }
    } else if (exited && attempt < 3 && pressoLog.some((l) => l.includes('Address already in use'))) {
      continue // lost the race for the port
    }
    stopPresso()
    throw new Error(
      exited
        ? `presso exited before serving /config.json (${JSON.stringify(exited)})`
        : `presso did not serve ${base}/config.json within 10 s`,
    )
  }
}

function stopPresso() {
  if (presso && presso.exitCode === null && presso.signalCode === null) presso.kill('SIGKILL')
}
process.on('exit', stopPresso)
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopPresso()
    process.exit(1)
  })
}

function printPressoLog() {
  if (!pressoLog.length) return
  console.error('\n--- last lines of presso\'s log ---')
  for (const line of pressoLog.slice(-40)) console.error(line)
  console.error('--- end of presso\'s log ---')
}

// ---------------------------------------------------------------------------------------------
// Cognito (AWS JSON 1.1) and the dev endpoints
// ---------------------------------------------------------------------------------------------

async function cognito(op, body) {
  const res = await fetch(`${base}/`, {
    method: 'POST',
    headers: {
      'X-Amz-Target': `AWSCognitoIdentityProviderService.${op}`,
      'Content-Type': 'application/x-amz-json-1.1',
    },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`Cognito ${op}: HTTP ${res.status} ${text}`)
  return text ? JSON.parse(text) : {}
}

const PASSWORD = 'Correct-Horse-Battery-9!'

async function signIn(pool, clientId, email, { admin = false } = {}) {
  await cognito('AdminCreateUser', {
    UserPoolId: pool,
    Username: email,
    MessageAction: 'SUPPRESS',
    UserAttributes: [
      { Name: 'email', Value: email },
      { Name: 'email_verified', Value: 'true' },
    ],
  })
  await cognito('AdminSetUserPassword', { UserPoolId: pool, Username: email, Password: PASSWORD, Permanent: true })
  if (admin) await cognito('AdminAddUserToGroup', { UserPoolId: pool, Username: email, GroupName: 'admin' })
  const auth = await cognito('AdminInitiateAuth', {
    UserPoolId: pool,
    ClientId: clientId,
    AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
    AuthParameters: { USERNAME: email, PASSWORD },
  })
  const token = auth.AuthenticationResult?.IdToken
  assert.ok(token, `AdminInitiateAuth for ${email} returned no IdToken: ${JSON.stringify(auth)}`)
  const claims = jwtClaims(token)
  assert.ok(claims.sub, `the ID token of ${email} has no sub`)
  return { email, token, sub: claims.sub, claims }
}

async function advanceClock(seconds) {
  const res = await fetch(`${base}/_presso/clock`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ advanceSeconds: seconds }),
  })
  assert.ok(res.ok, `POST /_presso/clock: HTTP ${res.status} ${await res.text()}`)
}

/** The IoT data plane's Publish, as `aws iot-data publish --topic T --qos Q --payload P` sends it. */
async function iotPublish(topic, payload, qos = 1) {
  const res = await fetch(`${base}/topics/${encodeURIComponent(topic)}?qos=${qos}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: payload,
  })
  assert.equal(res.status, 200, `IoT data Publish to ${topic}: HTTP ${res.status} ${await res.text()}`)
}

// ---------------------------------------------------------------------------------------------
// JWTs
// ---------------------------------------------------------------------------------------------

const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
const jwtClaims = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'))
const jwtHeader = (token) => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'))

const forgerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey

/** An RS256 token signed by a key presso never saw. */
function selfSigned(header, claims) {
  const input = `${b64url({ alg: 'RS256', typ: 'JWT', ...header })}.${b64url(claims)}`
  const signature = createSign('RSA-SHA256').update(input).sign(forgerKey).toString('base64url')
  return `${input}.${signature}`
}

// ---------------------------------------------------------------------------------------------
// MQTT (connection options as frontend/src/lib/realtime/mqttClient.ts and connection.ts set them)
// ---------------------------------------------------------------------------------------------

const clients = new Set()
let clientSeq = 0

function mqttOptions(token) {
  const options = {
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: WAIT_MS,
    keepalive: 30,
    clientId: `serverlesspresso-e2e-${process.pid}-${++clientSeq}`,
    resubscribe: false,
  }
  if (token !== undefined) {
    options.username = 'jwt'
    options.password = token
  }
  return options
}

/**
 * Connects; resolves with the client after CONNACK 0, rejects with mqtt.js's error otherwise
 * (a refused CONNACK is an error whose `code` is the return code).
 */
function connect(token, label) {
  return new Promise((ok, fail) => {
    const client = mqtt.connect(`ws://127.0.0.1:${port}/mqtt`, mqttOptions(token))
    clients.add(client)
    client.label = label
    client.received = []
    client.closedByServer = false
    client.on('message', (topic, payload, packet) => client.received.push({ topic, payload, qos: packet.qos }))
    client.on('close', () => {
      if (!client.endingByUs) client.closedByServer = true
    })
    const timer = setTimeout(() => done(new Error(`${label}: no CONNACK within ${WAIT_MS} ms`)), WAIT_MS)
    let settled = false
    function done(error) {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (error) {
        client.endingByUs = true
        client.end(true)
        fail(error)
      } else ok(client)
    }
    client.once('connect', () => done())
    client.on('error', (error) => done(error))
    client.once('close', () => done(new Error(`${label}: the connection closed before CONNACK`)))
  })
}

/** Connects expecting a refusal; returns the CONNACK return code (0 if the broker accepted it). */
async function refusedCode(token, label) {
  let client
  try {
    client = await connect(token, label)
  } catch (error) {
    if (typeof error.code === 'number') return error.code
    throw new Error(`${label}: expected CONNACK 5, got a connection failure: ${error.message}`)
  }
  end(client)
  return 0 // accepted
}

/** Subscribes at QoS 1; returns the SUBACK return codes in order (1 = granted at QoS 1, 128 = refused). */
function subscribe(client, topics) {
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${client.label}: no SUBACK within ${WAIT_MS} ms for ${topics}`)), WAIT_MS)
    client.subscribe(topics, { qos: 1 }, (error, _subs, packet) => {
      clearTimeout(timer)
      // mqtt.js v5 reports a refused entry as an error, with the SUBACK packet attached.
      const granted = packet?.granted ?? error?.packet?.granted
      if (!granted) fail(new Error(`${client.label}: SUBSCRIBE ${topics} failed: ${error?.message}`))
      else ok(granted)
    })
  })
}

/**
 * SUBSCRIBE written by mqtt.js's packet writer without its client-side filter check, for filters
 * mqtt.js will not send (`serverlesspresso-user-+`: a `+` that is not a whole level). A hostile
 * client need not run mqtt.js's checks, so the broker must refuse these itself.
 */
function rawSubscribe(client, topics) {
  return new Promise((ok, fail) => {
    const messageId = client._nextId()
    const timer = setTimeout(() => {
      client.off('packetreceive', onPacket)
      fail(new Error(`${client.label}: no SUBACK within ${WAIT_MS} ms for ${topics} (connected: ${client.connected})`))
    }, WAIT_MS)
    function onPacket(packet) {
      if (packet.cmd !== 'suback' || packet.messageId !== messageId) return
      clearTimeout(timer)
      client.off('packetreceive', onPacket)
      ok(packet.granted)
    }
    client.on('packetreceive', onPacket)
    client._sendPacket({ cmd: 'subscribe', messageId, subscriptions: topics.map((topic) => ({ topic, qos: 1 })) })
  })
}

/** Filters mqtt.js refuses to send ("Invalid topic"); they go through `rawSubscribe`. */
const clientSideInvalid = (topic) => /(?:[^/]\+|\+[^/]|[^/]#|#.)/.test(topic)

function end(client) {
  client.endingByUs = true
  client.end(true)
  clients.delete(client)
}

async function until(what, predicate, ms = WAIT_MS) {
  for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
    if (predicate()) return
    await sleep(10)
  }
  assert.fail(`timed out after ${ms} ms waiting for ${what}`)
}

/** Asserts the SUBACK codes, naming each filter in the message. */
async function expectSuback(client, expected) {
  const topics = Object.keys(expected)
  const valid = topics.filter((t) => !clientSideInvalid(t))
  const invalid = topics.filter(clientSideInvalid)
  const codes = new Map()
  ;(await subscribe(client, valid)).forEach((code, i) => codes.set(valid[i], code))
  if (invalid.length) (await rawSubscribe(client, invalid)).forEach((code, i) => codes.set(invalid[i], code))
  const granted = topics.map((t) => codes.get(t))
  const got = Object.fromEntries(topics.map((t, i) => [t, granted[i]]))
  const want = Object.fromEntries(topics.map((t) => [t, expected[t] === 'granted' ? 1 : 128]))
  assert.deepEqual(got, want, `${client.label}: SUBACK return codes per filter (1 = granted at QoS 1, 128 = refused)`)
  assert.ok(client.connected, `${client.label}: still connected after a refused subscription`)
}

// ---------------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------------

const checks = []
const check = (name, fn) => checks.push({ name, fn })

const CONFIG = 'serverlesspresso-config-default'
const ADMIN = 'serverlesspresso-admin-default'
const userTopic = (sub) => `serverlesspresso-user-${sub}`
const ctx = {}

check('presso serves /config.json and its pool signs users in through the robot client', async () => {
  const config = await startPresso()
  ctx.config = config
  assert.ok(config.userPoolId && config.userPoolClientId, `config.json names the pool and client: ${JSON.stringify(config)}`)
  assert.equal(config.mqttUrl, `ws://127.0.0.1:${port}/mqtt`, 'config.json points the apps at this broker')
  // The apps' client allows only USER_AUTH (email codes); the template's robot client allows
  // ADMIN_USER_PASSWORD_AUTH, and tokens of both clients are accepted by the MQTT authorizer.
  const { UserPoolClients } = await cognito('ListUserPoolClients', { UserPoolId: config.userPoolId, MaxResults: 60 })
  const robot = UserPoolClients.find((c) => c.ClientName === 'serverlesspresso-robot')
  assert.ok(robot, `the template's robot client exists: ${JSON.stringify(UserPoolClients)}`)
  const run = randomBytes(4).toString('hex')
  ctx.pool = config.userPoolId
  ctx.robot = robot.ClientId
  ctx.a = await signIn(ctx.pool, robot.ClientId, `mqtt-a-${run}@example.com`)
  ctx.b = await signIn(ctx.pool, robot.ClientId, `mqtt-b-${run}@example.com`)
  ctx.barista = await signIn(ctx.pool, robot.ClientId, `mqtt-barista-${run}@example.com`, { admin: true })
  assert.notEqual(ctx.a.sub, ctx.b.sub, 'two users, two subs')
  assert.deepEqual(ctx.barista.claims['cognito:groups'], ['admin'], "the barista's ID token names the admin group")
  assert.equal(ctx.a.claims['cognito:groups'], undefined, "a customer's ID token names no group")
  const lifetime = ctx.a.claims.exp - ctx.a.claims.iat
  assert.equal(lifetime, 3600, 'ID tokens live one hour')
  const jwks = await (await fetch(`${base}/${ctx.pool}/.well-known/jwks.json`)).json()
  ctx.kid = jwks.keys?.[0]?.kid
  ctx.jwk = jwks.keys?.[0]
  assert.equal(ctx.kid, jwtHeader(ctx.a.token).kid, "the JWKS names the key that signed the tokens")
})

check('an anonymous client connects and may subscribe to config topics only', async () => {
  const anon = await connect(undefined, 'anonymous')
  await expectSuback(anon, {
    [CONFIG]: 'granted',
    'serverlesspresso-config-another-event': 'granted',
    [ADMIN]: 'refused',
    [userTopic(ctx.a.sub)]: 'refused',
    'serverlesspresso-config-+': 'refused',
    '#': 'refused',
  })
  ctx.anon = anon
})

check('customer A may subscribe to their own user topic and config, and nothing else', async () => {
  const a = await connect(ctx.a.token, 'customer A')
  await expectSuback(a, {
    [userTopic(ctx.a.sub)]: 'granted',
    [CONFIG]: 'granted',
    [userTopic(ctx.b.sub)]: 'refused',
    [ADMIN]: 'refused',
    '#': 'refused',
    'serverlesspresso-user-+': 'refused',
    '$SYS/#': 'refused',
    '$share/g/serverlesspresso-config-default': 'refused',
  })
  // One filter per SUBSCRIBE too: a refusal does not depend on its neighbours in the packet.
  assert.deepEqual(await subscribe(a, [userTopic(ctx.b.sub)]), [128], "customer A alone asking for B's topic is refused")
  assert.deepEqual(await subscribe(a, [`${userTopic(ctx.a.sub)}/#`]), [128], 'customer A may not wildcard below their own topic')
  ctx.aClient = a
  const b = await connect(ctx.b.token, 'customer B')
  await expectSuback(b, { [userTopic(ctx.b.sub)]: 'granted', [userTopic(ctx.a.sub)]: 'refused' })
  ctx.bClient = b
})

check('the barista may subscribe to the admin topic, and to no one else\'s user topic', async () => {
  const barista = await connect(ctx.barista.token, 'barista')
  await expectSuback(barista, {
    [ADMIN]: 'granted',
    'serverlesspresso-admin-another-event': 'granted',
    [CONFIG]: 'granted',
    [userTopic(ctx.barista.sub)]: 'granted',
    [userTopic(ctx.a.sub)]: 'refused',
    'serverlesspresso-admin-+': 'refused',
    '#': 'refused',
    '$share/g/serverlesspresso-admin-default': 'refused',
  })
  ctx.baristaClient = barista
})

check('an IoT data Publish reaches exactly the subscribers of that topic, byte for byte', async () => {
  const { aClient: a, bClient: b, anon, baristaClient: barista } = ctx
  for (const c of [a, b, anon, barista]) c.received.length = 0
  const payload = JSON.stringify({
    type: 'OrderManager.OrderCompleted',
    detail: { eventId: 'default', orderId: 'order-☕-1', userId: ctx.a.sub, drink: 'Café Latte', orderNumber: 7 },
  })
  await iotPublish(userTopic(ctx.a.sub), payload, 1)
  await until("customer A's message", () => a.received.length > 0)
  const [got] = a.received
  assert.equal(got.topic, userTopic(ctx.a.sub), 'delivered on the topic it was published to')
  assert.ok(Buffer.isBuffer(got.payload) && got.payload.equals(Buffer.from(payload)), `payload is exactly what was published: ${got.payload}`)
  assert.equal(got.qos, 1, 'delivered at QoS 1 (published at 1, subscribed at 1)')
  // QoS 0 to the config topic reaches every config subscriber.
  const config = JSON.stringify({ type: 'ConfigService.ConfigChanged', detail: { eventId: 'default' } })
  await iotPublish(CONFIG, config, 0)
  await until('config message at the anonymous client, customer A and the barista', () =>
    [anon, barista].every((c) => c.received.length > 0) && a.received.length > 1,
  )
  for (const c of [anon, barista]) {
    assert.deepEqual(c.received.map((m) => [m.topic, m.payload.toString(), m.qos]), [[CONFIG, config, 0]], `${c.label} got only the config message`)
  }
  await sleep(QUIET_MS)
  assert.deepEqual(b.received, [], "customer B received nothing (not A's message, and B never subscribed to config)")
  assert.equal(a.received.length, 2, 'customer A got each message once')
})

check("a client's PUBLISH closes its connection and is delivered to no one", async () => {
  const { aClient: a, anon } = ctx
  for (const c of [a, anon]) c.received.length = 0
  const pubAnon = await connect(undefined, 'anonymous publisher')
  const pubA = await connect(ctx.a.token, "customer A's second client")
  let pubacks = 0
  pubA.on('packetreceive', (packet) => {
    if (packet.cmd === 'puback') pubacks++
  })
  pubAnon.on('error', () => {})
  pubA.on('error', () => {})
  pubAnon.publish(CONFIG, '{"type":"forged","detail":{}}', { qos: 0 })
  pubA.publish(userTopic(ctx.a.sub), '{"type":"OrderManager.OrderCompleted","detail":{"forged":true}}', { qos: 1 })
  await until('the broker to close both publishing connections', () => pubAnon.closedByServer && pubA.closedByServer)
  assert.equal(pubacks, 0, 'a QoS 1 client PUBLISH is not acknowledged')
  assert.ok(a.connected && anon.connected, 'the subscribers stay connected')
  // The next thing the subscribers see is the server's message, never the forged ones.
  await iotPublish(CONFIG, 'marker-config', 1)
  await iotPublish(userTopic(ctx.a.sub), 'marker-user', 1)
  await until('the markers', () => anon.received.length > 0 && a.received.length > 1)
  await sleep(QUIET_MS)
  assert.deepEqual(anon.received.map((m) => m.payload.toString()), ['marker-config'], 'the anonymous subscriber saw only the server message')
  assert.deepEqual(
    a.received.map((m) => `${m.topic}:${m.payload}`).sort(),
    [`${CONFIG}:marker-config`, `${userTopic(ctx.a.sub)}:marker-user`].sort(),
    'customer A saw only the server messages',
  )
  clients.delete(pubAnon)
  clients.delete(pubA)
})

check('forged, tampered, foreign-issuer and garbage tokens get CONNACK 5', async () => {
  const { token } = ctx.a
  const [h, p, s] = token.split('.')
  const claims = jwtClaims(token)
  const flip = (c) => (c === 'A' ? 'B' : 'A')
  const mid = Math.floor(s.length / 2)
  const cases = {
    // valid shape, signature bytes altered
    'forged signature': `${h}.${p}.${s.slice(0, mid)}${flip(s[mid])}${s.slice(mid + 1)}`,
    // A's own signature over different claims: a customer making themself a barista
    'tampered claims (cognito:groups admin)': `${h}.${b64url({ ...claims, 'cognito:groups': ['admin'] })}.${s}`,
    // presso's issuer and key id, signed by another key
    "signed by another key with presso's kid and issuer": selfSigned({ kid: ctx.kid }, claims),
    // presso's issuer, an unknown key id
    'unknown kid': selfSigned({ kid: 'not-presso' }, claims),
    // the AWS issuer of the same pool id, a self-made key
    'wrong issuer (the AWS Cognito URL of this pool)': selfSigned(
      { kid: 'aws-kid' },
      { ...claims, iss: `https://cognito-idp.us-east-1.amazonaws.com/${ctx.pool}` },
    ),
    'wrong issuer (a stranger), presso\'s kid': selfSigned({ kid: ctx.kid }, { ...claims, iss: 'https://issuer.example.com/us-east-1_Stranger1' }),
    'wrong issuer (an unknown local pool)': selfSigned(
      { kid: ctx.kid },
      { ...claims, iss: claims.iss.replace(/[^/]+$/, 'us-east-1_Unknown99') },
    ),
    'alg none': `${b64url({ alg: 'none', typ: 'JWT', kid: ctx.kid })}.${p}.`,
    // the classic key confusion: HS256 keyed with the public key
    'HS256 keyed with the JWKS modulus': (() => {
      const input = `${b64url({ alg: 'HS256', typ: 'JWT', kid: ctx.kid })}.${p}`
      return `${input}.${createHmac('sha256', Buffer.from(ctx.jwk.n, 'base64url')).update(input).digest('base64url')}`
    })(),
    garbage: 'not-a-jwt',
    'three empty parts': '..',
  }
  const got = {}
  for (const [name, bad] of Object.entries(cases)) got[name] = await refusedCode(bad, name)
  assert.deepEqual(got, Object.fromEntries(Object.keys(cases).map((k) => [k, 5])), 'CONNACK return code per token (5 = not authorized, 0 = accepted)')
  // The genuine token still connects.
  end(await connect(token, 'customer A, genuine token'))
})

check("genuine tokens of another pool (wrong issuer) or of a client the template does not list get CONNACK 5", async () => {
  // presso signed these itself, so they pass the signature check: only the issuer and audience
  // checks can refuse them. The AWS custom authorizer (presso-fn-mqtt-authorizer, with
  // USER_POOL_ID and USER_POOL_CLIENT_IDS from template.yaml) and presso's own HTTP API JWT
  // authorizer both accept only the template's UserPool as issuer and its UserPoolClient and
  // RobotClient as audience; the broker must check the same.
  const run = randomBytes(4).toString('hex')
  const other = (await cognito('CreateUserPool', { PoolName: `mqtt-e2e-other-${run}`, UsernameAttributes: ['email'] })).UserPool.Id
  const otherClient = (
    await cognito('CreateUserPoolClient', { UserPoolId: other, ClientName: 'other', ExplicitAuthFlows: ['ALLOW_ADMIN_USER_PASSWORD_AUTH'] })
  ).UserPoolClient.ClientId
  await cognito('CreateGroup', { UserPoolId: other, GroupName: 'admin' })
  const stranger = await signIn(other, otherClient, `mqtt-stranger-${run}@example.com`, { admin: true })
  assert.notEqual(stranger.claims.iss, ctx.a.claims.iss, 'the other pool has its own issuer')
  const thirdClient = (
    await cognito('CreateUserPoolClient', { UserPoolId: ctx.pool, ClientName: `mqtt-e2e-third-${run}`, ExplicitAuthFlows: ['ALLOW_ADMIN_USER_PASSWORD_AUTH'] })
  ).UserPoolClient.ClientId
  const auth = await cognito('AdminInitiateAuth', {
    UserPoolId: ctx.pool,
    ClientId: thirdClient,
    AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
    AuthParameters: { USERNAME: ctx.a.email, PASSWORD },
  })
  const viaThird = auth.AuthenticationResult.IdToken
  // The HTTP API's authorizer refuses both (a 401), as API Gateway would.
  for (const [name, token] of [['wrong issuer', stranger.token], ['wrong audience', viaThird]]) {
    const res = await fetch(`${base}/api/myOrders?eventId=default`, { headers: { Authorization: token } })
    assert.equal(res.status, 401, `HTTP API with the ${name} token`)
  }
  const got = {
    "wrong issuer: an admin's ID token from another pool in this presso": await refusedCode(stranger.token, 'other-pool admin token'),
    'wrong audience: ID token of a client the template does not list': await refusedCode(viaThird, 'third-client token'),
  }
  assert.deepEqual(got, Object.fromEntries(Object.keys(got).map((k) => [k, 5])), 'CONNACK return code per token (5 = not authorized, 0 = accepted)')
})

check("once a token has expired on presso's clock it gets CONNACK 5 (last: moves the clock)", async () => {
  end(await connect(ctx.b.token, 'customer B before expiry'))
  await advanceClock(7200) // ID tokens live one hour
  for (const [name, user] of [['customer B, expired', ctx.b], ['barista, expired', ctx.barista]]) {
    assert.equal(await refusedCode(user.token, name), 5, `${name}: CONNACK return code`)
  }
  // Anonymous connections are unaffected by the clock.
  end(await connect(undefined, 'anonymous after the clock moved'))
})

// ---------------------------------------------------------------------------------------------
// Runner
// ---------------------------------------------------------------------------------------------

let failures = 0
let ran = 0
try {
  for (const { name, fn } of checks) {
    ran++
    const t0 = Date.now()
    try {
      await fn()
      console.log(`ok    ${name} (${Date.now() - t0} ms)`)
    } catch (error) {
      failures++
      console.log(`FAIL  ${name} (${Date.now() - t0} ms)`)
      console.log(`      ${String(error?.stack ?? error).split('\n').join('\n      ')}`)
      if (!ctx.a) break // without users nothing else can run
    }
  }
} finally {
  for (const client of clients) {
    client.endingByUs = true
    client.end(true)
  }
  if (failures) printPressoLog()
  stopPresso()
}
const seconds = ((Date.now() - started) / 1000).toFixed(1)
if (failures) {
  const notRun = checks.length - ran
  console.error(`\n${failures} of ${checks.length} MQTT client checks failed${notRun ? `, ${notRun} not run` : ''} (${seconds} s)`)
  process.exit(1)
}
console.log(`\nall ${checks.length} MQTT client checks passed (${seconds} s)`)
process.exit(0)
