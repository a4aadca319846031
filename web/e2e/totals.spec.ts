// Figures that must agree on the embedded cluster `local` (demo traffic, and __consumer_offsets as its
// internal topic): the dashboard and the topics page add up the same topics under one rule, with one
// "show internal topics" switch remembered between them; messages/s and bytes/s arrive together.
import type { APIRequestContext } from '@playwright/test'
import { LOCAL_CLUSTER } from './constants'
import { expect, shot, test } from './fixtures'

const base = `/clusters/${LOCAL_CLUSTER}`

interface Summary {
  topics: number
  msgsPerSec: number
  bytesPerSec: number
  internalIncluded: boolean
  internal: { topics: number } | null
}

async function summary(request: APIRequestContext, internal = false): Promise<Summary> {
  const res = await request.get(`/api/v1/clusters/${LOCAL_CLUSTER}${internal ? '?internal=true' : ''}`)
  expect(res.ok()).toBe(true)
  return (await res.json()) as Summary
}

test('messages/s and bytes/s come from the same poll', async ({ request }) => {
  // The first answer with a message rate has a byte rate too (bytes/s used to read 0 for a minute).
  let s: Summary | null = null
  await expect(async () => {
    s = await summary(request, true)
    expect(s.msgsPerSec).toBeGreaterThan(0)
  }).toPass({ timeout: 45_000 })
  expect(s!.bytesPerSec).toBeGreaterThan(0)
})

test('the dashboard and the topics page count the same topics, internal ones only when switched on', async ({ page, request }, testInfo) => {
  await expect(async () => {
    const s = await summary(request)
    expect(s.topics).toBeGreaterThanOrEqual(2)
    expect(s.internal?.topics ?? 0).toBeGreaterThanOrEqual(1) // __consumer_offsets: the demo groups commit
  }).toPass({ timeout: 30_000 })
  // Each page against the server's totals under the same rule (re-read: demo topics may still appear).
  const pageAgrees = async (internal: boolean, read: () => Promise<string>, want: (n: number) => string): Promise<void> => {
    await expect(async () => {
      const s = await summary(request, internal)
      expect(s.internalIncluded).toBe(internal)
      expect(await read()).toContain(want(s.topics))
    }).toPass({ timeout: 20_000 })
  }
  const dashboardTopics = () => page.getByTestId('stat-topics').getByTestId('stat-value').innerText()
  const topicsCount = () => page.getByTestId('topics-count').innerText()
  const topicsTotals = () => page.getByTestId('topics-totals').innerText()

  await page.goto(`${base}/dashboard`)
  await pageAgrees(false, dashboardTopics, (n) => String(n))
  await expect(page.getByTestId('totals-rule')).toContainText('leave out')

  await page.goto(`${base}/topics`)
  await pageAgrees(false, topicsCount, (n) => `${n} topics`)
  await pageAgrees(false, topicsTotals, (n) => `${n} topics in all`)
  await expect(page.getByTestId('topics-totals')).toContainText('internal topics left out')
  await expect(page.getByTestId('topics-table')).not.toContainText('__consumer_offsets')

  await page.getByTestId('topics-internal').click()
  await expect(page.getByTestId('topics-totals')).toContainText('internal topics included')
  await pageAgrees(true, topicsCount, (n) => `${n} topics`)
  await pageAgrees(true, topicsTotals, (n) => `${n} topics in all`)
  await expect(page.getByTestId('topics-table')).toContainText('__consumer_offsets')
  await shot(page, testInfo, 'topics-internal')

  // The switch is remembered: the dashboard now counts the internal topics too, and says so.
  await page.goto(`${base}/dashboard`)
  await expect(page.getByTestId('totals-rule')).toContainText('include')
  await pageAgrees(true, dashboardTopics, (n) => String(n))
  await shot(page, testInfo, 'dashboard-internal')
})
