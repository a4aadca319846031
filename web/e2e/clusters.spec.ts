// The shell and the cluster list, in Chromium, against the server global-setup started.
import { E2E_CLUSTER } from './constants'
import { expect, shot, test } from './fixtures'

// Every test gets a fresh browser context, so it starts from the defaults: English, light theme.

test('shows Osprey and the configured cluster', async ({ page }, testInfo) => {
  await page.goto('/')
  await expect(page).toHaveTitle(/Osprey/)
  await expect(page.getByTestId('brand')).toContainText('Osprey')
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Clusters')

  const row = page.getByTestId('clusters-table').locator('tbody tr', { hasText: E2E_CLUSTER.name })
  await expect(row).toHaveCount(1)
  await expect(row.getByTestId('cluster-name')).toHaveText(E2E_CLUSTER.name)
  await expect(row.getByText(E2E_CLUSTER.bootstrapServer, { exact: true })).toBeVisible()
  await expect(page.getByTestId('clusters-error')).toHaveCount(0)
  // The header's switcher picked one of the configured clusters.
  await expect(page.getByTestId('cluster-switcher')).toContainText(/e2e-kafka|local/)
  // Nothing listens on the bootstrap address, so once the collector has tried, the row says its data is partial.
  await expect(async () => {
    await page.getByTestId('clusters-refresh').click()
    await expect(row.getByTestId('cluster-partial')).toBeVisible({ timeout: 1_000 })
  }).toPass({ timeout: 20_000 })
  await row.getByTestId('cluster-partial').hover()
  await expect(page.getByRole('tooltip')).toContainText('connection refused')
  await shot(page, testInfo, 'clusters-en-light')
})

test('serves the SPA on a deep link', async ({ page }, testInfo) => {
  const res = await page.goto('/clusters')
  expect(res?.status()).toBe(200)
  await expect(page.getByTestId('clusters-table')).toContainText(E2E_CLUSTER.name)
  await page.goto('/no/such/page')
  await expect(page.getByTestId('not-found')).toContainText('Page not found')
  await shot(page, testInfo, 'not-found')
})

test('switches to Chinese and keeps it after a reload', async ({ page }, testInfo) => {
  await page.goto('/')
  await expect(page.getByTestId('clusters-table')).toContainText(E2E_CLUSTER.name)
  await page.getByTestId('language-switch').getByText('中文').click()

  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN')
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('集群')
  const headers = page.getByTestId('clusters-table').locator('thead th')
  await expect(headers.first()).toHaveText('名称')
  await expect(headers.filter({ hasText: '副本不足' })).toHaveCount(1)
  await expect(page.getByTestId('side-nav')).toContainText('集群')
  await expect(page).toHaveTitle('集群 · Osprey')
  await shot(page, testInfo, 'clusters-zh')

  await page.reload()
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('集群')
  await page.getByTestId('language-switch').getByText('EN').click()
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Clusters')
})

test('toggles the dark theme on <html> and keeps it after a reload', async ({ page }, testInfo) => {
  await page.goto('/')
  await expect(page.getByTestId('clusters-table')).toContainText(E2E_CLUSTER.name)
  const html = page.locator('html')
  await expect(html).not.toHaveClass(/(^|\s)dark(\s|$)/)
  const bodyBackground = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor)
  const lightBg = await bodyBackground()

  await page.getByTestId('theme-toggle').click()
  await expect(html).toHaveClass(/(^|\s)dark(\s|$)/)
  // Element Plus's dark variables are in effect, not just the class.
  expect(await bodyBackground()).not.toBe(lightBg)
  await shot(page, testInfo, 'clusters-dark')

  await page.reload()
  await expect(html).toHaveClass(/(^|\s)dark(\s|$)/)
  await page.getByTestId('theme-toggle').click()
  await expect(html).not.toHaveClass(/(^|\s)dark(\s|$)/)
})
