import { describe, expect, it } from 'vitest'
import CleanerPanel from '@/components/topics/CleanerPanel.vue'
import type { Partition, TopicCleaner } from '@/api/types'
import { mountWithApp } from './helpers'

const part = (partition: number, cleaner?: Partition['cleaner']): Partition => ({
  partition, leader: 1, leaderEpoch: 0, replicas: [1], isr: [1], offline: false, underReplicated: false, underMinIsr: false,
  preferredLeader: true, starting: false, startOffset: 0, endOffset: 100, stableOffset: 100, stableStuckSeconds: 0, sizeBytes: 4096, cleaner,
})

const reported: TopicCleaner = {
  reported: true, partitions: 1, dirtyRatio: 0.25, maxDirtyRatio: 0.25, cleanBytes: 3072, dirtyBytes: 1024,
  lastCleaned: '2026-12-06T12:00:00Z', bytesCleaned: 10240, bytesFreed: 6144, freeableBytes: 512, uncleanable: 0,
}

describe('CleanerPanel', () => {
  it('shows the cleaner figures and the reported partitions', () => {
    const partitions = [
      part(0, { broker: 1, firstDirtyOffset: 80, cleanBytes: 3072, dirtyBytes: 1024, dirtyRatio: 0.25, lastCleaned: '2026-12-06T12:00:00Z', bytesCleaned: 10240, bytesFreed: 6144, freeableBytes: 512 }),
      part(1),
    ]
    const w = mountWithApp(CleanerPanel, { props: { cleaner: reported, partitions } })
    expect(w.find('[data-testid="cleaner-dirty-ratio"]').text()).toBe('25.0%')
    expect(w.find('[data-testid="cleaner-bytes-cleaned"]').text()).toBe('10 KiB')
    expect(w.find('[data-testid="cleaner-freeable"]').text()).toBe('512 B')
    expect(w.find('[data-testid="cleaner-last-cleaned"]').text()).toMatch(/2026/)
    expect(w.text()).toContain('1 of 2')
    expect(w.findAll('[data-testid="cleaner-partitions"] tbody tr')).toHaveLength(1)
    expect(w.find('[data-testid="cleaner-not-reported"]').exists()).toBe(false)
  })

  it('says the state is not reported instead of showing figures, in both languages', () => {
    const cleaner: TopicCleaner = { ...reported, reported: false, partitions: 0, dirtyRatio: 0, lastCleaned: null }
    const en = mountWithApp(CleanerPanel, { props: { cleaner, partitions: [part(0)] } })
    expect(en.find('[data-testid="cleaner-not-reported"]').text()).toContain('Cleaner state not reported by this cluster')
    expect(en.find('[data-testid="cleaner-summary"]').exists()).toBe(false)
    const zh = mountWithApp(CleanerPanel, { locale: 'zh-CN', props: { cleaner, partitions: [part(0)] } })
    expect(zh.find('[data-testid="cleaner-not-reported"]').text()).toContain('该集群不报告清理器状态')
  })

  it('says a partition has not been cleaned since its broker started', () => {
    const cleaner: TopicCleaner = { ...reported, lastCleaned: null }
    const w = mountWithApp(CleanerPanel, { props: { cleaner, partitions: [part(0, { broker: 1, firstDirtyOffset: 0, cleanBytes: 0, dirtyBytes: 4096, dirtyRatio: 1, bytesCleaned: 0, bytesFreed: 0, freeableBytes: 4096 })] } })
    expect(w.find('[data-testid="cleaner-last-cleaned"]').text()).toBe('Not since its broker started')
  })
})
