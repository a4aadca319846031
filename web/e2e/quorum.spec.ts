// The Quorum page against a real KRaft cluster: three combined nodes of the osprey binary (formatted
// with `osprey storage format`, started with `osprey broker --config`), watched by a console of its own.
// The page's leader, epoch, voters and observers equal a raw DescribeQuorum (franz-go, nothing of the
// console's: internal/testenv/describequorum); SIGKILL of the leader's node moves the leader on the page
// and fires the quorum_at_risk alert, which resolves once the node is back.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test, type APIRequestContext, type Page, type TestInfo } from '@playwright/test'

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const repoDir = resolve(webDir, '..')
const bin = resolve(webDir, process.env.OSPREY_BIN ?? '../bin/osprey')
const TOKEN = 'quorum-e2e-admin-token-0123456789abcdef'
const CLUSTER = 'kraft-e2e'

interface RawQuorum {
  leaderId: number
  leaderEpoch: number
  highWatermark: number
  voters: { id: number; logEndOffset: number }[]
  observers: { id: number; logEndOffset: number }[]
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer()
    srv.once('error', fail)
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address()
      srv.close(() => ok(typeof a === 'object' && a ? a.port : 0))
    })
  })
}

/** Everything the file stands up: the nodes (by node id), the console, their directory. */
const env = {
  dir: '',
  url: '',
  brokers: [] as string[],
  nodes: new Map<number, { config: string; child: ChildProcess | null }>(),
  console: null as ChildProcess | null,
  describe: '',
}

function startNode(id: number): void {
  const n = env.nodes.get(id)!
  // An opened descriptor, not a stream: spawn needs the file open before the child starts.
  const log = openSync(join(env.dir, `node${id}.log`), 'a')
  n.child = spawn(bin, ['broker', '--config', n.config], { stdio: ['ignore', log, log] })
  closeSync(log)
}

function killNode(id: number): Promise<void> {
  const child = env.nodes.get(id)!.child
  return new Promise((done) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return done()
    child.once('exit', () => done())
    child.kill('SIGKILL')
  })
}

function rawQuorum(): RawQuorum {
  return JSON.parse(execFileSync(env.describe, [env.brokers.join(',')], { encoding: 'utf8', timeout: 20_000 })) as RawQuorum
}

async function shot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`)
  await page.screenshot({ path, fullPage: true, animations: 'disabled' })
  await testInfo.attach(name, { path, contentType: 'image/png' })
}

const statValue = (page: Page, id: string) => page.getByTestId(id).getByTestId('stat-value')

/**
 * Loads the Quorum page until it shows what DescribeQuorum answers on either side of reading it: the
 * same leader, epoch, voters and observers, and a high watermark no further than the later answer
 * (it only grows). A fresh cluster may elect again in between; then the next round compares again.
 */
async function expectPageEqualsRaw(page: Page, url: string, read: () => RawQuorum): Promise<RawQuorum> {
  let seen: RawQuorum | null = null
  await expect(async () => {
    const before = read()
    await page.goto(url)
    await expect(statValue(page, 'quorum-leader')).toHaveText(String(before.leaderId), { timeout: 6_000 })
    await expect(statValue(page, 'quorum-epoch')).toHaveText(String(before.leaderEpoch), { timeout: 1_000 })
    const ids = (await page.getByTestId('replica-id').allTextContents()).map(Number)
    const roles = await page.getByTestId('replica-role').allTextContents()
    const hw = Number((await statValue(page, 'quorum-hw').textContent())!.replace(/[^0-9]/g, ''))
    const after = read()
    expect([after.leaderId, after.leaderEpoch]).toEqual([before.leaderId, before.leaderEpoch])
    expect(ids).toEqual([...after.voters.map((v) => v.id).sort((a, b) => a - b), ...after.observers.map((o) => o.id).sort((a, b) => a - b)])
    expect(roles).toEqual([...after.voters.map(() => 'voter'), ...after.observers.map(() => 'observer')])
    expect(hw).toBeLessThanOrEqual(after.highWatermark)
    seen = after
  }).toPass({ timeout: 90_000 })
  return seen!
}

async function activeQuorumAlerts(request: APIRequestContext): Promise<string[]> {
  const res = await request.get(`${env.url}/api/v1/alerts/active`)
  expect(res.ok()).toBe(true)
  const items = ((await res.json()) as { items: { kind: string; state: string; cluster: string }[] }).items
  return items.filter((a) => a.kind === 'quorum_at_risk' && a.cluster === CLUSTER).map((a) => a.state)
}

test.describe.configure({ mode: 'serial' })

test.beforeAll(async () => {
  test.setTimeout(180_000)
  env.dir = await mkdtemp(join(tmpdir(), 'osprey-quorum-e2e-'))
  env.describe = join(env.dir, 'describequorum')
  execFileSync('go', ['build', '-o', env.describe, './internal/testenv/describequorum'], { cwd: repoDir, stdio: 'inherit' })
  const clusterId = execFileSync(bin, ['storage', 'random-uuid'], { encoding: 'utf8' }).trim()
  const ports = await Promise.all([1, 2, 3].map(async () => ({ broker: await freePort(), controller: await freePort() })))
  const voters = ports.map((p, i) => `${i + 1}@127.0.0.1:${p.controller}`).join(',')
  for (const [i, p] of ports.entries()) {
    const id = i + 1
    const config = join(env.dir, `node${id}.properties`)
    await mkdir(join(env.dir, `data${id}`))
    await writeFile(
      config,
      [
        'process.roles=broker,controller',
        `node.id=${id}`,
        `controller.quorum.voters=${voters}`,
        `listeners=PLAINTEXT://127.0.0.1:${p.broker},CONTROLLER://127.0.0.1:${p.controller}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${p.broker}`,
        'controller.listener.names=CONTROLLER',
        'inter.broker.listener.name=PLAINTEXT',
        'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        `log.dirs=${join(env.dir, `data${id}`)}`,
        'broker.session.timeout.ms=6000',
        'broker.heartbeat.interval.ms=1000',
        '',
      ].join('\n'),
    )
    execFileSync(bin, ['storage', 'format', '-t', clusterId, '-c', config], { stdio: 'ignore' })
    env.nodes.set(id, { config, child: null })
    env.brokers.push(`127.0.0.1:${p.broker}`)
    startNode(id)
  }

  const port = await freePort()
  env.url = `http://127.0.0.1:${port}`
  const cfg = join(env.dir, 'osprey.yaml')
  await writeFile(
    cfg,
    `embedded:\n  enabled: false\ncollector:\n  offsetsInterval: 2s\n  groupsInterval: 2s\n  logDirsInterval: 5s\nclusters:\n  - name: ${CLUSTER}\n    bootstrapServers: [${env.brokers.map((b) => `"${b}"`).join(', ')}]\n`,
  )
  const log = openSync(join(env.dir, 'osprey.log'), 'a')
  env.console = spawn(bin, ['serve', '--config', cfg], {
    env: { ...process.env, OSPREY_LISTEN: `127.0.0.1:${port}`, OSPREY_DATA_DIR: join(env.dir, 'console'), OSPREY_ADMIN_TOKEN: TOKEN },
    stdio: ['ignore', log, log],
  })
  closeSync(log)
})

