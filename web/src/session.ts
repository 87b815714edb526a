// Who is signed in: the bearer token and the user, kept in localStorage so a reload stays signed in.
import { computed, reactive } from 'vue'
import { api, configureClient } from './api/client'
import type { LoginAnswer, RoleName, User } from './api/types'

const storageKey = 'tph.session'

interface SessionState {
  token: string | null
  user: User | null
}

function load(): SessionState {
  try {
    const raw = localStorage.getItem(storageKey)
    if (raw) {
      const parsed = JSON.parse(raw) as SessionState
      if (parsed.token && parsed.user) return parsed
    }
  } catch {
    // A corrupt entry is as good as none.
  }
  return { token: null, user: null }
}

export const session = reactive<SessionState>(load())

function save(): void {
  if (session.token) localStorage.setItem(storageKey, JSON.stringify(session))
  else localStorage.removeItem(storageKey)
}

function clear(): void {
  session.token = null
  session.user = null
  save()
}

configureClient(() => session.token, clear)

export const signedIn = computed(() => session.token !== null && session.user !== null)

export function hasRole(...roles: RoleName[]): boolean {
  return session.user?.roles.some((g) => roles.includes(g.role)) ?? false
}

export async function signIn(username: string, password: string): Promise<User> {
  const answer = await api.post<LoginAnswer>('/api/v1/auth/login', { username, password })
  session.token = answer.token
  session.user = answer.user
  save()
  return answer.user
}

export async function signOut(): Promise<void> {
  try {
    if (session.token) await api.post('/api/v1/auth/logout')
  } finally {
    clear()
  }
}

//! Checks a stored token against the server once at start; a dead one is dropped.
export async function refreshSession(): Promise<void> {
  if (!session.token) return
  try {
    const me = await api.get<User>('/api/v1/me')
    session.user = { ...me, created_at: session.user?.created_at }
    save()
  } catch {
    // the client's 401 handler already cleared an ended session; other errors keep it
  }
}

//! Where a user lands after signing in: the page their main role works on.
export function landingFor(user: User): string {
  const roles = user.roles.map((g) => g.role)
  if (roles.includes('province_admin') || roles.includes('region_admin')) return '/console/methodologies'
  if (roles.includes('provider')) return '/provider/bindings'
  if (roles.includes('auditor')) return '/console/providers'
  if (roles.includes('verifier')) return '/verify'
  if (roles.includes('merchant') && !roles.includes('resident')) return '/merchant/offers'
  return '/me'
}
