import { nextTick } from 'vue'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { INTERNAL_KEY, LOCALE_KEY, THEME_KEY, usePreferencesStore } from '@/stores/preferences'
import { freshPinia } from './helpers'

function stubColorScheme(dark: boolean): void {
  vi.stubGlobal('matchMedia', (query: string) => ({ matches: dark && query.includes('dark'), media: query }))
}

describe('preferences store', () => {
  beforeEach(() => {
    localStorage.clear()
    document.documentElement.className = ''
    document.documentElement.lang = ''
    stubColorScheme(false)
    freshPinia()
  })

  it('toggles the dark class on <html> and remembers the theme', async () => {
    const prefs = usePreferencesStore()
    expect(prefs.theme).toBe('light')
    expect(document.documentElement.classList.contains('dark')).toBe(false)

    prefs.toggleTheme()
    await nextTick()
    expect(document.documentElement.classList.contains('dark')).toBe(true)
    expect(localStorage.getItem(THEME_KEY)).toBe('dark')

    prefs.toggleTheme()
    await nextTick()
    expect(document.documentElement.classList.contains('dark')).toBe(false)
    expect(localStorage.getItem(THEME_KEY)).toBe('light')
  })

  it('starts from the stored theme, else from the system colour scheme', () => {
    stubColorScheme(true)
    expect(usePreferencesStore().theme).toBe('dark')
    expect(document.documentElement.classList.contains('dark')).toBe(true)

    localStorage.setItem(THEME_KEY, 'light')
    freshPinia()
    expect(usePreferencesStore().theme).toBe('light')
    expect(document.documentElement.classList.contains('dark')).toBe(false)
  })

  it('sets <html lang>, remembers the language and ignores an unknown stored one', async () => {
    localStorage.setItem(LOCALE_KEY, 'fr')
    vi.spyOn(navigator, 'languages', 'get').mockReturnValue(['zh-TW', 'en'])
    const prefs = usePreferencesStore()
    expect(prefs.locale).toBe('zh-CN')
    expect(document.documentElement.lang).toBe('zh-CN')

    prefs.setLocale('en')
    await nextTick()
    expect(document.documentElement.lang).toBe('en')
    expect(localStorage.getItem(LOCALE_KEY)).toBe('en')

    freshPinia()
    expect(usePreferencesStore().locale).toBe('en')
  })

  it('remembers whether internal topics are shown, off by default', async () => {
    expect(usePreferencesStore().showInternal).toBe(false)
    usePreferencesStore().setShowInternal(true)
    await nextTick()
    expect(localStorage.getItem(INTERNAL_KEY)).toBe('true')
    freshPinia()
    expect(usePreferencesStore().showInternal).toBe(true)
  })
})
