// The test object for every e2e spec: baseURL points at the server global-setup started, and
// shot() saves a full-page screenshot into the test's output directory (web/test-results/...).
import { test as base, type Page, type TestInfo } from '@playwright/test'

export { expect } from '@playwright/test'

export async function shot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`)
  // Finish CSS transitions (dialogs fading in) so the picture shows the settled page.
  await page.screenshot({ path, fullPage: true, animations: 'disabled' })
  await testInfo.attach(name, { path, contentType: 'image/png' })
}

export const test = base.extend({
  baseURL: async ({}, use) => {
    const url = process.env.OSPREY_E2E_URL
    if (!url) throw new Error('OSPREY_E2E_URL is not set: global-setup did not start a server')
    await use(url)
  },
})
