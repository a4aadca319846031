// The console's pages against the embedded cluster `local` (one broker, demo traffic): real figures on
// the dashboard, topic create → produce → browse → delete with the admin token, refusals with a wrong
// token, a lagging group's chart, Chinese and dark theme; reassignment and election need more brokers.
import type { APIRequestContext, Page } from '@playwright/test'
import { ADMIN_TOKEN, LOCAL_CLUSTER } from './constants'
import { expect, shot, test } from './fixtures'

const base = `/clusters/${LOCAL_CLUSTER}`

interface Summary {
  brokers: number
  brokersUp: number
  topics: number
  partitions: number
  controller: number
  groups: number
  lastPoll?: string
}

async function summary(request: APIRequestContext): Promise<Summary> {
  const res = await request.get(`/api/v1/clusters/${LOCAL_CLUSTER}`)
  expect(res.ok()).toBe(true)
  return (await res.json()) as Summary
}

/** Waits until the collector has polled the embedded cluster and its demo topics exist. */
async function waitForCluster(request: APIRequestContext): Promise<Summary> {
  let s: Summary | null = null
  await expect(async () => {
    s = await summary(request)
    expect(s.lastPoll).toBeTruthy()
    expect(s.topics).toBeGreaterThanOrEqual(2)
    expect(s.groups).toBeGreaterThanOrEqual(2)
  }).toPass({ timeout: 30_000 })
  return s!
}

async function topicExists(request: APIRequestContext, name: string): Promise<boolean> {
  const res = await request.get(`/api/v1/clusters/${LOCAL_CLUSTER}/topics/${encodeURIComponent(name)}`)
  return res.ok()
}

/** The input of a form field by its test id (Element Plus puts the attribute on the <input> itself, or on a wrapper). */
function field(page: Page, id: string) {
  return page.locator(`:is(input, textarea)[data-testid="${id}"], [data-testid="${id}"] :is(input, textarea)`).first()
}

async function giveToken(page: Page, token: string): Promise<void> {
  const dialog = page.getByTestId('token-dialog')
  await expect(dialog).toBeVisible()
  await field(page, 'token-input').fill(token)
  await page.getByTestId('token-submit').click()
}

test('the dashboard shows the cluster’s real figures', async ({ page, request }, testInfo) => {
  const s = await waitForCluster(request)
  await page.goto(`${base}/dashboard`)
  await expect(page.getByTestId('dashboard-stats')).toBeVisible()
  // Brokers, controller and partitions do not move while no test changes topics.
  await expect(page.getByTestId('stat-brokers').getByTestId('stat-value')).toHaveText(`${s.brokersUp} / ${s.brokers}`)
  await expect(page.getByTestId('stat-controller').getByTestId('stat-value')).toHaveText(String(s.controller))
  await expect(page.getByTestId('stat-topics').getByTestId('stat-value')).toHaveText(String(s.topics))
  await expect(page.getByTestId('stat-partitions').getByTestId('stat-value')).toHaveText(String(s.partitions))
  await expect(page.getByTestId('stat-groups').getByTestId('stat-value')).toHaveText(String(s.groups))
  // Live: the stream is connected and the message-rate chart is drawn.
  await expect(page.getByTestId('live-badge')).toBeVisible()
  await expect(async () => {
    await page.getByTestId('range-picker').getByText('15m').click()
    await expect(page.getByTestId('chart-msgs').locator('canvas')).toBeVisible({ timeout: 2_000 })
  }).toPass({ timeout: 30_000 })
  await expect(page.getByTestId('top-groups')).toContainText('demo-analytics')
  await expect(page.getByTestId('top-topics')).toContainText('demo.orders')
  await shot(page, testInfo, 'dashboard')
})

