// The security pages against a secured runtime cluster the console stands up itself (Runtime page,
// Secured switch): SASL_SSL brokers with a CA made for the cluster and the ACL authorizer, the console
// connected as the generated SCRAM-SHA-512 admin, in ZooKeeper mode and in KRaft mode. An ACL made with the form decides the checker's answer, a SCRAM user's generated
// password is shown once, a quota is set — all on Osprey's own runtime, through the page.
import type { Page } from '@playwright/test'
import { ADMIN_TOKEN } from './constants'
import { expect, shot, test } from './fixtures'

const input = (page: Page, id: string) => page.locator(`input[data-testid="${id}"], [data-testid="${id}"] input`).first()

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
  }).toPass({ timeout: 30_000 })
}

test('a secured runtime cluster: ACL with the deciding rule, a SCRAM user shown once, a quota', async ({ page, request }, testInfo) => {
  const probe = await request.get('/api/v1/runtime/clusters')
  expect(probe.ok(), `GET /api/v1/runtime/clusters answers ${probe.status()}`).toBe(true)
  test.setTimeout(180_000)
  const name = `sec${Date.now() % 100000}`
  const base = `/clusters/${name}`
  try {
    await page.goto('/runtime')
    await page.getByTestId('runtime-create').click()
    await input(page, 'runtime-name').fill(name)
    await page.locator('.el-radio-button').filter({ hasText: 'in-process' }).click()
    await page.getByTestId('runtime-secured-switch').click()
    await page.getByTestId('runtime-submit').click()
    await tokenIfAsked(page)
    const card = page.getByTestId(`runtime-${name}`)
    await expect(card.getByTestId('runtime-broker-state').filter({ hasText: 'running' })).toHaveCount(3, { timeout: 60_000 })
    await expect(card.getByTestId('runtime-secured')).toHaveText('TLS + SCRAM + ACLs')
    const view = (await (await request.get(`/api/v1/runtime/clusters/${name}`)).json()) as Record<string, unknown>
    expect(view.securityProtocol).toBe('SASL_SSL')
    expect(JSON.stringify(view).toLowerCase()).not.toContain('password')
    await shot(page, testInfo, 'runtime-secured')

    // An ACL made with the form; the checker names it as the deciding rule.
    await page.goto(`${base}/acls`)
    await expect(page.getByTestId('acls-empty')).toBeVisible({ timeout: 30_000 })
    await page.getByTestId('acls-add').click()
    await input(page, 'acl-form-principal').fill('User:dave')
    await input(page, 'acl-form-name').fill('orders')
    await page.getByTestId('acl-form-submit').click()
    await tokenIfAsked(page)
    await expect(page.getByTestId('acl-dialog')).toBeHidden()
    await rowsSettle(page, 'acls-refresh', page.getByTestId('acls-table').locator('tbody tr'), 1)
    await input(page, 'check-principal').fill('User:dave')
    await input(page, 'check-name').fill('orders')
    await page.getByTestId('check-run').click()
    await expect(page.getByTestId('check-result')).toHaveAttribute('data-reason', 'allow_acl')
    await expect(page.getByTestId('check-binding')).toContainText('User:dave ALLOW READ · LITERAL TOPIC:orders')
    // Nobody else: the runtime allows nothing without an ACL.
    await input(page, 'check-principal').fill('User:erin')
    await page.getByTestId('check-run').click()
    await expect(page.getByTestId('check-verdict')).toHaveText('Denied')
    await shot(page, testInfo, 'runtime-secured-acls')

    // A SCRAM user: the generated password is shown once.
    await page.goto(`${base}/scram-users`)
    await page.getByTestId('users-add').click()
    await input(page, 'user-form-name').fill('dave')
    await page.getByTestId('user-form-mode').getByText('Generate a strong password').click()
    await page.getByTestId('user-form-submit').click()
    await tokenIfAsked(page)
    await expect(page.getByTestId('password-dialog')).toBeVisible()
    const password = (await page.getByTestId('generated-password').textContent())!.trim()
    expect(password.length).toBeGreaterThanOrEqual(20)
    await page.getByTestId('password-done').click()
    const dave = page.getByTestId('users-table').locator('tbody tr').filter({ hasText: 'dave' })
    await rowsSettle(page, 'users-refresh', dave, 1)
    expect(await (await request.get(`/api/v1/clusters/${name}/scram-users`)).text()).not.toContain(password)

    // A quota for dave.
    await page.goto(`${base}/quotas`)
    await page.getByTestId('quotas-add').click()
    await input(page, 'quota-form-user').fill('dave')
    await input(page, 'quota-form-producer_byte_rate').fill('1048576')
    await page.getByTestId('quota-form-submit').click()
    await tokenIfAsked(page)
    await expect(page.getByTestId('quota-dialog')).toBeHidden()
    const rows = page.getByTestId('quotas-table').locator('tbody tr')
    await rowsSettle(page, 'quotas-refresh', rows, 1)
    await expect(rows.filter({ hasText: 'User dave' }).getByTestId('quota-producer_byte_rate')).toHaveText('1,048,576')
    // The brokers run in the console's process: the throttle clients see is reported (dave sent nothing yet).
    await expect(page.getByTestId('quotas-throttle-note')).toHaveAttribute('data-reported', 'true')
    await expect(rows.filter({ hasText: 'User dave' }).getByTestId('quota-usage-none')).toBeVisible()
    await shot(page, testInfo, 'runtime-secured-quotas')
  } finally {
    await request.delete(`/api/v1/runtime/clusters/${name}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })
  }
})

test('a secured KRaft runtime cluster from the Runtime page: TLS with its own CA, the console connected', async ({ page, request }, testInfo) => {
  const probe = await request.get('/api/v1/runtime/clusters')
  expect(probe.ok(), `GET /api/v1/runtime/clusters answers ${probe.status()}`).toBe(true)
  test.setTimeout(90_000)
  const name = `ksec${Date.now() % 100000}`
  try {
    await page.goto('/runtime')
    await page.getByTestId('runtime-create').click()
    await input(page, 'runtime-name').fill(name)
    await page.getByRole('spinbutton', { name: 'Brokers' }).fill('1')
    await page.getByTestId('runtime-kind-kraft').click()
    await page.getByTestId('runtime-secured-switch').click()
    await page.getByTestId('runtime-submit').click()
    await tokenIfAsked(page)
    const card = page.getByTestId(`runtime-${name}`)
    await expect(card.getByTestId('runtime-broker-state').filter({ hasText: 'running' })).toHaveCount(1, { timeout: 45_000 })
    await expect(card.getByTestId('runtime-kind')).toHaveText('KRaft')
    await expect(card.getByTestId('runtime-secured')).toHaveText('TLS + SCRAM + ACLs')
    const view = (await (await request.get(`/api/v1/runtime/clusters/${name}`)).json()) as Record<string, unknown>
    expect(view.securityProtocol).toBe('SASL_SSL')
    expect(view.saslMechanism).toBe('SCRAM-SHA-512')
    expect(view.metadataStore).toBe('kraft')
    const text = JSON.stringify(view)
    expect(text.toLowerCase()).not.toContain('password')
    expect(text).not.toContain('PRIVATE KEY')
    // The CA certificate (public) is what a client needs to trust; the page offers it as a file.
    const download = page.waitForEvent('download')
    await card.getByTestId('runtime-ca').click()
    expect((await download).suggestedFilename()).toBe(`${name}-ca.pem`)
    await shot(page, testInfo, 'runtime-secured-kraft')

    // The console reaches the broker through TLS and SCRAM: the Brokers page lists it up.
    await page.goto(`/clusters/${name}/brokers`)
    await expect(page.getByTestId('brokers-table').getByTestId('broker-state').filter({ hasText: /^\s*up\s*$/ })).toHaveCount(1, { timeout: 30_000 })
  } finally {
    await request.delete(`/api/v1/runtime/clusters/${name}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })
  }
})
