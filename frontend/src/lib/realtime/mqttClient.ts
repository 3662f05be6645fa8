/**
 * The real MQTT client: mqtt.js over WebSocket, MQTT 3.1.1, clean session.
 *
 * The library is loaded on first connect, so it stays out of the apps' first paint. mqtt.js's own
 * reconnect is switched off because `RealtimeConnection` reconnects with back-off and a fresh token,
 * which mqtt.js would not fetch.
 */
import type { ClientFactory, MqttLikeClient } from './connection'

export const mqttJsFactory: ClientFactory = async (url, options) => {
  const { default: mqtt } = await import('mqtt')
  return mqtt.connect(url, {
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    keepalive: 30,
    clientId: options.clientId,
    username: options.username,
    password: options.password,
    resubscribe: false,
  }) as unknown as MqttLikeClient
}
