// The ACLs, Users and Quotas pages against a secured cluster: web/e2e/securecluster, by default a
// one-broker Osprey runtime cluster with a SASL_PLAINTEXT listener and the ACL authorizer, the console
// signed in as its only super user (OSPREY_E2E_SECURE_KIND=kfake runs the same against franz-go's kfake
// with SASL and ACLs instead), watched by a console of its own started here from the same binary. Every
// change goes through the page and the admin token; the API and the audit log confirm it. Light English
// and dark Chinese, wide and narrow.
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page } from '@playwright/test'
import { ADMIN_TOKEN } from './constants'
import { expect, shot, spawnGoHelper, test } from './fixtures'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const CLUSTER = 'secure'
const base = `/clusters/${CLUSTER}`
const api = `/api/v1/clusters/${CLUSTER}`
const SCRAM_PASSWORD = 'console-e2e-secret'
const KIND = process.env.OSPREY_E2E_SECURE_KIND ?? 'runtime'

let kafka: ChildProcess | undefined
let console_: ChildProcess | undefined
let consoleDir: string | undefined
let url = ''
let logPath = ''

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

/** Builds and starts the secured cluster; resolves with its address and the console's SASL mechanism. */
async function startKafka(): Promise<{ addr: string; mechanism: string }> {
  const child = spawnGoHelper('securecluster', ['-kind', KIND, '-password', SCRAM_PASSWORD])
  kafka = child
  let err = ''
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()))
  return new Promise((ok, fail) => {
    child.stdout!.on('data', (b: Buffer) => {
      const m = /listening (\S+) (\S+)/.exec(b.toString())
      if (m) ok({ addr: m[1]!, mechanism: m[2]! })
    })
    child.once('exit', (code) => fail(new Error(`securecluster exited ${code}: ${err}`)))
  })
}

/** Starts a console (the binary under test) watching only the secured cluster, over SASL/SCRAM. */
async function startConsole({ addr, mechanism }: { addr: string; mechanism: string }): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'osprey-e2e-security-'))
  consoleDir = dir
  const config = join(dir, 'osprey.yaml')
  await writeFile(
    config,
    `embedded:
  enabled: false
collector:
  offsetsInterval: 2s
  groupsInterval: 2s
clusters:
  - name: ${CLUSTER}
    bootstrapServers: ["${addr}"]
    sasl:
      mechanism: ${mechanism}
      username: console
      password: ${SCRAM_PASSWORD}
`,
  )
  await mkdir(join(dir, 'data'))
  const port = await freePort()
  url = `http://127.0.0.1:${port}`
  logPath = join(dir, 'osprey.log')
  const log = createWriteStream(logPath)
  await new Promise((r) => log.once('open', r))
  const bin = resolve(repo, 'web', process.env.OSPREY_BIN ?? '../bin/osprey')
  console_ = spawn(bin, ['serve', '--config', config], {
    env: { ...process.env, OSPREY_LISTEN: `127.0.0.1:${port}`, OSPREY_DATA_DIR: join(dir, 'data'), OSPREY_ADMIN_TOKEN: ADMIN_TOKEN },
    stdio: ['ignore', log, log],
  })
  await expect
    .poll(async () => {
      try {
        return (await fetch(`${url}/healthz`)).status
      } catch {
        return 0
      }
    }, { timeout: 30_000 })
    .toBe(200)
}

test.beforeAll(async () => {
  test.setTimeout(180_000)
  await startConsole(await startKafka())
})

test.afterAll(async () => {
  const exited = console_ && console_.exitCode === null ? new Promise((r) => console_!.once('exit', r)) : Promise.resolve()
  console_?.kill('SIGTERM')
  kafka?.stdin?.end()
  kafka?.kill()
  await exited
  if (consoleDir && !process.env.OSPREY_E2E_KEEP) await rm(consoleDir, { recursive: true, force: true })
})

async function prefs(page: Page, theme: 'light' | 'dark', locale: 'en' | 'zh-CN'): Promise<void> {
  await page.addInitScript(
    ([t, l]) => {
      localStorage.setItem('osprey.theme', t!)
      localStorage.setItem('osprey.locale', l!)
    },
    [theme, locale],
  )
}

/** Answers the admin-token prompt the first change of a session brings up. */
async function tokenIfAsked(page: Page): Promise<void> {
  const dialog = page.getByTestId('token-dialog')
  try {
    await dialog.waitFor({ state: 'visible', timeout: 3_000 })
  } catch {
    return
  }
  await page.locator(`:is(input, textarea)[data-testid="token-input"], [data-testid="token-input"] :is(input, textarea)`).first().fill(ADMIN_TOKEN)
  await page.getByTestId('token-submit').click()
  await expect(dialog).toBeHidden()
}

