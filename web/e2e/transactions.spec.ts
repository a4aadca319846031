// The Transactions page and the topic's Producers tab against the embedded runtime cluster `local`
// with a real transactional producer (web/e2e/txnproducer, franz-go) holding a transaction open on
// e2e-txn/0: the page lists it as the API answers it, the Producers tab shows the open transaction's
// first offset, and the admin abort ends it on the partition. Light English and dark Chinese.
import type { ChildProcess } from 'node:child_process'
import type { APIRequestContext, Page } from '@playwright/test'
import { ADMIN_TOKEN, LOCAL_CLUSTER } from './constants'
import { expect, shot, spawnGoHelper, test } from './fixtures'

const base = `/clusters/${LOCAL_CLUSTER}`
const api = `/api/v1/clusters/${LOCAL_CLUSTER}`
const TOPIC = 'e2e-txn'
const TXN_ID = 'e2e-txn-writer'

interface TxnRow {
  transactionalId: string
  state: string
  producerId: number
  producerEpoch: number
  durationMs: number
  hanging: boolean
  partitions: { topic: string; partition: number }[]
}
interface Producers {
  partitions: { partition: number; producers: { producerId: number; currentTxnStartOffset: number }[] }[]
}

let producer: ChildProcess | undefined

async function prefs(page: Page, theme: 'light' | 'dark', locale: 'en' | 'zh-CN'): Promise<void> {
  await page.addInitScript(
    ([t, l]) => {
      localStorage.setItem('osprey.theme', t!)
      localStorage.setItem('osprey.locale', l!)
    },
    [theme, locale],
  )
}

/** Starts the transactional producer against the embedded cluster and waits until its transaction is open. */
async function startProducer(request: APIRequestContext): Promise<void> {
  const rc = await request.get(`/api/v1/runtime/clusters`)
  expect(rc.ok()).toBe(true)
  const local = ((await rc.json()) as { items: { name: string; bootstrapServers: string }[] }).items.find((c) => c.name === LOCAL_CLUSTER)
  expect(local, 'the embedded runtime cluster').toBeTruthy()
  const child = spawnGoHelper('txnproducer', ['-bootstrap', local!.bootstrapServers, '-topic', TOPIC, '-id', TXN_ID])
  producer = child
  let err = ''
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()))
  await new Promise<void>((ok, fail) => {
    child.stdout!.on('data', (b: Buffer) => {
      if (b.toString().includes('open')) ok()
    })
    child.once('exit', (code) => fail(new Error(`txnproducer exited ${code}: ${err}`)))
  })
}

async function transactionRow(request: APIRequestContext): Promise<TxnRow | undefined> {
  const res = await request.get(`${api}/transactions`)
  expect(res.ok()).toBe(true)
  return ((await res.json()) as { transactions: TxnRow[] }).transactions.find((r) => r.transactionalId === TXN_ID)
}

interface Held {
  topic: string
  partition: number
  stableOffset: number
  endOffset: number
  hanging: boolean
}

async function heldRow(request: APIRequestContext): Promise<Held | undefined> {
  const res = await request.get(`${api}/transactions`)
  expect(res.ok()).toBe(true)
  return ((await res.json()) as { held: Held[] }).held.find((h) => h.topic === TOPIC && h.partition === 0)
}

async function openOffset(request: APIRequestContext): Promise<number | undefined> {
  const res = await request.get(`${api}/topics/${TOPIC}/producers`)
  expect(res.ok()).toBe(true)
  return ((await res.json()) as Producers).partitions[0]?.producers[0]?.currentTxnStartOffset
}

test.afterAll(() => {
  producer?.stdin?.end()
  producer?.kill()
})

