// A share group (KIP-932) on the embedded runtime cluster `local`: two franz-go share consumers
// (web/e2e/shareconsumer) read a topic that keeps receiving records and accept one record in three,
// release another (delivered again until the delivery count limit archives it) and reject the
// third. The groups list shows the group's type; its page shows the members and their assignment,
// the epochs, each share-partition's start offset moving on with its lag, how a share group's lag
// is defined, and the in-flight records the runtime's leaders report: delivery counts above one and
// archived records rising. English and 中文, light and dark, wide and narrow.
import type { ChildProcess } from 'node:child_process'
import type { APIRequestContext, Page } from '@playwright/test'
import { LOCAL_CLUSTER } from './constants'
import { expect, shot, spawnGoHelper, test } from './fixtures'

const base = `/clusters/${LOCAL_CLUSTER}`
const api = `/api/v1/clusters/${LOCAL_CLUSTER}`
const TOPIC = 'e2e-share'
const GROUP = 'e2e-share'

interface Partition {
  partition: number
  end: number | null
  lag: number | null
  share?: { startOffset: number; lagSource?: string; inFlight?: unknown }
}
interface Detail {
  type: string
  state: string
  memberList: { clientId: string; epoch?: number; assignment?: { topic: string; partitions: number[] }[] }[]
  topicList: { topic: string; partitions: Partition[] }[]
  share?: { groupEpoch: number; assignmentEpoch: number; figures: { reported: boolean; archivedTotal: number; maxDeliveries: number } }
}

let consumers: ChildProcess | undefined

async function prefs(page: Page, theme: 'light' | 'dark', locale: 'en' | 'zh-CN'): Promise<void> {
  await page.addInitScript(
    ([t, l]) => {
      localStorage.setItem('osprey.theme', t!)
      localStorage.setItem('osprey.locale', l!)
    },
    [theme, locale],
  )
}

/** Starts the share consumers and the producer against the embedded cluster. */
async function startConsumers(request: APIRequestContext): Promise<void> {
  const rc = await request.get(`/api/v1/runtime/clusters`)
  expect(rc.ok()).toBe(true)
  const local = ((await rc.json()) as { items: { name: string; bootstrapServers: string }[] }).items.find((c) => c.name === LOCAL_CLUSTER)
  expect(local, 'the embedded runtime cluster').toBeTruthy()
  const child = spawnGoHelper('shareconsumer', ['-bootstrap', local!.bootstrapServers, '-topic', TOPIC, '-group', GROUP, '-members', '2'])
  consumers = child
  let said = ''
  let err = ''
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()))
  await new Promise<void>((ok, fail) => {
    child.stdout!.on('data', (b: Buffer) => {
      said += b.toString()
      if (/consumed [1-9]/.test(said)) ok()
    })
    child.once('exit', (code) => fail(new Error(`shareconsumer exited ${code}: ${err}`)))
  })
}

async function detail(request: APIRequestContext): Promise<Detail | undefined> {
  const res = await request.get(`${api}/groups/${GROUP}`)
  if (!res.ok()) return undefined
  return (await res.json()) as Detail
}

/** The start offsets of the group's share-partitions that have one, by partition. */
const starts = (d: Detail | undefined): Map<number, number> =>
  new Map((d?.topicList ?? []).flatMap((t) => t.partitions).filter((p) => (p.share?.startOffset ?? -1) >= 0).map((p) => [p.partition, p.share!.startOffset]))

test.afterAll(() => {
  consumers?.stdin?.end()
  consumers?.kill()
})

