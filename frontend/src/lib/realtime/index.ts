/** Live updates over MQTT, shared by the three apps. */
export * from './connection'
export { mqttJsFactory } from './mqttClient'
export * from './topics'
