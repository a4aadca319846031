// Message search with masking, against the embedded cluster: an admin adds a masking rule on the
// topic page's Search tab; a search for the masked value finds nothing, a search for the mask finds
// the records and shows them masked; once the rule exempts the admin role, the clear value is found.
// Then the selection is redriven to another topic, dry run first.
import type { APIRequestContext, Page } from '@playwright/test'
import { ADMIN_TOKEN, LOCAL_CLUSTER } from './constants'
import { expect, shot, test } from './fixtures'

const base = `/clusters/${LOCAL_CLUSTER}`
const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` }

function field(page: Page, id: string) {
  return page.locator(`:is(input, textarea)[data-testid="${id}"], [data-testid="${id}"] :is(input, textarea)`).first()
}

async function giveToken(page: Page, token: string): Promise<void> {
  const dialog = page.getByTestId('token-dialog')
  await expect(dialog).toBeVisible()
  await field(page, 'token-input').fill(token)
  await page.getByTestId('token-submit').click()
}

/** Creates the topic and writes the users' records; returns when the collector lists the topic. */
async function seedTopic(request: APIRequestContext, topic: string): Promise<void> {
  await expect(async () => {
    const res = await request.get(`/api/v1/clusters/${LOCAL_CLUSTER}`)
    expect((await res.json()).lastPoll).toBeTruthy()
  }).toPass({ timeout: 30_000 })
  const created = await request.post(`/api/v1/clusters/${LOCAL_CLUSTER}/topics`, {
    headers: auth,
    data: { name: topic, partitions: 1, replicationFactor: 1 },
  })
  expect(created.status()).toBe(201)
  await expect(async () => {
    const res = await request.get(`/api/v1/clusters/${LOCAL_CLUSTER}/topics/${topic}`)
    expect(res.ok()).toBe(true)
  }).toPass({ timeout: 20_000 })
  for (const [n, email] of [[1, 'alice@example.com'], [2, 'bob@example.com']] as const) {
    await expect(async () => {
      const res = await request.post(`/api/v1/clusters/${LOCAL_CLUSTER}/topics/${topic}/messages`, {
        headers: auth,
        data: { partition: 0, key: `user-${n}`, value: JSON.stringify({ n, user: { email } }) },
      })
      expect(res.status()).toBe(201)
    }).toPass({ timeout: 20_000 })
  }
}

async function search(page: Page, filter: string): Promise<void> {
  await field(page, 'search-filter').fill(filter)
  await page.getByTestId('search-run').click()
  await expect(page.getByTestId('search-done')).toHaveAttribute('data-reason', 'complete')
}

test('search with masking: a masked value is not found, the mask is, an exempt role finds the clear value; redrive copies the selection', async ({ page, request }, testInfo) => {
  const topic = `e2e.masked-${Date.now()}`
  await seedTopic(request, topic)
  await page.goto(`${base}/topics/${topic}`)
  await page.getByTestId('topic-tabs').getByText('Search', { exact: true }).click()

  // Before any rule, the clear value is found.
  await search(page, 'json.user.email == "alice@example.com"')
  await expect(page.getByTestId('search-results').locator('tbody tr')).toHaveCount(1)

  // The admin adds a rule masking the emails of this topic.
  await page.getByTestId('masking-open').click()
  await giveToken(page, ADMIN_TOKEN)
  await page.getByTestId('masking-add').click()
  await field(page, 'masking-name').fill(`emails-${topic}`)
  await expect(field(page, 'masking-topic')).toHaveValue(topic)
  await field(page, 'masking-expr').fill('$.user.email')
  await page.getByTestId('masking-save').click()
  const rule = page.getByTestId('masking-rules').locator('tbody tr', { hasText: `emails-${topic}` })
  await expect(rule).toContainText('$.user.email')
  await shot(page, testInfo, 'masking-rules')
  await page.keyboard.press('Escape')
  await expect(page.getByTestId('masking-dialog')).toBeHidden()

  // Masked before the filter: searching for the clear value finds nothing, the mask finds both.
  await search(page, 'json.user.email == "alice@example.com" || value.contains("bob@")')
  await expect(page.getByTestId('search-empty')).toBeVisible()
  await search(page, 'json.user.email == "****"')
  const rows = page.getByTestId('search-results').locator('tbody tr')
  await expect(rows).toHaveCount(2)
  await expect(page.getByTestId('search-results')).not.toContainText('example.com')
  await expect(rows.first().getByTestId('search-result-preview')).toContainText('"email":"****"')
  await expect(page.getByTestId('search-progress')).toContainText('Read 2 records')
  await shot(page, testInfo, 'search-masked')

  // Exempt the admin role: the admin's search finds the clear value again.
  await page.getByTestId('masking-open').click()
  await page.getByTestId(`masking-edit-emails-${topic}`).click()
  await page.getByTestId('masking-exempt').getByText('Admin').click()
  await page.getByTestId('masking-save').click()
  await expect(rule).toContainText('Admin')
  await page.keyboard.press('Escape')
  await search(page, 'json.user.email == "alice@example.com"')
  await expect(page.getByTestId('search-results').locator('tbody tr')).toHaveCount(1)

  // Redrive the selection to another topic: the dry run shows the count and the target partitions,
  // then the records are copied clear (masking hides values from readers, it does not rewrite data).
  const retry = `${topic}.retry`
  const created = await request.post(`/api/v1/clusters/${LOCAL_CLUSTER}/topics`, { headers: auth, data: { name: retry, partitions: 2, replicationFactor: 1 } })
  expect(created.status()).toBe(201)
  await expect(async () => {
    expect((await request.get(`/api/v1/clusters/${LOCAL_CLUSTER}/topics/${retry}`)).ok()).toBe(true)
  }).toPass({ timeout: 20_000 })
  await search(page, 'json.n >= 1')
  await page.getByTestId('search-redrive').click()
  await field(page, 'redrive-target').fill(retry)
  await page.getByTestId('redrive-dry-run').click()
  await expect(page.getByTestId('redrive-plan')).toContainText('2 records')
  await expect(page.getByTestId('redrive-partitions').locator('tbody tr')).not.toHaveCount(0)
  await shot(page, testInfo, 'redrive-dry-run')
  await page.getByTestId('redrive-submit').click()
  await expect(page.getByTestId('redrive-done')).toContainText('2 records copied')
  await expect(async () => {
    const res = await request.get(`/api/v1/clusters/${LOCAL_CLUSTER}/topics/${retry}/messages?tail=10`, { headers: auth })
    const body = (await res.json()) as { items: { value: { data: string } }[] }
    expect(body.items.map((m) => m.value.data).sort()).toEqual([
      JSON.stringify({ n: 1, user: { email: 'alice@example.com' } }),
      JSON.stringify({ n: 2, user: { email: 'bob@example.com' } }),
    ])
  }).toPass({ timeout: 20_000 })
  await page.keyboard.press('Escape')

  // Clean up: the rule and the topics.
  const rules = (await (await request.get('/api/v1/masking/rules', { headers: auth })).json()) as { items: { id: number; name: string }[] }
  for (const r of rules.items.filter((r) => r.name === `emails-${topic}`)) {
    expect((await request.delete(`/api/v1/masking/rules/${r.id}`, { headers: auth })).status()).toBe(204)
  }
  expect((await request.delete(`/api/v1/clusters/${LOCAL_CLUSTER}/topics/${topic}`, { headers: auth })).ok()).toBe(true)
  expect((await request.delete(`/api/v1/clusters/${LOCAL_CLUSTER}/topics/${retry}`, { headers: auth })).ok()).toBe(true)
})