test('a real open transaction is listed, shown on the topic’s Producers tab, and aborted by an admin', async ({ page, request }, testInfo) => {
  test.setTimeout(180_000)
  await startProducer(request)
  await expect.poll(async () => (await transactionRow(request))?.state, { timeout: 30_000 }).toBe('Ongoing')
  const row = (await transactionRow(request))!
  expect(row.partitions).toEqual([{ topic: TOPIC, partition: 0 }])

  // Light, English: the row as the API answered it.
  await prefs(page, 'light', 'en')
  await page.goto(`${base}/transactions`)
  const tr = page.getByTestId('transactions-table').locator('tbody tr').filter({ hasText: TXN_ID })
  await expect(tr).toHaveCount(1)
  await expect(tr.getByTestId('txn-state')).toHaveText('Ongoing')
  await expect(tr.getByTestId('txn-producer')).toHaveText(`${row.producerId} / ${row.producerEpoch}`)
  await expect(tr.getByTestId('txn-partition')).toContainText(`${TOPIC}/0`)
  await expect(tr.getByTestId('txn-hanging')).toHaveCount(row.hanging ? 1 : 0)
  await expect(page.getByTestId('transactions-hint')).toContainText('transaction.max.timeout.ms')
  // The partition it holds: LSO 0 (the transaction's first offset) behind the high watermark 3.
  await expect.poll(async () => (await heldRow(request))?.endOffset, { timeout: 30_000 }).toBe(3)
  await page.getByTestId('transactions-refresh').click()
  const held = page.getByTestId('held-table').locator('tbody tr').filter({ hasText: `${TOPIC}/0` })
  await expect(held.getByTestId('held-lso')).toHaveText('0')
  await expect(held.getByTestId('held-hw')).toHaveText('3')
  await expect(page.getByRole('menuitem', { name: 'Transactions' })).toBeVisible()
  await shot(page, testInfo, 'transactions-light-en')

  // The topic's Producers tab: the producer's open transaction starts at offset 0 of partition 0.
  await page.goto(`${base}/topics/${TOPIC}`)
  await page.getByRole('tab', { name: 'Producers' }).click()
  await expect(page.getByTestId('producers-table')).toBeVisible()
  await expect(page.getByTestId('producer-open-txn')).toHaveText('from offset 0')
  await expect(page.getByTestId('producers-summary')).toContainText('1 of 2 partitions have producers; 1 have an open transaction')
  await shot(page, testInfo, 'producers-light-en')

  // Dark, Chinese.
  await prefs(page, 'dark', 'zh-CN')
  await page.goto(`${base}/transactions`)
  await expect(page.getByTestId('transactions-table').locator('tbody tr').filter({ hasText: TXN_ID })).toHaveCount(1)
  await expect(page.getByRole('menuitem', { name: '事务' })).toBeVisible()
  await shot(page, testInfo, 'transactions-dark-zh')
  await page.goto(`${base}/topics/${TOPIC}`)
  await page.getByRole('tab', { name: '生产者' }).click()
  await expect(page.getByTestId('producer-open-txn')).toHaveText('起始位移 0')
  await shot(page, testInfo, 'producers-dark-zh')

  // Abort (admin): the partition's open transaction ends; the producer has none open any more.
  await prefs(page, 'light', 'en')
  await page.goto(`${base}/transactions`)
  const again = page.getByTestId('transactions-table').locator('tbody tr').filter({ hasText: TXN_ID })
  await again.getByTestId('txn-abort').click()
  await expect(page.getByTestId('txn-abort-dialog')).toBeVisible()
  await shot(page, testInfo, 'transactions-abort-dialog')
  await page.getByTestId('txn-abort-confirm').click()
  await expect(page.getByTestId('token-dialog')).toBeVisible()
  await page.locator(`:is(input, textarea)[data-testid="token-input"], [data-testid="token-input"] :is(input, textarea)`).first().fill(ADMIN_TOKEN)
  await page.getByTestId('token-submit').click()
  await expect(page.getByTestId('txn-abort-dialog')).toBeHidden()
  expect(await openOffset(request)).toBe(-1)
  // The next polls see the LSO caught up: the partition is no longer held.
  await expect.poll(async () => await heldRow(request), { timeout: 30_000 }).toBeUndefined()

  const audit = await request.get('/api/v1/audit?limit=20', { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })
  const entries = ((await audit.json()) as { items: { action: string; target: string; result: string }[] }).items
  expect(entries.some((e) => e.action === 'transaction.abort' && e.target === `${TOPIC}/0` && e.result === 'ok')).toBe(true)
})
