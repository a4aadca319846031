// Internationalisation: English and Simplified Chinese. Every visible string goes through here.
import { createI18n } from 'vue-i18n'
import en, { type MessageSchema } from './locales/en'
import zhCN from './locales/zh-CN'

export const SUPPORTED_LOCALES = ['en', 'zh-CN'] as const
export type Locale = (typeof SUPPORTED_LOCALES)[number]

/** How each language names itself in the language switch (not translated on purpose). */
export const LOCALE_LABELS: Record<Locale, string> = { en: 'EN', 'zh-CN': '中文' }

export function isLocale(v: unknown): v is Locale {
  return typeof v === 'string' && (SUPPORTED_LOCALES as readonly string[]).includes(v)
}

/** Picks a supported locale from the browser's language list (zh-* → zh-CN, otherwise English). */
export function localeFromNavigator(languages: readonly string[]): Locale {
  for (const lang of languages) {
    const l = lang.toLowerCase()
    if (l.startsWith('zh')) return 'zh-CN'
    if (l.startsWith('en')) return 'en'
  }
  return 'en'
}

export function createAppI18n(locale: Locale = 'en') {
  return createI18n<[MessageSchema], Locale, false>({
    legacy: false,
    locale,
    fallbackLocale: 'en',
    messages: { en, 'zh-CN': zhCN },
  })
}

export type AppI18n = ReturnType<typeof createAppI18n>
