// A compacted topic on the embedded runtime cluster `local`: keyed records produced with kcat
// (librdkafka) over many small segments, cleaned by the brokers' log cleaner; the topic page shows
// the cleanup policy and the cleaner's figures as the API reports them (English), and the panel's
// labels in Chinese.
import { spawnSync } from 'node:child_process'
import type { APIRequestContext } from '@playwright/test'
import { ADMIN_TOKEN, LOCAL_CLUSTER } from './constants'
import { expect, shot, test } from './fixtures'

const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` }

interface Cleaner {
  reported: boolean
  dirtyRatio: number
  lastCleaned?: string | null
  bytesCleaned: number
  partitions: number
}

async function cleaner(request: APIRequestContext, topic: string): Promise<Cleaner | undefined> {
  const res = await request.get(`/api/v1/clusters/${LOCAL_CLUSTER}/topics/${topic}`)
  if (!res.ok()) return undefined
  return ((await res.json()) as { cleaner?: Cleaner }).cleaner
}

async function bootstrap(request: APIRequestContext): Promise<string> {
  const rc = await request.get(`/api/v1/runtime/clusters`)
  expect(rc.ok()).toBe(true)
  const local = ((await rc.json()) as { items: { name: string; bootstrapServers: string }[] }).items.find((c) => c.name === LOCAL_CLUSTER)
  expect(local, 'the embedded runtime cluster').toBeTruthy()
  return local!.bootstrapServers
}

test('a compacted topic shows its cleanup policy and the log cleaner\'s state', async ({ page, request }, testInfo) => {
  // The brokers' cleaner looks for work every log.cleaner.backoff.ms (Kafka's 15 s).
  test.setTimeout(150_000)
  const topic = `e2e.compact-${Date.now()}`
  const created = await request.post(`/api/v1/clusters/${LOCAL_CLUSTER}/topics`, {
    headers: auth,
    data: { name: topic, partitions: 1, replicationFactor: 1,
      configs: { 'cleanup.policy': 'compact', 'segment.bytes': '4096', 'min.cleanable.dirty.ratio': '0.01' } },
  })
  expect(created.ok()).toBe(true)

  const lines: string[] = []
  for (let round = 0; round < 20; round++) for (let k = 0; k < 20; k++) lines.push(`key-${k}:round-${round}-${'v'.repeat(60)}`)
  const kcat = spawnSync('kcat', ['-b', await bootstrap(request), '-t', topic, '-P', '-K:', '-X', 'linger.ms=0', '-X', 'batch.num.messages=4'], {
    input: lines.join('\n') + '\n', encoding: 'utf8', timeout: 60_000,
  })
  expect(kcat.status, kcat.stderr).toBe(0)

  await expect.poll(async () => {
    const c = await cleaner(request, topic)
    return c?.reported === true && !!c.lastCleaned && c.bytesCleaned > 0
  }, { timeout: 120_000, intervals: [2_000] }).toBe(true)
  const c = (await cleaner(request, topic))!

  await page.goto(`/clusters/${LOCAL_CLUSTER}/topics/${topic}`)
  await expect(page.getByTestId('topic-cleanup-policy')).toHaveText('compact')
  const panel = page.getByTestId('topic-cleaner')
  await expect(panel).toBeVisible()
  await expect(panel.getByTestId('cleaner-not-reported')).toHaveCount(0)
  await expect(panel.getByTestId('cleaner-dirty-ratio')).toHaveText(`${(100 * c.dirtyRatio).toFixed(1)}%`)
  await expect(panel.getByTestId('cleaner-last-cleaned')).not.toHaveText('Not since its broker started')
  await expect(panel.getByTestId('cleaner-bytes-cleaned')).not.toHaveText('—')
  await expect(panel.getByTestId('cleaner-partitions').locator('tbody tr')).toHaveCount(c.partitions)
  await shot(page, testInfo, 'topic-cleaner')

  await page.evaluate(() => localStorage.setItem('osprey.locale', 'zh-CN'))
  await page.reload()
  await expect(page.getByTestId('topic-cleaner')).toContainText('日志清理器')
  await expect(page.getByTestId('topic-cleaner')).toContainText('脏数据比例')

  await request.delete(`/api/v1/clusters/${LOCAL_CLUSTER}/topics/${topic}`, { headers: auth })
})
