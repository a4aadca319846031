// User preferences kept in the browser: colour theme, language and whether totals and topic lists
// include internal topics. Applying the first two to the
// document (<html class="dark">, <html lang>) happens here; App.vue hands the locale to vue-i18n.
import { defineStore } from 'pinia'
import { ref, watch } from 'vue'
import { isLocale, localeFromNavigator, type Locale } from '@/i18n'
import { readStorage, writeStorage } from '@/utils/storage'

export type Theme = 'light' | 'dark'

export const THEME_KEY = 'osprey.theme'
export const LOCALE_KEY = 'osprey.locale'
export const INTERNAL_KEY = 'osprey.showInternal'

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
  // One switch for the dashboard and the topics page: internal topics are left out of totals and
  // lists unless it is on, so both pages always add up the same topics.
  const showInternal = ref<boolean>(readStorage(INTERNAL_KEY) === 'true')

  function setTheme(t: Theme): void {
    theme.value = t
  }
  function toggleTheme(): void {
    theme.value = theme.value === 'dark' ? 'light' : 'dark'
  }
  function setLocale(l: Locale): void {
    locale.value = l
  }
  function setShowInternal(v: boolean): void {
    showInternal.value = v
  }
  watch(showInternal, (v) => writeStorage(INTERNAL_KEY, String(v)))

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

  return { theme, locale, showInternal, setTheme, toggleTheme, setLocale, setShowInternal }
})
