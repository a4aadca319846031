// Who the console acts as: the admin token (asked once per browser session, kept in sessionStorage,
// sent as Authorization: Bearer) or a logged-in user (HttpOnly session cookie + X-CSRF-Token).
// Mutations go through mutate(): it asks for the token when none is known, and asks again, showing
// the server's message, when the server refuses the one it has.
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import { ApiError, setAuthHeaderProvider } from '@/api/client'
import { osprey } from '@/api/osprey'
import type { Me } from '@/api/types'

export const TOKEN_KEY = 'osprey.token'
export const CSRF_KEY = 'osprey.csrf'

/** Thrown by mutate() when the user closes the token dialog instead of giving a token. */
export class AuthCancelled extends Error {
  constructor() {
    super('cancelled')
    this.name = 'AuthCancelled'
  }
}

function readSession(key: string): string | null {
  try {
    return globalThis.sessionStorage?.getItem(key) ?? null
  } catch {
    return null
  }
}

function writeSession(key: string, value: string | null): void {
  try {
    if (value === null) globalThis.sessionStorage?.removeItem(key)
    else globalThis.sessionStorage?.setItem(key, value)
  } catch {
    // Without storage the token lasts as long as the page.
  }
}

/** True when the server refused the caller's credentials (as opposed to refusing the request itself). */
export function isAuthFailure(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 401 || (err.status === 403 && /token|csrf/i.test(err.code)))
}

export const useAuthStore = defineStore('auth', () => {
  const token = ref<string | null>(readSession(TOKEN_KEY))
  const csrf = ref<string | null>(readSession(CSRF_KEY))
  const me = shallowRef<Me | null>(null)

  /** The token dialog: visible while a mutation waits for a token; error is the server's last refusal. */
  const promptVisible = ref(false)
  const promptError = ref<string | null>(null)
  /** The refusal behind promptError, for the dialog to show in the user's language. */
  const promptFailure = shallowRef<ApiError | null>(null)
  let pending: { resolve: (tok: string) => void; reject: (e: Error) => void } | null = null

  const loggedIn = computed(() => me.value?.kind === 'session')
  const loginEnabled = computed(() => me.value?.loginEnabled === true)
  const readOnly = computed(() => me.value?.readOnly === true)

  /**
   * Whether the caller may change cluster (operator or more there). A signed-in user's role per
   * cluster comes from /auth/me; with a token or nobody signed in the server decides at the change.
   */
  function canOperate(cluster: string): boolean {
    if (readOnly.value) return false
    if (!loggedIn.value) return true
    const role = me.value?.clusterRoles?.[cluster] ?? ''
    return role === 'operator' || role === 'admin'
  }

  setAuthHeaderProvider(() => {
    const h: Record<string, string> = {}
    if (token.value) h.Authorization = `Bearer ${token.value}`
    if (csrf.value) h['X-CSRF-Token'] = csrf.value
    return h
  })

  function setToken(tok: string | null): void {
    token.value = tok && tok.trim() ? tok.trim() : null
    writeSession(TOKEN_KEY, token.value)
  }

  async function loadMe(): Promise<void> {
    try {
      me.value = await osprey.me()
    } catch {
      // Unknown identity: the console still reads; mutations will ask for the token.
    }
  }

  async function login(username: string, password: string): Promise<void> {
    const res = await osprey.login(username, password)
    csrf.value = res.csrfToken
    writeSession(CSRF_KEY, res.csrfToken)
    await loadMe()
  }

  async function logout(): Promise<void> {
    try {
      await osprey.logout()
    } finally {
      csrf.value = null
      writeSession(CSRF_KEY, null)
      setToken(null)
      await loadMe()
    }
  }

  /** Ends every session of the signed-in user (other browsers and devices too), then this one's state. */
  async function logoutEverywhere(): Promise<void> {
    try {
      await osprey.logoutEverywhere()
    } finally {
      csrf.value = null
      writeSession(CSRF_KEY, null)
      await loadMe()
    }
  }

  /** Opens the token dialog and resolves with what the user enters (rejects with AuthCancelled). */
  function askToken(error: string | null, failure: ApiError | null = null): Promise<string> {
    promptError.value = error
    promptFailure.value = failure
    promptVisible.value = true
    return new Promise<string>((resolve, reject) => {
      pending?.reject(new AuthCancelled())
      pending = { resolve, reject }
    })
  }

  function submitToken(tok: string): void {
    setToken(tok)
    promptVisible.value = false
    const p = pending
    pending = null
    p?.resolve(tok)
  }

  function cancelPrompt(): void {
    promptVisible.value = false
    const p = pending
    pending = null
    p?.reject(new AuthCancelled())
  }

  /**
   * Runs a mutation with credentials: asks for the token first when there is neither a token nor a
   * session, and again (with the server's message) each time the server refuses the credentials.
   * Other API errors are thrown as they are, for the page to show.
   */
  async function mutate<T>(fn: () => Promise<T>): Promise<T> {
    if (!token.value && !loggedIn.value) await askToken(null)
    for (;;) {
      try {
        return await fn()
      } catch (err) {
        if (!isAuthFailure(err)) throw err
        setToken(null)
        await askToken((err as ApiError).message, err as ApiError)
      }
    }
  }

  return {
    token,
    csrf,
    me,
    loggedIn,
    loginEnabled,
    readOnly,
    canOperate,
    promptVisible,
    promptError,
    promptFailure,
    setToken,
    loadMe,
    login,
    logout,
    logoutEverywhere,
    submitToken,
    cancelPrompt,
    mutate,
  }
})
