// The EFAK import page: paste Kafka-Eagle's system-config.properties, preview (a dry run listing every
// key's outcome, secrets hidden), import, and the cluster is listed; screenshots in both languages and
// themes.
import { test, expect, shot } from './fixtures'
import type { Page } from '@playwright/test'
import { ADMIN_TOKEN } from './constants'

const ALIAS = 'e2e-efak'
const EFAK_FILE = `######################################
# multi zookeeper & kafka cluster list
######################################
efak.zk.cluster.alias=${ALIAS}
${ALIAS}.zk.list=127.0.0.1:9/kafka
${ALIAS}.zk.acl.enable=false
${ALIAS}.efak.broker.size=3
${ALIAS}.efak.sasl.enable=false
efak.webui.port=8048
efak.metrics.retain=15
efak.topic.token=keadmin
efak.driver=com.mysql.cj.jdbc.Driver
efak.url=jdbc:mysql://db:3306/ke?useUnicode=true&characterEncoding=UTF-8
efak.username=root
efak.password=e2e-db-secret
`

async function giveToken(page: Page): Promise<void> {
  const dialog = page.getByTestId('token-dialog')
  await expect(dialog).toBeVisible()
  await page.locator('[data-testid="token-input"] input, input[data-testid="token-input"]').first().fill(ADMIN_TOKEN)
  await page.getByTestId('token-submit').click()
}

function content(page: Page) {
  return page.locator('textarea[data-testid="import-content"], [data-testid="import-content"] textarea').first()
}

test('imports EFAK’s configuration: dry run, then import, and the cluster is listed', async ({ page }, testInfo) => {
  // Four screenshots, two languages and themes: more steps than the default minute allows on a loaded machine.
  test.setTimeout(180_000)
  await page.goto('/import')
  await expect(page.getByTestId('import-page')).toBeVisible()
  // A broken file is refused with its line.
  await content(page).fill('efak.zk.cluster.alias=x\nthis line is broken\n')
  await page.getByTestId('import-preview').click()
  await giveToken(page)
  await expect(page.getByTestId('import-error')).toContainText('Line 2')

  await content(page).fill(EFAK_FILE)
  await page.getByTestId('import-preview').click()
  const clusters = page.getByTestId('import-clusters')
  await expect(clusters).toContainText(ALIAS)
  await expect(clusters).toContainText('127.0.0.1:9/kafka')
  await expect(clusters).toContainText('found through ZooKeeper')
  const items = page.getByTestId('import-items')
  await expect(items).toContainText('efak.webui.port')
  await expect(items).toContainText('shorter than 16 characters')
  await expect(page.getByTestId('import-page')).not.toContainText('e2e-db-secret')
  await shot(page, testInfo, 'import-preview-en-light')
  await items.scrollIntoViewIfNeeded()
  await shot(page, testInfo, 'import-items-en-light')

  await page.getByTestId('import-run').click()
  await expect(page.getByTestId('import-done')).toContainText('Imported 1 cluster')
  await page.goto('/')
  await expect(page.getByTestId('clusters-page')).toContainText(ALIAS)

  // The same page in Chinese and the dark theme (a second preview: the alias is now taken).
  await page.goto('/import')
  await page.getByTestId('lang-zh-CN').click()
  await page.getByTestId('theme-toggle').click()
  await content(page).fill(EFAK_FILE)
  await page.getByTestId('import-preview').click()
  await expect(page.getByRole('heading', { level: 1 })).toContainText('从 Kafka-Eagle（EFAK）导入')
  // The reasons are in the page's language too.
  await expect(page.getByTestId('import-items')).toContainText('已配置名为 "e2e-efak" 的集群')
  await shot(page, testInfo, 'import-preview-zh-dark')
  await page.getByTestId('import-items').scrollIntoViewIfNeeded()
  await shot(page, testInfo, 'import-items-zh-dark')
  await page.getByTestId('theme-toggle').click()
  await shot(page, testInfo, 'import-preview-zh-light')
  await page.getByTestId('lang-en').click()
  await page.getByTestId('theme-toggle').click()
  await shot(page, testInfo, 'import-preview-en-dark')
})
