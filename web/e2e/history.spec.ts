// Questions about time against the embedded cluster `local` (3 runtime brokers, demo traffic): the
// catch-up estimate on the group list (sortable) and the group page, the availability timeline of a
// topic and of a broker after a broker is killed and started again, and the housekeeping page; in
// English and Chinese, light and dark, wide and narrow.
import type { APIRequestContext, Page } from '@playwright/test'
import { ADMIN_TOKEN, LOCAL_CLUSTER } from './constants'
import { expect, shot, test } from './fixtures'

const base = `/clusters/${LOCAL_CLUSTER}`
const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` }

interface Event {
  kind: string
  partition: number
  end: string | null
  cause: string
  brokers: number[]
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

async function events(request: APIRequestContext, path: string): Promise<Event[]> {
  const res = await request.get(`/api/v1/clusters/${LOCAL_CLUSTER}/${path}/availability`)
  expect(res.ok()).toBe(true)
  return ((await res.json()) as { events: Event[] }).events
}

async function brokersUp(request: APIRequestContext): Promise<number> {
  const res = await request.get(`/api/v1/clusters/${LOCAL_CLUSTER}`)
  return ((await res.json()) as { brokersUp: number }).brokersUp
}

test('the group list estimates the time to catch up, sorts by it, and the group page shows it per topic', async ({ page, request }, testInfo) => {
  // Two polls of a consuming group give an estimate (the demo groups keep up with their topics).
  await expect
    .poll(
      async () => {
        const res = await request.get(`/api/v1/clusters/${LOCAL_CLUSTER}/groups?sort=catchUp&limit=50`)
        const items = ((await res.json()) as { items: { name: string; catchUp: { state: string } }[] }).items
        return items.filter((g) => g.name.startsWith('demo-') && g.catchUp.state !== 'unknown').length
      },
      { timeout: 60_000 },
    )
    .toBeGreaterThan(0)

  await page.goto(`${base}/groups`)
  const table = page.getByTestId('groups-table')
  await expect(table).toBeVisible()
  const header = table.locator('th').filter({ hasText: 'Time to catch up' })
  await expect(header).toBeVisible()
  await expect(table.locator('[data-testid="catch-up"]:not([data-state="unknown"])').first()).toBeVisible({ timeout: 30_000 })
  const sorted = page.waitForRequest((r) => r.url().includes('/groups?') && r.url().includes('sort=catchUp'))
  await header.click()
  await sorted
  await shot(page, testInfo, 'groups-catch-up-en-light-wide')

  await table.getByTestId('group-link').filter({ hasText: 'demo-' }).first().click()
  await expect(page.getByTestId('group-catch-up')).toBeVisible()
  await expect(page.getByTestId('group-catch-up-topics')).toBeVisible()
  await expect(page.getByTestId('group-lag-chart')).toBeVisible()
  await shot(page, testInfo, 'group-catch-up-en-light-wide')
})

test('the group list in Chinese, dark, on a phone', async ({ page }, testInfo) => {
  await prefs(page, 'dark', 'zh-CN')
  await page.setViewportSize({ width: 390, height: 844 })
  await page.goto(`${base}/groups`)
  await expect(page.getByTestId('groups-table').locator('th').filter({ hasText: '追平时间' })).toBeVisible()
  await shot(page, testInfo, 'groups-catch-up-zh-dark-narrow')
})

test('a killed and restarted broker shows on the topic’s and the broker’s availability timeline', async ({ page, request }, testInfo) => {
  test.setTimeout(240_000)
  const runtime = await request.get('/api/v1/runtime/clusters')
  expect(runtime.ok()).toBe(true)
  const rc = ((await runtime.json()) as { items: { name: string; brokers: { id: number; controller: boolean }[] }[] }).items.find(
    (c) => c.name === LOCAL_CLUSTER,
  )
  expect(rc, 'the embedded cluster is a runtime cluster').toBeTruthy()
  expect(rc!.brokers.length).toBeGreaterThanOrEqual(3)
  const topic = `e2e.isr-${Date.now()}`
  const created = await request.post(`/api/v1/clusters/${LOCAL_CLUSTER}/topics`, {
    headers: auth,
    data: { name: topic, partitions: 3, replicationFactor: 3, configs: {} },
  })
  expect(created.ok()).toBe(true)
  // Every partition seen healthy first (a new topic's leader election is not an incident). A partition
  // the collector has not yet seen healthy is "starting": left out of the under-replicated count and
  // opening no interval for the starting grace (2 min), so a kill before then shows nothing in time.
  await expect
    .poll(
      async () => {
        const res = await request.get(`/api/v1/clusters/${LOCAL_CLUSTER}/topics/${topic}`)
        if (!res.ok()) return 'missing'
        const t = (await res.json()) as { underReplicated: number; starting: number }
        return `underReplicated=${t.underReplicated} starting=${t.starting}`
      },
      { timeout: 30_000 },
    )
    .toBe('underReplicated=0 starting=0')

  const victim = rc!.brokers.find((b) => !b.controller)!
  const path = `/api/v1/runtime/clusters/${LOCAL_CLUSTER}/brokers/${victim.id}`
  expect((await request.post(`${path}/kill`, { headers: auth })).ok()).toBe(true)
  // The victim's replicas leave the ISR: an open under-replicated interval whose cause is the down broker.
  await expect
    .poll(
      async () =>
        (await events(request, `topics/${topic}`)).some(
          (e) => e.kind === 'under_replicated' && e.end === null && e.cause === 'broker_down' && e.brokers.includes(victim.id),
        ),
      { timeout: 90_000 },
    )
    .toBe(true)
  await page.goto(`${base}/topics/${topic}`)
  await page.getByRole('tab', { name: 'Availability' }).click()
  const timeline = page.getByTestId('availability-timeline')
  await expect(timeline.getByTestId('availability-events').locator('[data-cause="broker_down"]').first()).toBeVisible()
  await shot(page, testInfo, 'topic-availability-during-en-light-wide')

  expect((await request.post(`${path}/start`, { headers: auth })).ok()).toBe(true)
  await expect.poll(() => brokersUp(request), { timeout: 60_000 }).toBe(rc!.brokers.length)
  // Back in the ISR: every under-replicated interval closed, and expands recorded.
  await expect
    .poll(
      async () => {
        const evs = await events(request, `topics/${topic}`)
        const open = evs.filter((e) => e.kind === 'under_replicated' && e.end === null).length
        const expands = evs.filter((e) => e.kind === 'isr_expand').length
        return open === 0 && expands > 0
      },
      { timeout: 120_000 },
    )
    .toBe(true)
  await page.reload()
  await page.getByRole('tab', { name: 'Availability' }).click()
  await expect(timeline.getByTestId('availability-lanes').locator('[data-kind="under_replicated"]').first()).toBeAttached()
  await expect(timeline.getByTestId('availability-events').locator('[data-kind="isr_expand"]').first()).toBeVisible()
  await shot(page, testInfo, 'topic-availability-after-en-light-wide')

  // The broker's own timeline: its down interval, closed.
  const down = (await events(request, `brokers/${victim.id}`)).filter((e) => e.kind === 'broker_down')
  expect(down.length).toBeGreaterThan(0)
  expect(down.every((e) => e.end !== null)).toBe(true)
  await page.goto(`${base}/brokers`)
  await page
    .getByTestId('brokers-table')
    .locator('tbody tr')
    .filter({ has: page.locator('td:first-child', { hasText: new RegExp(`^${victim.id}$`) }) })
    .click()
  await expect(page.getByTestId('availability-events').locator('[data-kind="broker_down"]').first()).toBeVisible()
  await shot(page, testInfo, 'broker-availability-en-light-wide')

  // The same timeline in Chinese and dark, wide and narrow.
  const zh = await page.context().newPage()
  await prefs(zh, 'dark', 'zh-CN')
  await zh.goto(`${base}/topics/${topic}`)
  await zh.getByRole('tab', { name: '可用性' }).click()
  await expect(zh.getByTestId('availability-events').locator('[data-cause="broker_down"]').first()).toBeVisible()
  await shot(zh, testInfo, 'topic-availability-zh-dark-wide')
  await zh.setViewportSize({ width: 390, height: 844 })
  await shot(zh, testInfo, 'topic-availability-zh-dark-narrow')
  await zh.close()

  await request.delete(`/api/v1/clusters/${LOCAL_CLUSTER}/topics/${topic}`, { headers: auth })
})

test('housekeeping lists unused topics and deletes one after a dry run', async ({ page, request }, testInfo) => {
  const topic = `e2e.unused-${Date.now()}`
  const created = await request.post(`/api/v1/clusters/${LOCAL_CLUSTER}/topics`, {
    headers: auth,
    data: { name: topic, partitions: 2, replicationFactor: 1, configs: {} },
  })
  expect(created.ok()).toBe(true)
  await expect
    .poll(async () => {
      const res = await request.get(`/api/v1/clusters/${LOCAL_CLUSTER}/housekeeping`)
      const h = (await res.json()) as { unconsumedTopics: { topic: string }[] }
      return h.unconsumedTopics.some((t) => t.topic === topic)
    }, { timeout: 30_000 })
    .toBe(true)
  await page.goto(`${base}/housekeeping`)
  await page.getByRole('tab', { name: /Topics without consumers/ }).click()
  const row = page.getByTestId('hk-unconsumed').locator('tr').filter({ hasText: topic })
  await row.locator('.el-checkbox').click()
  await shot(page, testInfo, 'housekeeping-en-light-wide')
  await page.getByTestId('hk-delete').click()
  const tokenDialog = page.getByTestId('token-dialog')
  if (await tokenDialog.isVisible().catch(() => false)) {
    await tokenDialog.locator('input').fill(ADMIN_TOKEN)
    await page.getByTestId('token-submit').click()
  }
  const dialog = page.getByTestId('cleanup-dialog')
  await expect(dialog.locator('[data-outcome="would-delete"]')).toHaveCount(1)
  await shot(page, testInfo, 'housekeeping-dry-run-en-light-wide')
  await dialog.getByTestId('cleanup-confirm').click()
  await expect(dialog.locator('[data-outcome="deleted"]')).toHaveCount(1)
  const audit = await request.get('/api/v1/audit?action=housekeeping.delete', { headers: auth })
  expect(((await audit.json()) as { items: { target: string; result: string }[] }).items[0]?.result).toBe('ok')

  const zh = await page.context().newPage()
  await prefs(zh, 'dark', 'zh-CN')
  await zh.setViewportSize({ width: 390, height: 844 })
  await zh.goto(`${base}/housekeeping`)
  await expect(zh.getByTestId('housekeeping-tabs')).toBeVisible()
  await shot(zh, testInfo, 'housekeeping-zh-dark-narrow')
  await zh.close()
})
