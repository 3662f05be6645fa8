/** The display app: a TV by the coffee bar showing the QR code and the queue. */
import { bootApp } from '@lib/boot'
import DisplayApp from './DisplayApp.vue'
import BoardView from './views/BoardView.vue'

void bootApp({
  name: 'display',
  root: DisplayApp,
  routes: [
    { path: '/', name: 'board', component: BoardView },
    { path: '/:pathMatch(.*)*', redirect: '/' },
  ],
})
