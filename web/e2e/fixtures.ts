// The test object for every e2e spec: baseURL points at the server global-setup started, and
// shot() saves a full-page screenshot into the test's output directory (web/test-results/...), and
// spawnGoHelper() builds and starts one of the Go helper programs beside the specs.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test as base, expect, type Page, type TestInfo } from '@playwright/test'

export { expect } from '@playwright/test'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** Builds the Go program in web/e2e/<name> and starts it with args (stdio piped). The built file is
 * removed at once: the child keeps the running file, and nothing is left in the temp directory. */
export function spawnGoHelper(name: string, args: string[]): ChildProcess {
  const bin = join(tmpdir(), `osprey-e2e-${name}-${process.pid}`)
  const built = spawnSync('go', ['build', '-o', bin, `./web/e2e/${name}`], { cwd: repo, encoding: 'utf8' })
  expect(built.status, built.stderr).toBe(0)
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  rmSync(bin, { force: true })
  return child
}

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