test.afterAll(async () => {
  env.console?.kill('SIGTERM')
  await Promise.all([...env.nodes.keys()].map((id) => killNode(id)))
  if (!process.env.OSPREY_E2E_KEEP) await rm(env.dir, { recursive: true, force: true })
})

test('the Quorum page equals DescribeQuorum; killing the leader moves it and fires the quorum alert until the node is back', async ({
  page,
  request,
}, testInfo) => {
  test.setTimeout(240_000)
  // The console is up and has read a quorum with a leader and three voters.
  await expect(async () => {
    const res = await request.get(`${env.url}/api/v1/clusters/${CLUSTER}/quorum`)
    expect(res.status()).toBe(200)
    const q = (await res.json()) as { leaderId: number; voters: unknown[] }
    expect(q.leaderId).toBeGreaterThan(0)
    expect(q.voters).toHaveLength(3)
  }).toPass({ timeout: 60_000 })
  const rule = await request.post(`${env.url}/api/v1/alerts/rules`, {
    headers: { Authorization: `Bearer ${TOKEN}` },
    data: { name: 'quorum one failure from loss', kind: 'quorum_at_risk', threshold: 5, forSeconds: 0 },
  })
  expect(rule.status()).toBe(201)

  // The page against a raw DescribeQuorum read on either side of it.
  const after = await expectPageEqualsRaw(page, `${env.url}/clusters/${CLUSTER}/quorum`, rawQuorum)
  await expect(page.getByTestId('nav-quorum')).toBeVisible()
  await expect(page.getByTestId('nav-zookeeper')).toHaveCount(0)
  await expect(page.getByTestId('quorum-caught-up').getByTestId('stat-value')).toHaveText('3 / 3', { timeout: 30_000 })
  await shot(page, testInfo, 'quorum')

  // SIGKILL the leader's node: another voter leads, the page says so, and the alert fires.
  const old = after.leaderId
  await killNode(old)
  await expect(statValue(page, 'quorum-leader')).not.toHaveText(String(old), { timeout: 60_000 })
  await expect(statValue(page, 'quorum-leader')).not.toHaveText('—')
  const moved = rawQuorum()
  expect(moved.leaderId).not.toBe(old)
  await expect(statValue(page, 'quorum-leader')).toHaveText(String(moved.leaderId))
  expect(moved.leaderEpoch).toBeGreaterThan(after.leaderEpoch)
  await expect(statValue(page, 'quorum-epoch')).toHaveText(String(moved.leaderEpoch), { timeout: 30_000 })
  await expect.poll(() => activeQuorumAlerts(request), { timeout: 60_000 }).toContain('firing')
  await expect(page.getByTestId('quorum-at-risk')).toBeVisible({ timeout: 30_000 })
  await expect(page.getByTestId('quorum-change').first()).toContainText(`${old} → ${moved.leaderId}`, { timeout: 60_000 })
  await shot(page, testInfo, 'quorum-leader-killed')
  await page.goto(`${env.url}/alerts`)
  await expect(page.getByTestId('alerts-active')).toContainText('Only 2 of 3 quorum voters', { timeout: 30_000 })
  await shot(page, testInfo, 'quorum-alert-firing')

  // The node back: it catches up, every voter is caught up again and the alert resolves.
  startNode(old)
  await expect.poll(() => activeQuorumAlerts(request), { timeout: 90_000 }).toEqual([])
  await page.goto(`${env.url}/clusters/${CLUSTER}/quorum`)
  await expect(statValue(page, 'quorum-caught-up')).toHaveText('3 / 3', { timeout: 30_000 })
  await shot(page, testInfo, 'quorum-node-back')
  const logs = await readFile(join(env.dir, 'osprey.log'), 'utf8').catch(() => '')
  expect(logs).not.toContain('panic')
})

