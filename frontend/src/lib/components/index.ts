/** Components shared by the three apps. */
export { default as BrandMark } from './BrandMark.vue'
export { default as ConnectionBadge } from './ConnectionBadge.vue'
export { default as DrinkIcon } from './DrinkIcon.vue'
export { default as ErrorNotice } from './ErrorNotice.vue'
export { default as SignInPanel } from './SignInPanel.vue'
