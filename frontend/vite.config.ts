// One Vite project, three apps. Each app is an HTML entry in its own folder, so the build writes
// dist/display/, dist/barista/ and dist/order/ plus one shared dist/assets/ folder; presso (and
// CloudFront on AWS) serve dist/ at the site root, which puts the apps at /display/, /barista/ and
// /order/ on the same origin as /api, /mqtt and /config.json.
import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

const root = fileURLToPath(new URL('.', import.meta.url))
// Where `npm run dev` forwards the API, the MQTT socket and the runtime settings.
const presso = process.env.PRESSO_URL ?? 'http://127.0.0.1:8080'

export default defineConfig({
  base: '/',
  appType: 'mpa',
  plugins: [vue()],
  resolve: {
    alias: { '@lib': fileURLToPath(new URL('./src/lib', import.meta.url)) },
  },
  build: {
    target: 'es2022',
    rollupOptions: {
      input: {
        display: `${root}display/index.html`,
        barista: `${root}barista/index.html`,
        order: `${root}order/index.html`,
      },
    },
  },
  server: {
    proxy: {
      '/api': presso,
      '/config.json': presso,
      '/_presso': presso,
      '/mqtt': { target: presso, ws: true },
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/__tests__/**/*.spec.ts'],
    restoreMocks: true,
  },
})