test('create a topic with the admin token, produce a message, see it, delete the topic', async ({ page, request }, testInfo) => {
  await waitForCluster(request)
  const name = `e2e.topic-${Date.now()}`
  await page.goto(`${base}/topics`)
  await expect(page.getByTestId('topics-table')).toContainText('demo.orders')

  await page.getByTestId('topics-create').click()
  const form = page.getByTestId('create-topic-dialog')
  // The form refuses a bad name before asking the server.
  await field(page, 'create-topic-name').fill('bad name!')
  await field(page, 'create-topic-name').blur()
  await expect(form).toContainText('Only letters, digits')
  await expect(page.getByTestId('create-topic-submit')).toBeDisabled()
  await field(page, 'create-topic-name').fill(name)
  await field(page, 'create-topic-partitions').fill('2')
  await shot(page, testInfo, 'create-topic-form')
  await page.getByTestId('create-topic-submit').click()
  await giveToken(page, ADMIN_TOKEN)

  // Created: the page moves to the topic, which the next snapshot shows.
  await expect(page).toHaveURL(new RegExp(`/topics/${name.replace(/\./g, '\\.')}(\\?|$)`))
  await expect.poll(() => topicExists(request, name), { timeout: 20_000 }).toBe(true)
  await expect(page.getByTestId('partitions-table').locator('tbody tr')).toHaveCount(2, { timeout: 20_000 })

  // Edit a config: the override shows with source "topic".
  await page.getByTestId('topic-tabs').getByText('Configs').click()
  await page.getByTestId('config-edit-retention.ms').click()
  await field(page, 'config-edit-input').fill('3600000')
  await page.getByTestId('config-save').click()
  const retention = page
    .getByTestId('configs-table')
    .locator('tbody tr')
    .filter({ has: page.getByText('retention.ms', { exact: true }) })
  await expect(retention).toContainText('3600000')
  await expect(retention).toContainText('topic')
  await shot(page, testInfo, 'topic-configs')

  // Produce a JSON message (the token is remembered for the session: no second prompt).
  await page.getByTestId('topic-produce').click()
  await field(page, 'produce-key').fill('order-1')
  await field(page, 'produce-value').fill('{"hello":"osprey","n":1}')
  await field(page, 'produce-headers').fill('source=e2e')
  await page.getByTestId('produce-submit').click()
  await expect(page.getByTestId('token-dialog')).toBeHidden()
  await expect(page.getByTestId('produce-dialog')).toBeHidden()

  // The browser (switched to after producing) loads by itself and shows it at once: the record was
  // acknowledged by all in-sync replicas, so no reload and no error on the way (a new partition's leader
  // must not be read from stale metadata). Expanded, the value is pretty-printed JSON.
  const row = page.getByTestId('messages-table').locator('tbody tr', { hasText: 'order-1' })
  await expect(row.first()).toBeVisible()
  await expect(page.getByTestId('messages-error')).toHaveCount(0)
  await expect(row.first().getByTestId('message-preview')).toContainText('"hello":"osprey"')
  await row.first().locator('.el-table__expand-icon').click()
  await expect(page.getByTestId('message-value').first()).toContainText('"hello": "osprey"')
  await expect(page.getByTestId('message-detail').first()).toContainText('source')
  await shot(page, testInfo, 'message-browser')

  // Delete: confirm by typing the name.
  await page.getByTestId('topic-delete').click()
  await expect(page.getByTestId('delete-topic-submit')).toBeDisabled()
  await field(page, 'delete-topic-confirm').fill(name)
  await page.getByTestId('delete-topic-submit').click()
  await expect(page).toHaveURL(new RegExp(`${base}/topics$`))
  await expect.poll(() => topicExists(request, name), { timeout: 20_000 }).toBe(false)
  await shot(page, testInfo, 'after-delete')
})

test('a wrong token is refused with the API’s message and changes nothing', async ({ page, request }, testInfo) => {
  await waitForCluster(request)
  const name = `e2e.refused-${Date.now()}`
  await page.goto(`${base}/topics`)
  await page.getByTestId('topics-create').click()
  await field(page, 'create-topic-name').fill(name)
  await page.getByTestId('create-topic-submit').click()
  await giveToken(page, 'not-the-admin-token-at-all')
  // The server says why; the dialog asks again.
  await expect(page.getByTestId('token-error')).toContainText('token is not valid')
  await shot(page, testInfo, 'wrong-token')
  await page.getByTestId('token-cancel').click()
  await expect(page.getByTestId('token-dialog')).toBeHidden()
  expect(await topicExists(request, name)).toBe(false)

  // Deleting a demo topic with a wrong token is refused as well; the topic stays.
  await page.goto(`${base}/topics/demo.payments`)
  await page.getByTestId('topic-delete').click()
  await field(page, 'delete-topic-confirm').fill('demo.payments')
  await page.getByTestId('delete-topic-submit').click()
  await giveToken(page, 'still-the-wrong-token')
  await expect(page.getByTestId('token-error')).toContainText('token is not valid')
  await page.getByTestId('token-cancel').click()
  expect(await topicExists(request, 'demo.payments')).toBe(true)
})

