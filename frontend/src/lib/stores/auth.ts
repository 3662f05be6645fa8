/**
 * The signed-in user as reactive state, and the sign-in steps the forms drive.
 * Holds no tokens itself: `AuthSession` does.
 */
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import { AuthError, type PendingCode, type SignedInUser } from '../auth'
import { services } from '../services'

export const useAuthStore = defineStore('auth', () => {
  const { auth } = services()
  const user = shallowRef<SignedInUser | null>(auth.user)
  const pending = ref<PendingCode | null>(null)
  const busy = ref(false)
  const error = ref<string | null>(null)
  const errorCode = ref<string | null>(null)

  auth.onChange((u) => {
    user.value = u
  })

  const isAdmin = computed(() => user.value?.groups.includes('admin') ?? false)
  const signedIn = computed(() => user.value !== null)

  async function step<T>(work: () => Promise<T>): Promise<T | undefined> {
    busy.value = true
    error.value = null
    errorCode.value = null
    try {
      return await work()
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e)
      errorCode.value = e instanceof AuthError ? e.code : null
      return undefined
    } finally {
      busy.value = false
    }
  }

  async function signUp(email: string, givenName: string) {
    const p = await step(() => auth.signUp(email, givenName))
    if (p) pending.value = p
  }

  async function startSignIn(email: string) {
    const p = await step(() => auth.startSignIn(email))
    if (p) pending.value = auth.user && !p.session ? null : p
  }

  async function resendConfirmation(email: string) {
    const p = await step(() => auth.resendConfirmation(email))
    if (p) pending.value = p
  }

  async function submitCode(code: string) {
    const p = pending.value
    if (!p) return
    const u = await step(() => auth.submitCode(p, code))
    if (u) pending.value = null
  }

  function cancelCode() {
    pending.value = null
    error.value = null
  }

  function signOut() {
    pending.value = null
    auth.signOut()
  }

  return { user, pending, busy, error, errorCode, isAdmin, signedIn, signUp, startSignIn, resendConfirmation, submitCode, cancelCode, signOut }
})
