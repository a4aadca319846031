// The Storage page against the embedded cluster `local` (3 runtime brokers with file log dirs, demo
// traffic): every log directory's used, total and usable bytes, growth per day and days until full,
// and every topic's size and settle size, as the API answered them to the page; light and dark,
// English and Chinese.
import type { Page, Response } from '@playwright/test'
import { ADMIN_TOKEN, LOCAL_CLUSTER } from './constants'
import { expect, shot, test } from './fixtures'

const base = `/clusters/${LOCAL_CLUSTER}`
const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` }

interface Dir {
  broker: number
  path: string
  usedBytes: number
  totalBytes: number
  usableBytes: number
  growthBytesPerDay: number | null
  daysUntilFull: number | null
}
interface Topic {
  topic: string
  diskBytes: number
  settleBytes: number
  settleBasis: string
}
interface Storage {
  dirs: Dir[]
  topics: Topic[]
}

async function prefs(page: Page, theme: 'light' | 'dark', locale: 'en' | 'zh-CN'): Promise<void> {
  await page.addInitScript(
    ([t, l]) => {
      localStorage.setItem('osprey.theme', t!)
      localStorage.setItem('osprey.locale', l!)
    },
    [theme, locale],
  )
}

const storageAnswer = (r: Response): boolean => r.url().endsWith(`/api/v1/clusters/${LOCAL_CLUSTER}/storage`) && r.request().method() === 'GET'

/** Opens the page and returns the storage answer it rendered. */
async function open(page: Page): Promise<Storage> {
  const answered = page.waitForResponse(storageAnswer)
  await page.goto(`${base}/storage`)
  const res = await answered
  expect(res.ok()).toBe(true)
  const s = (await res.json()) as Storage
  await expect(page.getByTestId('storage-dirs')).toBeVisible()
  return s
}

const attr = (v: number | null): string => (v === null ? '' : String(v))

async function expectSame(page: Page, s: Storage): Promise<void> {
  const dirs = page.getByTestId('storage-dirs').locator('tbody tr')
  await expect(dirs).toHaveCount(s.dirs.length)
  for (const [i, d] of s.dirs.entries()) {
    const row = dirs.nth(i)
    await expect(row.getByTestId('dir-path')).toHaveText(d.path)
    await expect(row.getByTestId('dir-used')).toHaveAttribute('data-value', attr(d.usedBytes))
    await expect(row.getByTestId('dir-total')).toHaveAttribute('data-value', attr(d.totalBytes))
    await expect(row.getByTestId('dir-usable')).toHaveAttribute('data-value', attr(d.usableBytes))
    await expect(row.getByTestId('dir-growth')).toHaveAttribute('data-value', attr(d.growthBytesPerDay))
    await expect(row.getByTestId('dir-days')).toHaveAttribute('data-value', attr(d.daysUntilFull))
  }
  const topics = page.getByTestId('storage-topics').locator('tbody tr')
  await expect(topics).toHaveCount(s.topics.length)
  for (const t of s.topics) {
    const row = topics.filter({ has: page.getByTestId('topic-name').getByText(t.topic, { exact: true }) })
    await expect(row.getByTestId('topic-disk')).toHaveAttribute('data-value', attr(t.diskBytes))
    await expect(row.getByTestId('topic-settle')).toHaveAttribute('data-value', attr(t.settleBytes))
  }
}

test('the storage page shows each log directory and topic as the API answers them', async ({ page, request }, testInfo) => {
  const topic = `e2e.storage-${Date.now()}`
  const created = await request.post(`/api/v1/clusters/${LOCAL_CLUSTER}/topics`, {
    headers: auth,
    data: { name: topic, partitions: 2, replicationFactor: 2, configs: { 'retention.bytes': '1048576', 'retention.ms': '-1' } },
  })
  expect(created.ok()).toBe(true)
  // The runtime's log dirs are on a file system (DescribeLogDirs v4 total and usable bytes), the
  // demo traffic makes them grow between polls, and the new topic's retention.bytes has been read.
  await expect
    .poll(
      async () => {
        const s = (await (await request.get(`/api/v1/clusters/${LOCAL_CLUSTER}/storage`)).json()) as Storage
        const t = s.topics.find((x) => x.topic === topic)
        const ok = s.dirs.length >= 3 && s.dirs.every((d) => d.totalBytes > 0 && d.usableBytes > 0) &&
          s.dirs.some((d) => (d.growthBytesPerDay ?? 0) > 0 && d.daysUntilFull !== null) && t?.settleBasis === 'retention_bytes'
        return ok ? 'ready' : JSON.stringify({ dirs: s.dirs, topic: t })
      },
      { timeout: 45_000 },
    )
    .toBe('ready')

  await prefs(page, 'light', 'en')
  const s = await open(page)
  await expectSame(page, s)
  // retention.bytes × partitions × replicas (no time limit).
  expect(s.topics.find((t) => t.topic === topic)?.settleBytes).toBe(1048576 * 2 * 2)
  const mine = page.getByTestId('storage-topics').locator('tbody tr').filter({ hasText: topic })
  await expect(mine.getByTestId('topic-settle')).toHaveText('4 MiB')
  await expect(page.getByRole('menuitem', { name: 'Storage' })).toBeVisible()
  await shot(page, testInfo, 'storage-en-light-wide')

  await prefs(page, 'dark', 'zh-CN')
  const dark = await open(page)
  await expectSame(page, dark)
  await expect(page.getByRole('heading', { name: '存储' })).toBeVisible()
  await expect(page.getByTestId('storage-dirs')).toContainText('写满天数')
  await shot(page, testInfo, 'storage-zh-dark-wide')

  await request.delete(`/api/v1/clusters/${LOCAL_CLUSTER}/topics/${topic}`, { headers: auth })
})