test('a lagging group’s lag chart renders', async ({ page, request }, testInfo) => {
  await waitForCluster(request)
  // demo-analytics consumes slower than the demo producer: its lag is above zero and charted.
  await expect(async () => {
    const res = await request.get(`/api/v1/clusters/${LOCAL_CLUSTER}/groups/demo-analytics/lag?step=raw`)
    const body = (await res.json()) as { items: { values: { lag: number } }[] }
    expect(body.items.some((p) => p.values.lag > 0)).toBe(true)
  }).toPass({ timeout: 30_000 })
  await page.goto(`${base}/groups`)
  await page.getByTestId('groups-table').getByText('demo-analytics').click()
  await expect(page.getByTestId('group-name')).toHaveText('demo-analytics')
  await expect(page.getByTestId('group-lag-chart').locator('canvas')).toBeVisible({ timeout: 20_000 })
  await expect(page.getByTestId('group-lag-seconds-chart').locator('canvas')).toBeVisible()
  await expect(page.getByTestId('group-partitions')).toContainText('demo.orders')
  await shot(page, testInfo, 'group-lag')
})

test('switches the console to Chinese and the dark theme', async ({ page, request }, testInfo) => {
  await waitForCluster(request)
  await page.goto(`${base}/dashboard`)
  await expect(page.getByTestId('dashboard-stats')).toBeVisible()
  await page.getByTestId('language-switch').getByText('中文').click()
  await expect(page.getByRole('heading', { level: 1 })).toContainText('概览')
  await expect(page.getByTestId('side-nav')).toContainText('消费组')
  await expect(page.getByTestId('stat-partitions')).toContainText('分区')
  await page.getByTestId('theme-toggle').click()
  await expect(page.locator('html')).toHaveClass(/(^|\s)dark(\s|$)/)
  await expect(page.getByTestId('chart-msgs').locator('canvas')).toBeVisible({ timeout: 20_000 })
  await shot(page, testInfo, 'dashboard-zh-dark')
  await page.goto(`${base}/topics`)
  await expect(page.getByTestId('topics-table').locator('thead')).toContainText('分区数')
  await shot(page, testInfo, 'topics-zh-dark')
})

test('an offset reset of an active group: the dry run shows the plan, executing is refused with the reason', async ({ page, request }, testInfo) => {
  await waitForCluster(request)
  await page.goto(`${base}/groups/demo-billing`)
  await expect(page.getByTestId('group-summary')).toContainText('Stable')
  await page.getByTestId('group-reset').click()
  // The page knows the group is active: Reset is disabled with the reason, the preview is offered.
  await expect(page.getByTestId('reset-active')).toContainText('Stable')
  await expect(page.getByTestId('reset-submit')).toBeDisabled()
  await page.getByTestId('reset-strategy').getByText('Earliest').click()
  await page.getByTestId('reset-preview-button').click()
  await giveToken(page, ADMIN_TOKEN)
  // As kafka-consumer-groups.sh --dry-run does on an active group: the plan, nothing changed.
  await expect(page.getByTestId('reset-preview').locator('tbody tr').first()).toBeVisible()
  await expect(page.getByTestId('reset-error')).toHaveCount(0)
  await shot(page, testInfo, 'reset-dry-run-active')
})

test('alert channels and rules: create a channel, see its test send fail, create a rule', async ({ page, request }, testInfo) => {
  await waitForCluster(request)
  const name = `hook-${Date.now()}`
  await page.goto('/alerts')
  await page.getByRole('tab', { name: 'Channels' }).click()
  // Anyone may list the channels (secrets masked); creating one asks for the token.
  await expect(page.getByTestId('error-token')).toHaveCount(0)
  await page.getByTestId('channel-new').click()
  await field(page, 'channel-name').fill(name)
  await field(page, 'channel-url').fill('http://127.0.0.1:9/hook')
  await page.getByTestId('channel-save').click()
  await giveToken(page, ADMIN_TOKEN)
  const row = page.getByTestId('channels-table').locator('tbody tr', { hasText: name })
  await expect(row).toContainText(/webhook/i)
  // Nothing listens there: the test send reports the delivery error.
  await row.getByText('Send test').click()
  await expect(page.locator('.el-message--error')).toContainText('connection refused')

  await page.getByRole('tab', { name: 'Rules' }).click()
  await page.getByTestId('rule-new').click()
  await field(page, 'rule-name').fill(`lag of ${name}`)
  await page.getByTestId('rule-save').click()
  await expect(page.getByTestId('rules-table')).toContainText(`lag of ${name}`)
  await shot(page, testInfo, 'alert-rules')
})

