// User preferences kept in the browser: colour theme and language. Applying them to the
// document (<html class="dark">, <html lang>) happens here; App.vue hands the locale to vue-i18n.
import { defineStore } from 'pinia'
import { ref, watch } from 'vue'
import { isLocale, localeFromNavigator, type Locale } from '@/i18n'
import { readStorage, writeStorage } from '@/utils/storage'

export type Theme = 'light' | 'dark'

export const THEME_KEY = 'osprey.theme'
export const LOCALE_KEY = 'osprey.locale'

function initialTheme(): Theme {
  const stored = readStorage(THEME_KEY)
  if (stored === 'light' || stored === 'dark') return stored
  const prefersDark = globalThis.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false
  return prefersDark ? 'dark' : 'light'
}

function initialLocale(): Locale {
  const stored = readStorage(LOCALE_KEY)
  if (isLocale(stored)) return stored
  return localeFromNavigator(globalThis.navigator?.languages ?? [])
}

export const usePreferencesStore = defineStore('preferences', () => {
  const theme = ref<Theme>(initialTheme())
  const locale = ref<Locale>(initialLocale())

  function setTheme(t: Theme): void {
    theme.value = t
  }
  function toggleTheme(): void {
    theme.value = theme.value === 'dark' ? 'light' : 'dark'
  }
  function setLocale(l: Locale): void {
    locale.value = l
  }

  // Element Plus switches its dark CSS variables on the `dark` class of <html>.
  watch(
    theme,
    (t) => {
      writeStorage(THEME_KEY, t)
      globalThis.document?.documentElement.classList.toggle('dark', t === 'dark')
    },
    { immediate: true },
  )
  watch(
    locale,
    (l) => {
      writeStorage(LOCALE_KEY, l)
      if (globalThis.document) globalThis.document.documentElement.lang = l
    },
    { immediate: true },
  )

  return { theme, locale, setTheme, toggleTheme, setLocale }
})
