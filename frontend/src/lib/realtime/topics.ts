/** The MQTT topics the apps subscribe to (the same names the publisher and the broker's ACL use). */

/** Every order event of an event (admins only). */
export const adminTopic = (eventId: string) => `serverlesspresso-admin-${eventId}`

/** One customer's own order events; `sub` is the ID token's subject. */
export const userTopic = (sub: string) => `serverlesspresso-user-${sub}`

/** Public: store open/closed and menu changes of an event. */
export const configTopic = (eventId: string) => `serverlesspresso-config-${eventId}`
