import { describe, expect, it } from 'vitest'
import { ApiError, errorFromResponse } from '@/api/client'
import { errorText, type Translator } from '@/api/errorText'
import { createAppI18n, type Locale } from '@/i18n'
import { jsonResponse } from './helpers'

function translator(locale: Locale): Translator {
  const g = createAppI18n(locale).global
  return { t: (k, named) => (named ? g.t(k, named) : g.t(k)), te: (k) => g.te(k) }
}

// The answer server/errors_test.go checks for PATCH configs {"retention.ms": "a week"}.
const badRetention = {
  error: {
    code: 'invalid_config',
    message: 'retention.ms must be a whole number of milliseconds (-1 means no limit)',
    params: { key: 'retention.ms', value: 'a week', rule: 'ms_or_unlimited' },
  },
}

describe('errorText', () => {
  it('translates a refused config value by its code and rule, not by its English text', async () => {
    const err = await errorFromResponse(jsonResponse(400, badRetention))
    expect(err.params).toEqual(badRetention.error.params)
    expect(errorText(err, translator('zh-CN'))).toEqual({
      message: 'retention.ms 必须是整数毫秒（-1 表示不限）。',
      detail: 'retention.ms must be a whole number of milliseconds (-1 means no limit) · HTTP 400 · invalid_config',
    })
    expect(errorText(err, translator('en'))).toEqual({
      message: 'retention.ms must be a whole number of milliseconds (-1 means no limit).',
      detail: 'HTTP 400 · invalid_config',
    })
  })

  it('names the operation and the Kafka error in a Kafka refusal', () => {
    const err = new ApiError(400, 'kafka.INVALID_CONFIG', 'Could not change the configs of topic ui.journey: configuration is invalid (Kafka error INVALID_CONFIG)', {
      op: 'alter_configs',
      target: 'ui.journey',
      kafkaError: 'INVALID_CONFIG',
    })
    expect(errorText(err, translator('zh-CN')).message).toBe('无法修改主题 ui.journey 的配置：配置无效（Kafka 错误 INVALID_CONFIG）。')
    expect(errorText(err, translator('en')).message).toBe('Could not change the configs of topic ui.journey: the configuration is invalid (Kafka error INVALID_CONFIG).')
    // A Kafka error without a sentence of its own still reads as one, by name.
    const other = new ApiError(502, 'kafka.FENCED_LEADER_EPOCH', '…', { op: 'produce', target: 'orders', kafkaError: 'FENCED_LEADER_EPOCH' })
    expect(errorText(other, translator('zh-CN')).message).toBe('无法向主题 orders 发送消息：Kafka 错误 FENCED_LEADER_EPOCH。')
  })

  it('explains a share group refusal and names the share group operation', () => {
    const busy = new ApiError(409, 'share_group_not_empty', 'share group "queue" is Stable with 1 member(s)…', {})
    expect(errorText(busy, translator('zh-CN')).message).toBe('该共享组仍有成员：Kafka 只在共享组为空时修改其位点。请先停止其消费者。')
    expect(errorText(new ApiError(400, 'share_group_offsets', '…', {}), translator('en')).message).toContain('This is a share group')
    const kafka = new ApiError(502, 'kafka.INVALID_REQUEST', '…', { op: 'alter_share_offsets', target: 'queue', kafkaError: 'INVALID_REQUEST' })
    expect(errorText(kafka, translator('en')).message).toContain('reset the start offsets of share group queue')
    expect(errorText(kafka, translator('zh-CN')).message).toContain('重置共享组 queue 的起始位点')
  })

  it('translates the client-side failures and plain codes', () => {
    expect(errorText(new ApiError(404, 'cluster_not_found', 'no cluster named "nope"', { cluster: 'nope' }), translator('zh-CN')).message).toBe('没有这个集群。')
    expect(errorText(new ApiError(0, 'network', 'cannot reach the server: boom'), translator('zh-CN')).message).toBe('无法连接到 Osprey 服务器。')
  })

  it('has a sentence in English and Chinese for every code the server sends', () => {
    // The server's Go sources, as text (Vite's glob import; tests are not part of the contract).
    const sources = import.meta.glob<string>(['../../../server/**/*.go', '../../../internal/aclcheck/*.go'], { query: '?raw', import: 'default', eager: true })
    const codes = new Set<string>()
    const patterns = [
      /\b(?:badRequest|notFound|conflict)\("([a-z_]+)"/g,
      /\bCode:\s*"([a-z_]+)"/g,
      /\b(?:writeError|writeErrorParams)\(c, [^,]+, "([a-z_]+)"/g,
      /\bdeny\([^,]+, "([a-z_]+)"/g,
      /\.Code = [^"\n]*"([a-z_]+)"/g,
      /\bproblem\("([a-z_]+)"/g,
    ]
    for (const [path, src] of Object.entries(sources)) {
      if (path.endsWith('_test.go')) continue
      for (const re of patterns) for (const m of src.matchAll(re)) if (m[1]) codes.add(m[1])
    }
    expect(codes.size).toBeGreaterThan(40)
    for (const locale of ['en', 'zh-CN'] as const) {
      const { te } = translator(locale)
      const missing = [...codes].filter((c) => !te(`apiErrors.${c}`))
      expect(missing, locale).toEqual([])
    }
  })
})
