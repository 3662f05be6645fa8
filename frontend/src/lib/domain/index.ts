/** Pure client-side rules shared by the apps: no IO, no Vue. */
export * from './menu'
export * from './orders'
export * from './qrWindow'
export * from './undoQueue'