/** Waits until the list shows n rows, refreshing it: a broker may apply a change a moment after it answers. */
async function rowsSettle(page: Page, refresh: string, rows: ReturnType<Page['locator']>, n: number): Promise<void> {
  await expect(async () => {
    if ((await rows.count()) !== n) await page.getByTestId(refresh).click()
    await expect(rows).toHaveCount(n, { timeout: 1_000 })
  }).toPass({ timeout: 20_000 })
}

/** The input inside an Element Plus wrapper carrying the test id (or the element itself). */
const input = (page: Page, id: string) => page.locator(`input[data-testid="${id}"], [data-testid="${id}"] input`).first()

async function pick(page: Page, selectId: string, option: string): Promise<void> {
  await page.getByTestId(selectId).click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: new RegExp(`^${option}$`) }).click()
}

async function audit(): Promise<{ action: string; target: string; result: string; params: string }[]> {
  const r = await fetch(`${url}/api/v1/audit?limit=100`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })
  return ((await r.json()) as { items: { action: string; target: string; result: string; params: string }[] }).items
}

test('ACLs: created with the form, filtered, checked with the deciding rule, deleted', async ({ page }, testInfo) => {
  test.setTimeout(150_000)
  await prefs(page, 'light', 'en')
  await page.goto(`${url}${base}/acls`)
  await expect(page.getByTestId('acls-empty')).toBeVisible()
  await expect(page.getByRole('menuitem', { name: 'ACLs' })).toBeVisible()

  // A bad principal is refused by the server with its sentence; then two real ACLs.
  await page.getByTestId('acls-add').click()
  await input(page, 'acl-form-principal').fill('alice')
  await input(page, 'acl-form-name').fill('orders')
  await page.getByTestId('acl-form-submit').click()
  await tokenIfAsked(page)
  await expect(page.getByTestId('acl-form-error')).toContainText('Type:name')
  await shot(page, testInfo, 'acls-form-error-light-en')
  await input(page, 'acl-form-principal').fill('User:alice')
  await page.getByTestId('acl-form-submit').click()
  await expect(page.getByTestId('acl-dialog')).toBeHidden()

  await page.getByTestId('acls-add').click()
  await input(page, 'acl-form-principal').fill('User:alice')
  await page.getByTestId('acl-form-pattern').getByText('PREFIXED').click()
  await input(page, 'acl-form-name').fill('ord')
  await page.getByTestId('acl-form-permission').getByText('DENY').click()
  await shot(page, testInfo, 'acls-form-light-en')
  await page.getByTestId('acl-form-submit').click()
  await expect(page.getByTestId('acl-dialog')).toBeHidden()

  const rows = page.getByTestId('acls-table').locator('tbody tr')
  await rowsSettle(page, 'acls-refresh', rows, 2)
  await expect(page.getByTestId('acls-count')).toHaveText('2 of 2 ACLs')
  const listed = (await (await fetch(`${url}${api}/acls`)).json()) as { acls: { permission: string; patternType: string; resourceName: string }[] }
  expect(listed.acls.map((a) => `${a.permission} ${a.patternType} ${a.resourceName}`).sort()).toEqual(['ALLOW LITERAL orders', 'DENY PREFIXED ord'])

  // Filter by pattern.
  await pick(page, 'acls-filter-pattern', 'PREFIXED')
  await page.getByTestId('acls-filter-apply').click()
  await expect(rows).toHaveCount(1)
  await expect(rows.getByTestId('acl-permission')).toHaveText('DENY')

  // The checker: alice may not READ orders — the prefixed DENY decides.
  await input(page, 'check-principal').fill('User:alice')
  await input(page, 'check-name').fill('orders')
  await page.getByTestId('check-run').click()
  const result = page.getByTestId('check-result')
  await expect(result).toHaveAttribute('data-reason', 'deny_acl')
  await expect(page.getByTestId('check-verdict')).toHaveText('Denied')
  await expect(page.getByTestId('check-binding')).toContainText('User:alice DENY READ · PREFIXED TOPIC:ord')
  // bob on payments: no ACL applies, and the broker's allow.everyone.if.no.acl.found decides.
  await input(page, 'check-principal').fill('User:bob')
  await input(page, 'check-name').fill('payments')
  await page.getByTestId('check-run').click()
  await expect(result).toHaveAttribute('data-reason', /no_acl_/)
  await expect(page.getByTestId('check-reason')).toContainText('allow.everyone.if.no.acl.found')
  await shot(page, testInfo, 'acls-light-en')

  // Delete the DENY: alice may read orders again, by the literal ALLOW.
  await rows.getByTestId('acl-delete').click()
  await page.locator('.el-popconfirm__action .el-button--primary:visible').click()
  await rowsSettle(page, 'acls-refresh', rows, 0)
  await input(page, 'check-principal').fill('User:alice')
  await input(page, 'check-name').fill('orders')
  await page.getByTestId('check-run').click()
  await expect(result).toHaveAttribute('data-reason', 'allow_acl')
  await expect(page.getByTestId('check-verdict')).toHaveText('Allowed')

  const entries = await audit()
  expect(entries.filter((e) => e.action === 'acl.create' && e.result === 'ok')).toHaveLength(2)
  expect(entries.some((e) => e.action === 'acl.delete' && e.result === 'ok' && e.target.includes('DENY'.toLowerCase()))).toBe(true)

  // Dark, Chinese, and narrow.
  await prefs(page, 'dark', 'zh-CN')
  await page.goto(`${url}${base}/acls`)
  await expect(page.getByTestId('acls-table').locator('tbody tr')).toHaveCount(1)
  await expect(page.getByRole('menuitem', { name: 'ACL' })).toBeVisible()
  await input(page, 'check-principal').fill('User:alice')
  await input(page, 'check-name').fill('orders')
  await page.getByTestId('check-run').click()
  await expect(page.getByTestId('check-verdict')).toHaveText('允许')
  await shot(page, testInfo, 'acls-dark-zh')
  await page.setViewportSize({ width: 420, height: 900 })
  await shot(page, testInfo, 'acls-dark-zh-narrow')
  await page.getByTestId('acls-add').click()
  await shot(page, testInfo, 'acls-form-dark-zh-narrow')
})

