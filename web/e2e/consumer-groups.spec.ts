// A consumer group of the new protocol (KIP-848) rebalancing on the embedded runtime cluster `local`:
// real franz-go consumers (web/e2e/cgconsumer) join and leave group e2e-cg on a 6-partition topic while
// the console shows the group's type, group epoch, the broker's assignor and each member's assignment;
// a classic-protocol consumer's group is listed beside it as classic. Light English and dark Chinese.
import type { ChildProcess } from 'node:child_process'
import type { APIRequestContext, Page } from '@playwright/test'
import { LOCAL_CLUSTER } from './constants'
import { expect, shot, spawnGoHelper, test } from './fixtures'

const base = `/clusters/${LOCAL_CLUSTER}`
const api = `/api/v1/clusters/${LOCAL_CLUSTER}`
const TOPIC = 'e2e-cg'
const GROUP = 'e2e-cg'
const CLASSIC = 'e2e-cg-classic'

interface Member {
  clientId: string
  epoch?: number
  reconciling?: boolean
  assignment?: { topic: string; partitions: number[] }[]
}
interface Detail {
  type: string
  memberList: Member[]
  consumer?: { groupEpoch: number; assignmentEpoch: number; assignor: string; reconciling: number }
}

let consumers: ChildProcess | undefined
let said = ''

async function prefs(page: Page, theme: 'light' | 'dark', locale: 'en' | 'zh-CN'): Promise<void> {
  await page.addInitScript(
    ([t, l]) => {
      localStorage.setItem('osprey.theme', t!)
      localStorage.setItem('osprey.locale', l!)
    },
    [theme, locale],
  )
}

/** Starts two KIP-848 members of GROUP and one classic consumer of CLASSIC against the embedded cluster. */
async function startConsumers(request: APIRequestContext): Promise<void> {
  const rc = await request.get(`/api/v1/runtime/clusters`)
  expect(rc.ok()).toBe(true)
  const local = ((await rc.json()) as { items: { name: string; bootstrapServers: string }[] }).items.find((c) => c.name === LOCAL_CLUSTER)
  expect(local, 'the embedded runtime cluster').toBeTruthy()
  const args = ['-bootstrap', local!.bootstrapServers, '-topic', TOPIC, '-partitions', '6', '-group', GROUP, '-members', '2', '-classic-group', CLASSIC]
  const child = spawnGoHelper('cgconsumer', args)
  consumers = child
  let err = ''
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()))
  child.stdout!.on('data', (b: Buffer) => (said += b.toString()))
  await new Promise<void>((ok, fail) => {
    child.stdout!.on('data', () => {
      if (said.includes('members 2')) ok()
    })
    child.once('exit', (code) => fail(new Error(`cgconsumer exited ${code}: ${err}`)))
  })
}

/** Asks the helper to add or remove a member and waits until it says the new count. */
async function change(cmd: 'add' | 'remove', members: number): Promise<void> {
  const before = said.length
  consumers!.stdin!.write(`${cmd}\n`)
  await expect.poll(() => said.slice(before).includes(`members ${members}`), { timeout: 30_000 }).toBe(true)
}

async function detail(request: APIRequestContext, group: string): Promise<Detail | undefined> {
  const res = await request.get(`${api}/groups/${group}`)
  if (!res.ok()) return undefined
  return (await res.json()) as Detail
}

const sizes = (d: Detail | undefined): number[] =>
  (d?.memberList ?? []).map((m) => (m.assignment ?? []).reduce((n, a) => n + a.partitions.length, 0)).sort((a, b) => a - b)

/** Waits until the API's snapshot shows the group settled: these assignment sizes, nobody reconciling. */
async function settled(request: APIRequestContext, want: number[]): Promise<Detail> {
  let last: Detail | undefined
  await expect(async () => {
    last = await detail(request, GROUP)
    expect(sizes(last)).toEqual(want)
    expect(last?.consumer?.reconciling).toBe(0)
  }).toPass({ timeout: 45_000, intervals: [500] })
  return last!
}

/** The members table as the page shows it: per member the number of partitions in its assignment cell. */
async function pageSizes(page: Page): Promise<number[]> {
  const cells = await page.getByTestId('group-members').locator('tbody tr').evaluateAll((trs) =>
    trs.map((tr) => {
      // The assignment column: "topic: 0, 1, 2" per topic, after member, client, host and epoch.
      const td = tr.querySelectorAll('td')[4]
      return Array.from(td?.querySelectorAll('.cell > div') ?? []).map((div) => (div.textContent ?? '').split(':')[1] ?? '')
    }),
  )
  return cells.map((topics) => topics.reduce((n, list) => n + list.split(',').filter((x) => x.trim() !== '').length, 0)).sort((a, b) => a - b)
}