async function brokerCount(request: APIRequestContext): Promise<number> {
  return (await summary(request)).brokers
}

test('a reassignment runs to completion with progress shown', async ({ page, request }, testInfo) => {
  const brokers = await brokerCount(request)
  test.fixme(brokers < 2, `the embedded cluster has ${brokers} broker(s); a reassignment needs at least 2 (multi-broker runtime cluster pending)`)
  test.setTimeout(120_000)
  // A topic of its own, one replica per partition spread over the brokers; moving it all onto the
  // first broker is a change the planner cannot skip.
  const name = `e2e.move-${Date.now()}`
  const created = await request.post(`/api/v1/clusters/${LOCAL_CLUSTER}/topics`, {
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    data: { name, partitions: 3, replicationFactor: 1, configs: {} },
  })
  expect(created.ok()).toBe(true)
  await expect.poll(() => topicExists(request, name), { timeout: 20_000 }).toBe(true)

  await page.goto(`${base}/operations`)
  await page.getByTestId('reassign-topics').click()
  await page.getByRole('option', { name }).click()
  await page.keyboard.press('Escape')
  const boxes = page.getByTestId('reassign-brokers').locator('label.el-checkbox')
  await expect(boxes).toHaveCount(brokers)
  for (let i = 1; i < brokers; i++) await boxes.nth(i).click()
  await page.getByTestId('reassign-plan').click()
  await giveToken(page, ADMIN_TOKEN)
  await expect(page.getByTestId('reassign-plan-table')).toContainText(name)
  await shot(page, testInfo, 'reassignment-plan')
  await page.getByTestId('reassign-execute').click()
  await expect(page.getByTestId('reassign-progress')).toContainText(name)
  await expect(page.getByTestId('reassign-finished')).toBeVisible({ timeout: 90_000 })
  await shot(page, testInfo, 'reassignment-done')
  await request.delete(`/api/v1/clusters/${LOCAL_CLUSTER}/topics/${name}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })
})

// The wizard's screens in the browser, with the cluster side answered by page.route: plan → execute
// → progress bars → done. (The real-cluster run above needs several brokers.)
test('the reassignment wizard walks plan → execute → progress → done (cluster answers mocked)', async ({ page, request }, testInfo) => {
  await waitForCluster(request)
  const brokers = [0, 1, 2].map((id) => ({
    id, host: '127.0.0.1', port: 9100 + id, rack: '', controller: id === 0, up: true, leaders: 3, replicas: 3, logDirBytes: 0, msgsPerSec: 0, bytesInPerSec: 0,
  }))
  const plan = {
    cluster: LOCAL_CLUSTER, topics: ['demo.payments'], brokers: [1, 2], replicationFactor: 0, snapshotSequence: 1,
    partitions: [0, 1, 2].map((p) => ({ topic: 'demo.payments', partition: p, before: [0], after: [1 + (p % 2)], moved: 1 })),
    movedReplicas: 3, changedPartitions: 3, rackAware: false,
  }
  let polls = 0
  let executed: unknown = null
  await page.route(`**/api/v1/clusters/${LOCAL_CLUSTER}/brokers`, (r) => r.fulfill({ json: { items: brokers, total: 3 } }))
  await page.route(`**/api/v1/clusters/${LOCAL_CLUSTER}/reassignments/plan`, (r) => r.fulfill({ json: plan }))
  await page.route(`**/api/v1/clusters/${LOCAL_CLUSTER}/reassignments`, async (r) => {
    if (r.request().method() === 'POST') {
      executed = r.request().postDataJSON()
      return r.fulfill({
        json: { id: 1, started: 3, failed: 0, throttleBytesPerSec: 10485760, partitions: plan.partitions.map((p) => ({ ...p, replicas: p.after })) },
      })
    }
    polls++
    // Progress rises over three polls, then nothing is ongoing and the server's record says completed:
    // done (the wizard waits for the record, not just for the moves to stop being listed).
    const progress = [0.25, 0.6, 0.9][polls - 1]
    const items =
      progress === undefined || executed === null
        ? []
        : plan.partitions.map((p) => ({ topic: p.topic, partition: p.partition, replicas: [0, ...p.after], target: p.after, adding: p.after, removing: [0], isr: [0], inSync: 0, total: 1, progress: p.partition === 0 ? 1 : progress }))
    const history =
      executed === null
        ? []
        : [{ id: 1, state: progress === undefined ? 'completed' : 'running', actor: 'admin-token', startedAt: new Date().toISOString(), finishedAt: null, throttleBytesPerSec: 10485760, partitions: [] }]
    return r.fulfill({ json: { items, total: items.length, history } })
  })

  await page.goto(`${base}/operations`)
  await page.getByTestId('reassign-topics').click()
  await page.getByRole('option', { name: 'demo.payments' }).click()
  await page.keyboard.press('Escape')
  await page.getByTestId('reassign-brokers').locator('label.el-checkbox').first().click() // leave broker 0
  await page.getByTestId('reassign-plan').click()
  await giveToken(page, ADMIN_TOKEN)
  await expect(page.getByTestId('reassign-plan-table').locator('tbody tr')).toHaveCount(3)
  await shot(page, testInfo, 'wizard-plan')
  await field(page, 'reassign-throttle').fill('10')
  await page.getByTestId('reassign-execute').click()
  await expect(page.getByTestId('reassign-progress').locator('.el-progress')).toHaveCount(3)
  await shot(page, testInfo, 'wizard-progress')
  await expect(page.getByTestId('reassign-finished')).toBeVisible({ timeout: 20_000 })
  expect(executed).toMatchObject({ throttleBytesPerSec: 10 * 1024 * 1024, plan: { topics: ['demo.payments'] } })
  await shot(page, testInfo, 'wizard-done')
})

test('the election screen shows leader skew before and after (cluster answer mocked)', async ({ page, request }, testInfo) => {
  await waitForCluster(request)
  let scope: unknown = null
  await page.route(`**/api/v1/clusters/${LOCAL_CLUSTER}/elections`, (r) => {
    scope = r.request().postDataJSON()
    return r.fulfill({
      json: {
        items: [{ topic: 'demo.orders', partition: 0, leaderBefore: 1, preferredLeader: 0, leaderAfter: 0, result: 'elected' }],
        total: 6, elected: 4, notNeeded: 2, failed: 0,
        topics: [{ topic: 'demo.orders', leaderSkewBefore: 66.7, preferredLeaderBefore: 33.3, leaderSkewAfter: 0, preferredLeaderAfter: 100 }],
      },
    })
  })
  await page.goto(`${base}/operations`)
  await page.getByTestId('election-scope').getByText('Topic').click()
  await page.getByTestId('election-topic').click()
  await page.getByRole('option', { name: 'demo.orders' }).click()
  await page.getByTestId('election-run').click()
  await giveToken(page, ADMIN_TOKEN)
  await expect(page.getByTestId('election-summary')).toContainText('4 elected, 2 already preferred, 0 failed')
  const row = page.getByTestId('election-topics').locator('tbody tr').first()
  await expect(row.locator('[data-level]').first()).toHaveAttribute('data-level', 'warning')
  await expect(row.locator('[data-level]').nth(1)).toHaveAttribute('data-level', 'success')
  expect(scope).toEqual({ topic: 'demo.orders' })
  // Each partition with its leader before and after, as the server read them.
  const part = page.getByTestId('election-partitions').locator('tbody tr').first()
  await expect(part.getByTestId('election-leaders')).toHaveText('1 → 0')
  await expect(part).toContainText('elected')
  await shot(page, testInfo, 'election-result')
})

interface TopicRowLite {
  name: string
  leaderSkew: number
  preferredLeader: number
  replicationFactor: number
}

async function topicRows(request: APIRequestContext): Promise<TopicRowLite[]> {
  const res = await request.get(`/api/v1/clusters/${LOCAL_CLUSTER}/topics?limit=500`)
  expect(res.ok()).toBe(true)
  return ((await res.json()) as { items: TopicRowLite[] }).items
}

test('a preferred leader election after a broker restart brings leader skew back to 0', async ({ page, request }, testInfo) => {
  const brokers = await brokerCount(request)
  test.fixme(brokers < 2, `the embedded cluster has ${brokers} broker(s); an election after a broker restart needs at least 2 (multi-broker runtime cluster pending)`)
  test.setTimeout(240_000)
  const runtime = await request.get('/api/v1/runtime/clusters')
  test.fixme(!runtime.ok(), `GET /api/v1/runtime/clusters answers ${runtime.status()}: broker kill/start is not available yet`)
  const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` }
  const rc = ((await runtime.json()) as { items: { name: string; brokers: { id: number; controller: boolean }[] }[] }).items.find(
    (c) => c.name === LOCAL_CLUSTER,
  )
  test.fixme(!rc, `the runtime API does not list the embedded cluster ${LOCAL_CLUSTER}`)
  // A topic of its own with every partition on every broker (the demo topics have one replica).
  const topic = `e2e.elect-${Date.now()}`
  const created = await request.post(`/api/v1/clusters/${LOCAL_CLUSTER}/topics`, {
    headers: auth,
    data: { name: topic, partitions: 6, replicationFactor: Math.min(3, brokers), configs: {} },
  })
  expect(created.ok()).toBe(true)
  await expect.poll(() => topicExists(request, topic), { timeout: 20_000 }).toBe(true)
  const mine = async (): Promise<TopicRowLite | undefined> => (await topicRows(request)).find((t) => t.name === topic)
  await expect.poll(async () => (await mine())?.preferredLeader, { timeout: 30_000 }).toBe(100)

  // Kill a broker that is not the controller and start it again: its partitions get other leaders.
  const victim = rc!.brokers.find((b) => !b.controller) ?? rc!.brokers[0]!
  const path = `/api/v1/runtime/clusters/${LOCAL_CLUSTER}/brokers/${victim.id}`
  expect((await request.post(`${path}/kill`, { headers: auth })).ok()).toBe(true)
  await expect.poll(async () => (await summary(request)).brokersUp, { timeout: 30_000 }).toBeLessThan(brokers)
  await expect.poll(async () => (await mine())?.preferredLeader ?? 100, { timeout: 30_000 }).toBeLessThan(100)
  expect((await request.post(`${path}/start`, { headers: auth })).ok()).toBe(true)
  await expect.poll(async () => (await summary(request)).brokersUp, { timeout: 60_000 }).toBe(brokers)
  await page.goto(`${base}/topics/${topic}`)
  await shot(page, testInfo, 'topic-before-election')

  await page.goto(`${base}/operations`)
  await page.getByTestId('election-run').click()
  await giveToken(page, ADMIN_TOKEN)
  await expect(page.getByTestId('election-summary')).toBeVisible()
  await expect(page.getByTestId('election-topics')).toBeVisible()
  await shot(page, testInfo, 'election')
  await expect(page.getByTestId('election-topics')).toContainText(topic)
  // The next snapshots show every leader back on its preferred replica, and no leader skew.
  await expect.poll(async () => (await mine())?.preferredLeader, { timeout: 60_000 }).toBe(100)
  await expect.poll(async () => (await mine())?.leaderSkew, { timeout: 30_000 }).toBe(0)
  await page.goto(`${base}/topics/${topic}`)
  await expect(page.getByTestId('topic-summary')).toBeVisible()
  await shot(page, testInfo, 'topic-after-election')
  await request.delete(`/api/v1/clusters/${LOCAL_CLUSTER}/topics/${topic}`, { headers: auth })
})