test('Users: a generated password is shown once and works; rotate; delete', async ({ page }, testInfo) => {
  test.setTimeout(150_000)
  await prefs(page, 'light', 'en')
  await page.goto(`${url}${base}/scram-users`)
  // The console's own user is PLAIN on the runtime (no SCRAM user yet), SCRAM on kfake.
  await expect(page.locator('[data-testid="users-table"], [data-testid="users-empty"]')).toBeVisible()

  // Too short a password: refused with the rule.
  await page.getByTestId('users-add').click()
  await input(page, 'user-form-name').fill('carol')
  await page.getByTestId('user-form-mode').getByText('Type a password').click()
  await input(page, 'user-form-password').fill('short')
  await page.getByTestId('user-form-submit').click()
  await tokenIfAsked(page)
  await expect(page.getByTestId('user-form-error')).toContainText('at least 8 characters')

  // Generated: shown once with a copy button.
  await page.getByTestId('user-form-mode').getByText('Generate a strong password').click()
  await shot(page, testInfo, 'users-form-light-en')
  await page.getByTestId('user-form-submit').click()
  await expect(page.getByTestId('password-dialog')).toBeVisible()
  const password = (await page.getByTestId('generated-password').textContent())!.trim()
  expect(password.length).toBeGreaterThanOrEqual(20)
  await shot(page, testInfo, 'users-password-light-en')
  await page.getByTestId('password-done').click()
  await expect(page.getByTestId('password-dialog')).toBeHidden()
  const carol = page.getByTestId('users-table').locator('tbody tr').filter({ hasText: 'carol' })
  await rowsSettle(page, 'users-refresh', carol, 1)
  await expect(carol.getByTestId('user-credential')).toHaveText('SCRAM-SHA-256 · 8192 iterations')
  // Never again: not in the list, not in the audit log.
  const list = await (await fetch(`${url}${api}/scram-users`)).text()
  expect(list).not.toContain(password)
  expect(JSON.stringify(await audit())).not.toContain(password)
  await shot(page, testInfo, 'users-light-en')

  // Rotate with a typed password.
  await carol.getByTestId('user-rotate').click()
  await page.getByTestId('user-form-mode').getByText('Type a password').click()
  await input(page, 'user-form-password').fill('carol-typed-password')
  await page.getByTestId('user-form-submit').click()
  await expect(page.getByTestId('user-dialog')).toBeHidden()
  await expect(page.getByTestId('password-dialog')).toBeHidden()

  await prefs(page, 'dark', 'zh-CN')
  await page.goto(`${url}${base}/scram-users`)
  await expect(page.getByRole('menuitem', { name: '用户' })).toBeVisible()
  await shot(page, testInfo, 'users-dark-zh')
  await page.setViewportSize({ width: 420, height: 900 })
  await shot(page, testInfo, 'users-dark-zh-narrow')

  const row = page.getByTestId('users-table').locator('tbody tr').filter({ hasText: 'carol' })
  await row.getByTestId('user-delete').click()
  await page.locator('.el-popconfirm__action .el-button--primary:visible').click()
  await rowsSettle(page, 'users-refresh', row, 0)
  const entries = await audit()
  expect(entries.filter((e) => e.action === 'scram.upsert' && e.target === 'carol' && e.result === 'ok')).toHaveLength(2)
  expect(entries.some((e) => e.action === 'scram.delete' && e.target === 'carol' && e.result === 'ok')).toBe(true)
})

