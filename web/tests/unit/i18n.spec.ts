import { describe, expect, it } from 'vitest'
import { localeFromNavigator } from '@/i18n'
import en from '@/i18n/locales/en'
import zhCN from '@/i18n/locales/zh-CN'

/** Every leaf of a message tree as [dotted.key, value]. */
function leaves(tree: object, prefix = ''): [string, unknown][] {
  return Object.entries(tree).flatMap(([k, v]) =>
    typeof v === 'object' && v !== null ? leaves(v, `${prefix}${k}.`) : [[`${prefix}${k}`, v] as [string, unknown]],
  )
}

describe('messages', () => {
  it('has the same keys in English and Chinese, none empty', () => {
    const enLeaves = leaves(en)
    const zhLeaves = leaves(zhCN)
    expect(zhLeaves.map(([k]) => k).sort()).toEqual(enLeaves.map(([k]) => k).sort())
    for (const [k, v] of [...enLeaves, ...zhLeaves]) {
      expect(typeof v, k).toBe('string')
      expect((v as string).trim(), k).not.toBe('')
    }
  })

  it('keeps the same placeholders in both languages', () => {
    const zh = new Map(leaves(zhCN))
    for (const [k, v] of leaves(en)) {
      const names = (s: unknown) => [...String(s).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
      expect(names(zh.get(k)), k).toEqual(names(v))
    }
  })
})

describe('localeFromNavigator', () => {
  it.each([
    [['zh-CN'], 'zh-CN'],
    [['zh-TW', 'en-US'], 'zh-CN'],
    [['en-GB', 'zh-CN'], 'en'],
    [['de-DE', 'zh'], 'zh-CN'],
    [['de-DE'], 'en'],
    [[], 'en'],
  ])('%j -> %s', (langs, want) => {
    expect(localeFromNavigator(langs)).toBe(want)
  })
})