test('a runtime cluster: stand it up, kill its controller, see the controller move', async ({ page, request }, testInfo) => {
  const probe = await request.get('/api/v1/runtime/clusters')
  test.fixme(!probe.ok(), `GET /api/v1/runtime/clusters answers ${probe.status()}: the runtime clusters API is not there yet`)
  test.setTimeout(180_000)
  const name = `rt${Date.now() % 100000}`
  await page.goto('/runtime')
  await page.getByTestId('runtime-create').click()
  await field(page, 'runtime-name').fill(name)
  // ZooKeeper mode on the in-process store: one broker at a time is the controller. (In KRaft every
  // combined node is a controller; quorum.spec.ts covers the quorum leader moving.)
  await page.locator('.el-radio-button').filter({ hasText: 'in-process' }).click()
  await page.getByTestId('runtime-submit').click()
  await giveToken(page, ADMIN_TOKEN)
  const card = page.getByTestId(`runtime-${name}`)
  await expect(card.getByTestId('runtime-broker-state').filter({ hasText: 'running' })).toHaveCount(3, { timeout: 60_000 })
  await shot(page, testInfo, 'runtime-running')

  // Kill the controller: another broker takes over within a poll.
  const controllerCard = card.locator('.broker').filter({ hasText: 'controller' }).first()
  const killedId = (await controllerCard.getAttribute('data-testid'))!.replace('runtime-broker-', '')
  await card.getByTestId(`kill-${killedId}`).click()
  // Kill asks first, as Delete does.
  await page.locator('.broker-action-confirm').getByRole('button', { name: 'Kill' }).click()
  await expect(card.getByTestId(`runtime-broker-${killedId}`).getByTestId('runtime-broker-state')).toHaveText('killed', { timeout: 30_000 })
  // Another (running) broker becomes the controller; the killed one no longer shows as controller.
  await expect(card.locator('.broker.running').filter({ hasText: 'controller' })).toHaveCount(1, { timeout: 60_000 })
  await expect(card.getByTestId(`runtime-broker-${killedId}`)).not.toContainText('controller')
  await shot(page, testInfo, 'runtime-killed')
  await page.goto(`/clusters/${name}/dashboard`)
  await expect(page.getByTestId('stat-brokers').getByTestId('stat-value')).toHaveText('2 / 3', { timeout: 60_000 })
  await shot(page, testInfo, 'runtime-dashboard')
  await request.delete(`/api/v1/runtime/clusters/${name}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })
})

// Last in the file: once a user exists the console offers a login (reads stay open to everyone).
test('a logged-in operator changes things without the token, is refused an admin action, and is audited', async ({ page, request }, testInfo) => {
  await waitForCluster(request)
  const user = `ops-${Date.now()}`
  const password = 'correct-horse-battery-9'
  const res = await request.post('/api/v1/users', {
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    data: { username: user, password, role: 'operator' },
  })
  expect(res.status()).toBe(201)

  await page.goto('/')
  await page.getByTestId('login-link').click()
  await field(page, 'login-username').fill(user)
  await field(page, 'login-password').fill(password)
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('user-menu')).toContainText(user)

  // The session (cookie + CSRF header) is enough: no token dialog.
  const topic = `e2e.session-${Date.now()}`
  await page.goto(`${base}/topics`)
  await page.getByTestId('topics-create').click()
  await field(page, 'create-topic-name').fill(topic)
  await page.getByTestId('create-topic-submit').click()
  await expect(page).toHaveURL(new RegExp(`/topics/${topic.replace(/\./g, '\\.')}(\\?|$)`))
  await expect(page.getByTestId('token-dialog')).toBeHidden()
  await expect.poll(() => topicExists(request, topic), { timeout: 20_000 }).toBe(true)

  // Deleting a topic needs the admin role: the server's refusal is shown as it says it.
  await expect(page.getByTestId('topic-delete')).toBeVisible({ timeout: 20_000 })
  await page.getByTestId('topic-delete').click()
  await field(page, 'delete-topic-confirm').fill(topic)
  await page.getByTestId('delete-topic-submit').click()
  await expect(page.getByTestId('delete-topic-error')).toContainText('needs the admin role')
  await shot(page, testInfo, 'operator-refused')
  expect(await topicExists(request, topic)).toBe(true)

  // The audit log is for admins: the operator is told so; the admin's copy names the user, with the
  // change and the refused change.
  await page.goto('/audit')
  await expect(page.getByTestId('audit-error')).toBeVisible()
  await expect(page.getByTestId('audit-table')).toHaveCount(0)
  await shot(page, testInfo, 'audit')
  const audit = await request.get('/api/v1/audit?limit=200', { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })
  expect(audit.status()).toBe(200)
  const entries = ((await audit.json()) as { items: { actor: string; action: string; target: string; result: string }[] }).items
  expect(entries.some((e) => e.actor === user && e.action === 'topic.create' && e.target === topic && e.result === 'ok')).toBe(true)
  expect(entries.some((e) => e.actor === user && e.action === 'topic.delete' && e.result === 'denied')).toBe(true)

  const del = await request.delete(`/api/v1/clusters/${LOCAL_CLUSTER}/topics/${topic}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })
  expect(del.status()).toBe(204)
})
