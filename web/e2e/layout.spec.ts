// The console at phone size (390 × 844): the navigation moves into a drawer behind a menu button, no
// page scrolls sideways (wide tables scroll inside their card), and the header's controls stay on
// screen. Also what only a browser sees: clickable rows show a pointer; an unknown cluster's page is
// one "no such cluster" state; a cluster without ZooKeeper has no ZooKeeper entry.
import type { APIRequestContext, Page } from '@playwright/test'
import { LOCAL_CLUSTER } from './constants'
import { expect, shot, test } from './fixtures'

const base = `/clusters/${LOCAL_CLUSTER}`

/** Each main page and what shows once its data is in. */
const PAGES: { path: string; ready: string }[] = [
  { path: '/', ready: 'clusters-table' },
  { path: `${base}/dashboard`, ready: 'dashboard-stats' },
  { path: `${base}/brokers`, ready: 'brokers-table' },
  { path: `${base}/topics`, ready: 'topics-table' },
  { path: `${base}/topics/demo.orders`, ready: 'topic-page' },
  { path: `${base}/groups`, ready: 'groups-table' },
  { path: `${base}/operations`, ready: 'operations-page' },
  { path: '/alerts', ready: 'alerts-page' },
  { path: '/runtime', ready: 'runtime-page' },
  { path: '/audit', ready: 'audit-page' },
  { path: '/clusters/nope/dashboard', ready: 'no-such-cluster' },
]

async function waitForDemo(request: APIRequestContext): Promise<void> {
  await expect(async () => {
    const res = await request.get(`/api/v1/clusters/${LOCAL_CLUSTER}`)
    const s = (await res.json()) as { lastPoll?: string; topics?: number; groups?: number }
    expect(s.lastPoll).toBeTruthy()
    expect(s.topics ?? 0).toBeGreaterThanOrEqual(2)
    expect(s.groups ?? 0).toBeGreaterThanOrEqual(2)
  }).toPass({ timeout: 30_000 })
}

/** How far the document scrolls sideways: 0 when nothing sticks out of the viewport. */
function sideScroll(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
}

test.describe('at 390 × 844', () => {
  test.use({ viewport: { width: 390, height: 844 } })

  test('no main page scrolls sideways; the menu button opens the navigation; header controls stay on screen', async ({ page, request }, testInfo) => {
    await waitForDemo(request)
    for (const { path, ready } of PAGES) {
      await page.goto(path)
      await expect(page.getByTestId(ready), path).toBeVisible()
      expect(await sideScroll(page), `${path} scrolls sideways`).toBeLessThanOrEqual(0)
      // The side navigation is not on the page; the header's controls are all inside the viewport.
      await expect(page.getByTestId('side-nav'), path).toBeHidden()
      for (const id of ['menu-button', 'cluster-switcher', 'language-switch', 'theme-toggle']) {
        const box = await page.getByTestId(id).boundingBox()
        expect(box, `${path}: ${id}`).not.toBeNull()
        expect(box!.x, `${path}: ${id}`).toBeGreaterThanOrEqual(0)
        expect(box!.x + box!.width, `${path}: ${id}`).toBeLessThanOrEqual(390)
      }
    }
    await shot(page, testInfo, 'narrow-no-such-cluster')

    // The menu button opens the navigation in a drawer; following a link closes it.
    await page.goto(`${base}/topics`)
    await expect(page.getByTestId('topics-table')).toBeVisible()
    await page.getByTestId('menu-button').click()
    const drawer = page.getByTestId('nav-drawer')
    await expect(drawer.getByTestId('nav-groups')).toBeVisible()
    await shot(page, testInfo, 'narrow-menu-open')
    await drawer.getByTestId('nav-groups').click()
    await expect(page).toHaveURL(new RegExp(`${base}/groups$`))
    await expect(page.getByTestId('groups-table')).toBeVisible()
    await expect(drawer.getByTestId('nav-groups')).toBeHidden()

    // A wide table (the cluster list) scrolls inside its card, not the page.
    await page.goto('/')
    await expect(page.getByTestId('clusters-table')).toContainText(LOCAL_CLUSTER)
    const inner = await page.getByTestId('clusters-table').evaluate((el) =>
      Array.from(el.querySelectorAll<HTMLElement>('.el-table__body-wrapper .el-scrollbar__wrap')).some((w) => w.scrollWidth > w.clientWidth),
    )
    expect(inner, 'the table scrolls inside its card').toBe(true)
    expect(await sideScroll(page)).toBeLessThanOrEqual(0)
  })
})

test('clickable rows show a pointer', async ({ page, request }) => {
  await waitForDemo(request)
  await page.goto('/')
  const row = page.getByTestId('clusters-table').locator('tbody tr').first()
  await expect(row).toBeVisible()
  expect(await row.evaluate((el) => getComputedStyle(el).cursor)).toBe('pointer')
  await page.goto(`${base}/brokers`)
  const brokerRow = page.getByTestId('brokers-table').locator('tbody tr').first()
  await expect(brokerRow).toBeVisible()
  expect(await brokerRow.evaluate((el) => getComputedStyle(el).cursor)).toBe('pointer')
})

test('an unknown cluster shows one "no such cluster" state and asks nothing about it', async ({ page }) => {
  const asked: string[] = []
  page.on('request', (r) => {
    const u = new URL(r.url())
    if (u.pathname.startsWith('/api/v1/clusters/nope')) asked.push(u.pathname)
  })
  for (const p of ['dashboard', 'topics', 'zookeeper']) {
    await page.goto(`/clusters/nope/${p}`)
    await expect(page.getByTestId('no-such-cluster')).toBeVisible()
    await expect(page.getByTestId('live-badge')).toHaveCount(0)
    await expect(page.getByTestId('error')).toHaveCount(0)
  }
  expect(asked).toEqual([])
})

test('a cluster without ZooKeeper makes no ZooKeeper requests', async ({ page, request }) => {
  const res = await request.get('/api/v1/clusters')
  const items = ((await res.json()) as { items: { name: string; zookeeper: string }[] }).items
  const noZk = items.find((c) => !c.zookeeper)
  test.skip(!noZk, 'every configured cluster has ZooKeeper')
  const asked: string[] = []
  page.on('request', (r) => {
    const p = new URL(r.url()).pathname
    if (p.startsWith('/api/') && p.includes('/zookeeper')) asked.push(p)
  })
  await page.goto(`/clusters/${noZk!.name}/dashboard`)
  await expect(page.getByTestId('nav-dashboard')).toBeVisible()
  await expect(page.getByTestId('nav-zookeeper')).toHaveCount(0)
  await page.goto(`/clusters/${noZk!.name}/zookeeper`)
  await expect(page.getByTestId('zk-none')).toBeVisible()
  expect(asked).toEqual([])
})