test('a share group with redeliveries: members, start offsets, delivery counts and archived records rising', async ({ page, request }, testInfo) => {
  test.setTimeout(240_000)
  await startConsumers(request)
  // Settled: two members sharing the topic, and the share-partitions started.
  let first: Detail | undefined
  await expect(async () => {
    first = await detail(request)
    expect(first?.type).toBe('share')
    expect(first?.state).toBe('Stable')
    expect(first?.memberList.map((m) => m.clientId).sort()).toEqual(['share-1', 'share-2'])
    expect(starts(first).size).toBeGreaterThan(0)
  }).toPass({ timeout: 60_000, intervals: [500] })
  // The start offsets move on as records are accepted, rejected and archived at the limit.
  await expect(async () => {
    const now = starts(await detail(request))
    expect([...starts(first)].some(([p, off]) => (now.get(p) ?? -1) > off)).toBe(true)
  }).toPass({ timeout: 60_000, intervals: [1000] })
  const d = (await detail(request))!
  expect(d.share!.groupEpoch).toBeGreaterThan(0)
  const started = d.topicList.flatMap((t) => t.partitions).filter((p) => (p.share?.startOffset ?? -1) >= 0)
  // The lag is the broker's where the group's coordinator reports it, else computed from the
  // in-flight records the leaders report, else its upper bound; never unknown once started.
  for (const p of started) {
    expect(['reported', 'computed', 'estimated'], JSON.stringify(d.topicList)).toContain(p.share!.lagSource)
    expect(p.lag).toBeGreaterThanOrEqual(0)
  }
  // The runtime's leaders report their in-flight records: released records come back with higher
  // delivery counts, and rejected ones (and released ones at the limit) are archived, more and more.
  expect(d.share!.figures.reported).toBe(true)
  const archived0 = d.share!.figures.archivedTotal
  await expect(async () => {
    const f = (await detail(request))!.share!.figures
    expect(f.maxDeliveries).toBeGreaterThanOrEqual(2)
    expect(f.archivedTotal).toBeGreaterThan(archived0)
  }).toPass({ timeout: 60_000, intervals: [1000] })

  // The groups list, light English.
  await prefs(page, 'light', 'en')
  await page.goto(`${base}/groups`)
  await page.locator(`input[data-testid="groups-search"], [data-testid="groups-search"] input`).first().fill(GROUP)
  const row = page.getByTestId('groups-table').locator('tbody tr').filter({ has: page.getByRole('link', { name: GROUP, exact: true }) })
  await expect(row.getByTestId('group-type')).toHaveText('Share (KIP-932)')

  // The group's page: members, epochs, share-partitions with their start offsets moving on.
  await page.goto(`${base}/groups/${GROUP}`)
  await expect(page.getByTestId('group-type')).toHaveText('Share (KIP-932)')
  await expect(page.getByTestId('share-group-epoch')).toHaveText(/^[1-9]\d*$/, { timeout: 20_000 })
  await expect(page.getByTestId('group-members').locator('tbody tr')).toHaveCount(2)
  await expect(page.getByTestId('group-members')).toContainText('share-1')
  await expect(page.getByTestId('group-members')).toContainText(`${TOPIC}:`)
  await expect(page.getByTestId('share-lag-definition')).toContainText('high watermark − share-partition start offset (SPSO)')
  await expect(page.getByTestId('share-not-reported')).toHaveCount(0)
  const num = async (id: string): Promise<number> => Number(((await page.getByTestId(id).first().textContent()) ?? '').replace(/,/g, ''))
  await expect(page.getByTestId('share-archived')).toHaveText(/^[\d,]+$/)
  const spso = await num('share-spso')
  const archived = await num('share-archived')
  // Live: the page follows the start offset and the archived records without a reload, and shows
  // records delivered more than once.
  await expect.poll(() => num('share-spso'), { timeout: 45_000 }).toBeGreaterThan(spso)
  await expect.poll(() => num('share-archived'), { timeout: 45_000 }).toBeGreaterThan(archived)
  await expect.poll(() => num('share-max-deliveries'), { timeout: 45_000 }).toBeGreaterThanOrEqual(2)
  await expect(page.getByTestId('share-deliveries').first()).toHaveText(/\d+×\d+/)
  await expect(page.getByTestId('share-lag-source').first()).toHaveText(/^(reported|computed|estimated)$/)
  await page.getByTestId('share-partitions').scrollIntoViewIfNeeded()
  await shot(page, testInfo, 'share-group-light-en-wide')
  await page.setViewportSize({ width: 420, height: 900 })
  await page.getByTestId('share-group').scrollIntoViewIfNeeded()
  await shot(page, testInfo, 'share-group-light-en-narrow')

  // Dark 中文.
  await page.setViewportSize({ width: 1440, height: 900 })
  await prefs(page, 'dark', 'zh-CN')
  await page.goto(`${base}/groups/${GROUP}`)
  await expect(page.getByTestId('group-type')).toHaveText('共享组（KIP-932）')
  await expect(page.getByTestId('share-archived')).toHaveText(/^[\d,]+$/)
  await expect(page.getByTestId('share-lag-source').first()).toHaveText(/^(报告值|计算值|估计值)$/)
  await expect(page.getByTestId('share-lag-definition')).toContainText('共享分区起始位点（SPSO）')
  await expect(page.getByTestId('group-members').locator('tbody tr')).toHaveCount(2)
  await page.getByTestId('share-partitions').scrollIntoViewIfNeeded()
  await shot(page, testInfo, 'share-group-dark-zh-wide')
  await page.setViewportSize({ width: 420, height: 900 })
  await page.getByTestId('share-group').scrollIntoViewIfNeeded()
  await shot(page, testInfo, 'share-group-dark-zh-narrow')
})
