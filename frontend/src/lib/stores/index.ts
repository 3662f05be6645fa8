/** Pinia stores shared by the three apps. */
export { useAuthStore } from './auth'
export { useConnectionStore } from './connection'
