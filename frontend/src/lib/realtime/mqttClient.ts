/**
 * The real MQTT client: mqtt.js over WebSocket, MQTT 3.1.1, clean session.
 *
 * mqtt.js's own reconnect is switched off because `RealtimeConnection` reconnects with back-off and a
 * fresh token, which mqtt.js would not fetch.
 */
import mqtt from 'mqtt'
import type { ClientFactory, MqttLikeClient } from './connection'

export const mqttJsFactory: ClientFactory = (url, options) =>
  mqtt.connect(url, {
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