test('Quotas: added per user and as the default, edited, removed', async ({ page }, testInfo) => {
  test.setTimeout(150_000)
  await prefs(page, 'light', 'en')
  await page.goto(`${url}${base}/quotas`)
  await expect(page.getByTestId('quotas-empty')).toBeVisible()
  // This cluster's brokers are not in the console's process: the throttle is not reported, no figure shown.
  await expect(page.getByTestId('quotas-throttle-note')).toHaveAttribute('data-reported', 'false')
  await expect(page.getByTestId('quotas-throttle-note')).toContainText('throttle_time_ms')

  // A negative rate is refused with the server's sentence.
  await page.getByTestId('quotas-add').click()
  await input(page, 'quota-form-user').fill('alice')
  await input(page, 'quota-form-producer_byte_rate').fill('-5')
  await page.getByTestId('quota-form-submit').click()
  await tokenIfAsked(page)
  await expect(page.getByTestId('quota-form-error')).toContainText('positive number')
  await input(page, 'quota-form-producer_byte_rate').fill('1048576')
  await input(page, 'quota-form-request_percentage').fill('50')
  await shot(page, testInfo, 'quotas-form-light-en')
  await page.getByTestId('quota-form-submit').click()
  await expect(page.getByTestId('quota-dialog')).toBeHidden()

  await page.getByTestId('quotas-add').click()
  await page.getByTestId('quota-form-user-default').click()
  await input(page, 'quota-form-consumer_byte_rate').fill('2097152')
  await page.getByTestId('quota-form-submit').click()
  await expect(page.getByTestId('quota-dialog')).toBeHidden()

  const rows = page.getByTestId('quotas-table').locator('tbody tr')
  await rowsSettle(page, 'quotas-refresh', rows, 2)
  const alice = rows.filter({ hasText: 'User alice' })
  await expect(alice.getByTestId('quota-producer_byte_rate')).toHaveText('1,048,576')
  await expect(rows.filter({ hasText: 'every user (default)' }).getByTestId('quota-consumer_byte_rate')).toHaveText('2,097,152')
  await shot(page, testInfo, 'quotas-light-en')

  // Edit alice: the request percentage emptied is removed, the produce rate changed.
  await alice.getByTestId('quota-edit').click()
  await input(page, 'quota-form-request_percentage').fill('')
  await input(page, 'quota-form-producer_byte_rate').fill('524288')
  await page.getByTestId('quota-form-submit').click()
  await expect(page.getByTestId('quota-dialog')).toBeHidden()
  await expect(async () => {
    await page.getByTestId('quotas-refresh').click()
    await expect(alice.getByTestId('quota-producer_byte_rate')).toHaveText('524,288', { timeout: 1_000 })
    await expect(alice.getByTestId('quota-request_percentage')).toHaveText('—', { timeout: 1_000 })
  }).toPass({ timeout: 20_000 })
  const q = (await (await fetch(`${url}${api}/quotas`)).json()) as { entities: { user?: string; values: Record<string, number> }[] }
  expect(q.entities.find((e) => e.user === 'alice')?.values).toEqual({ producer_byte_rate: 524288 })

  await prefs(page, 'dark', 'zh-CN')
  await page.goto(`${url}${base}/quotas`)
  await expect(page.getByRole('menuitem', { name: '配额' })).toBeVisible()
  await shot(page, testInfo, 'quotas-dark-zh')
  await page.setViewportSize({ width: 420, height: 900 })
  await shot(page, testInfo, 'quotas-dark-zh-narrow')
  expect((await audit()).filter((e) => e.action === 'quota.alter' && e.result === 'ok')).toHaveLength(3)
  // The console's log never holds the SCRAM password it signs in with.
  expect(await readFile(logPath, 'utf8')).not.toContain(SCRAM_PASSWORD)
})

test('a cluster without an authorizer: the ACLs page says so instead of failing', async ({ page, request }, testInfo) => {
  // The shared server's embedded runtime cluster runs without authorizer.class.name.
  const res = await request.get('/api/v1/clusters/local/acls')
  expect(res.ok()).toBe(true)
  expect(((await res.json()) as { securityDisabled: boolean }).securityDisabled).toBe(true)
  await prefs(page, 'light', 'en')
  await page.goto('/clusters/local/acls')
  await expect(page.getByTestId('acls-disabled')).toContainText('no authorizer configured')
  await expect(page.getByTestId('acls-add')).toHaveCount(0)
  await expect(page.getByTestId('acls-error')).toHaveCount(0)
  await input(page, 'check-principal').fill('User:anyone')
  await input(page, 'check-name').fill('demo.orders')
  await page.getByTestId('check-run').click()
  await expect(page.getByTestId('check-result')).toHaveAttribute('data-reason', 'no_authorizer')
  await shot(page, testInfo, 'acls-no-authorizer-light-en')
})