/** The group page shows the settled group d: its epochs, assignor and each member's assignment, all at target. */
async function expectPage(page: Page, d: Detail): Promise<void> {
  await expect(page.getByTestId('group-epoch')).toHaveText(String(d.consumer!.groupEpoch), { timeout: 20_000 })
  await expect(page.getByTestId('group-assignment-epoch')).toHaveText(String(d.consumer!.assignmentEpoch))
  await expect(page.getByTestId('group-assignor')).toHaveText('uniform')
  await expect(page.getByTestId('group-reconciling')).toHaveText('0')
  await expect(page.getByTestId('group-members').locator('tbody tr')).toHaveCount(d.memberList.length)
  await expect.poll(() => pageSizes(page)).toEqual(sizes(d))
  await expect(page.getByTestId('member-reconciling').filter({ hasText: /^\s*(Reconciling|协调中)\s*$/ })).toHaveCount(0)
}

/** The groups list's search box (Element Plus puts the test id on the <input> itself, or on a wrapper). */
const search = (page: Page) => page.locator(`input[data-testid="groups-search"], [data-testid="groups-search"] input`).first()

test.afterAll(() => {
  consumers?.stdin?.end()
  consumers?.kill()
})

test('a KIP-848 consumer group rebalances as members join and leave, beside a classic group', async ({ page, request }, testInfo) => {
  test.setTimeout(240_000)
  await startConsumers(request)
  const two = await settled(request, [3, 3])
  expect(two.type).toBe('consumer')
  expect(two.consumer!.assignor).toBe('uniform')
  await expect.poll(async () => (await detail(request, CLASSIC))?.type, { timeout: 30_000 }).toBe('classic')

  // The groups list, light English: the type column tells the protocols apart.
  await prefs(page, 'light', 'en')
  await page.goto(`${base}/groups`)
  await search(page).fill('e2e-cg')
  const row = (name: string) => page.getByTestId('groups-table').locator('tbody tr').filter({ has: page.getByRole('link', { name, exact: true }) })
  await expect(row(GROUP).getByTestId('group-type')).toHaveText('Consumer (KIP-848)')
  await expect(row(CLASSIC).getByTestId('group-type')).toHaveText('Classic')

  // The group's page: two members with three partitions each.
  await page.goto(`${base}/groups/${GROUP}`)
  await expect(page.getByTestId('group-type')).toHaveText('Consumer (KIP-848)')
  await expectPage(page, two)
  await shot(page, testInfo, 'consumer-group-light-en')

  // A third member joins: a higher group epoch, two partitions each, shown without reloading the page.
  await change('add', 3)
  const three = await settled(request, [2, 2, 2])
  expect(three.consumer!.groupEpoch).toBeGreaterThan(two.consumer!.groupEpoch)
  await expectPage(page, three)
  await expect(page.getByTestId('member-epoch')).toHaveCount(3)
  // The page scrolls inside its layout, so bring the members table into the picture.
  await page.getByTestId('group-members').scrollIntoViewIfNeeded()
  await shot(page, testInfo, 'consumer-group-members-light-en')

  // One leaves: two members with three partitions each again, at a still higher epoch.
  await change('remove', 2)
  const back = await settled(request, [3, 3])
  expect(back.consumer!.groupEpoch).toBeGreaterThan(three.consumer!.groupEpoch)
  await expectPage(page, back)

  // Dark Chinese: the list's types and the group's page.
  await prefs(page, 'dark', 'zh-CN')
  await page.goto(`${base}/groups`)
  await search(page).fill('e2e-cg')
  await expect(row(GROUP).getByTestId('group-type')).toHaveText('新消费者协议（KIP-848）')
  await expect(row(CLASSIC).getByTestId('group-type')).toHaveText('经典协议')
  await page.goto(`${base}/groups/${GROUP}`)
  await expectPage(page, back)
  await expect(page.getByTestId('group-type')).toHaveText('新消费者协议（KIP-848）')
  await page.getByTestId('group-members').scrollIntoViewIfNeeded()
  await shot(page, testInfo, 'consumer-group-members-dark-zh')
})
