// History charts against the embedded cluster `local`: every dashboard range draws an x axis that
// spans exactly [now − range, now], however little history exists, and the data reaches its right edge.
import type { APIRequestContext } from '@playwright/test'
import { LOCAL_CLUSTER } from './constants'
import { expect, shot, test } from './fixtures'

/** The collector's offsets interval in global-setup, and room for a poll cycle on a busy machine. */
const POLL_MS = 2_000

/** The dashboard's ranges and their lengths, written out here as the test's own oracle. */
const RANGE_SECONDS = { '15m': 900, '1h': 3600, '6h': 21600, '24h': 86400, '7d': 604800 } as const
const RANGES = Object.keys(RANGE_SECONDS) as (keyof typeof RANGE_SECONDS)[]
const SLACK_MS = 8_000

async function waitForPolls(request: APIRequestContext): Promise<void> {
  await expect(async () => {
    const res = await request.get(`/api/v1/clusters/${LOCAL_CLUSTER}/metrics/cluster?step=raw`)
    expect(res.ok()).toBe(true)
    const body = (await res.json()) as { items: unknown[] }
    expect(body.items.length).toBeGreaterThanOrEqual(2)
  }).toPass({ timeout: 30_000 })
}

test('each dashboard range draws an axis spanning exactly the range, with data up to its right edge', async ({ page, request }, testInfo) => {
  await waitForPolls(request)
  await page.goto(`/clusters/${LOCAL_CLUSTER}/dashboard`)
  const card = page.getByTestId('chart-msgs')
  const chart = card.getByTestId('echart')
  for (const r of RANGES) {
    const clicked = Date.now()
    await page.getByTestId('range-picker').getByText(r, { exact: true }).click()
    // The dashboard reloads its series on a range change and every few seconds: wait for an answer
    // asked for after the click, then check what ECharts holds for the axis.
    await expect(async () => {
      const min = Number(await chart.getAttribute('data-x-min', { timeout: 1_000 }))
      const max = Number(await chart.getAttribute('data-x-max', { timeout: 1_000 }))
      expect(max - min, `${r}: axis span`).toBe(RANGE_SECONDS[r] * 1000)
      expect(max, `${r}: axis end after the click`).toBeGreaterThanOrEqual(Math.floor(clicked / 1000) * 1000)
      expect(max, `${r}: axis end not in the future`).toBeLessThanOrEqual(Date.now())
      const last = Number(await card.getAttribute('data-last-point', { timeout: 1_000 }))
      expect(max - last, `${r}: newest point behind the axis end`).toBeLessThanOrEqual(POLL_MS + SLACK_MS)
      expect(last, `${r}: newest point inside the window`).toBeGreaterThanOrEqual(min)
    }).toPass({ timeout: 20_000 })
    await expect(chart.locator('canvas')).toBeVisible()
    await shot(page, testInfo, `dashboard-${r}`)
  }
})