// The same through the console's own runtime: a KRaft runtime cluster created with the runtime API
// (nodes in the console's process), its leader killed and started again with the broker actions.
test('a KRaft runtime cluster: the Quorum page equals DescribeQuorum; killing the leader moves it and fires the alert until it is back', async ({
  page,
  request,
}, testInfo) => {
  test.setTimeout(240_000)
  const server = process.env.OSPREY_E2E_URL!
  const auth = { Authorization: `Bearer ${process.env.OSPREY_E2E_TOKEN ?? 'e2e-admin-token-0123456789abcdef'}` }
  const name = `kr${Date.now() % 100000}`
  const created = await request.post(`${server}/api/v1/runtime/clusters`, { headers: auth, data: { name, brokers: 3, metadataStore: 'kraft' } })
  expect(created.ok(), `creating a KRaft runtime cluster: ${created.status()} ${await created.text()}`).toBe(true)
  const bootstrap = ((await created.json()) as { bootstrapServers: string }).bootstrapServers
  const raw = (): RawQuorum => JSON.parse(execFileSync(env.describe, [bootstrap], { encoding: 'utf8', timeout: 20_000 })) as RawQuorum
  const rule = await request.post(`${server}/api/v1/alerts/rules`, {
    headers: auth,
    data: { name: `quorum ${name}`, kind: 'quorum_at_risk', cluster: name, threshold: 5, forSeconds: 0 },
  })
  expect(rule.status()).toBe(201)
  const firing = async (): Promise<string[]> => {
    const items = ((await (await request.get(`${server}/api/v1/alerts/active`)).json()) as { items: { kind: string; state: string; cluster: string }[] }).items
    return items.filter((a) => a.kind === 'quorum_at_risk' && a.cluster === name).map((a) => a.state)
  }
  try {
    await expect(async () => {
      const q = (await (await request.get(`${server}/api/v1/clusters/${name}/quorum`)).json()) as { leaderId: number; voters: unknown[] }
      expect(q.leaderId).toBeGreaterThan(0)
      expect(q.voters).toHaveLength(3)
    }).toPass({ timeout: 90_000 })
    const before = await expectPageEqualsRaw(page, `${server}/clusters/${name}/quorum`, raw)
    await shot(page, testInfo, 'runtime-quorum')

    const old = before.leaderId
    expect((await request.post(`${server}/api/v1/runtime/clusters/${name}/brokers/${old}/kill`, { headers: auth })).ok()).toBe(true)
    await expect(statValue(page, 'quorum-leader')).not.toHaveText(String(old), { timeout: 60_000 })
    const moved = raw()
    expect(moved.leaderId).not.toBe(old)
    await expect(statValue(page, 'quorum-leader')).toHaveText(String(moved.leaderId), { timeout: 30_000 })
    await expect.poll(firing, { timeout: 60_000 }).toContain('firing')
    await shot(page, testInfo, 'runtime-quorum-leader-killed')

    expect((await request.post(`${server}/api/v1/runtime/clusters/${name}/brokers/${old}/start`, { headers: auth })).ok()).toBe(true)
    await expect.poll(firing, { timeout: 90_000 }).toEqual([])
    await expect(statValue(page, 'quorum-caught-up')).toHaveText('3 / 3', { timeout: 30_000 })
    await shot(page, testInfo, 'runtime-quorum-node-back')
  } finally {
    await request.delete(`${server}/api/v1/runtime/clusters/${name}`, { headers: auth })
  }
})
