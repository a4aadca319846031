// Starts the real osprey binary for the end-to-end tests and stops it afterwards.
//
//   OSPREY_BIN   the binary (default ../bin/osprey, relative to web/)
//   OSPREY_E2E_URL  skip starting a binary and test this running server instead
//
// The server gets a fresh temporary config and data directory and a free loopback port; its
// output goes to <tmp>/osprey.log, printed if it fails to come up.
import { spawn, type ChildProcess } from 'node:child_process'
import { constants, createWriteStream } from 'node:fs'
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import { ADMIN_TOKEN, E2E_CLUSTER } from './constants'

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')

// The embedded cluster (named local, with demo traffic; 3 brokers once the multi-broker runtime lands,
// one until then) plus an unreachable one; short collector
// intervals so figures, lag and series appear within seconds.
// These pages' tests kill brokers and watch the ZooKeeper-mode controller move, so the embedded
// cluster runs in ZooKeeper mode here; KRaft clusters are covered by quorum.spec.ts, which stands
// up its own KRaft nodes and a KRaft runtime cluster.
const CONFIG = `embedded:
  enabled: true
  brokers: 3
  mode: zookeeper
collector:
  offsetsInterval: 2s
  groupsInterval: 2s
  logDirsInterval: 5s
clusters:
  - name: ${E2E_CLUSTER.name}
    bootstrapServers: ["${E2E_CLUSTER.bootstrapServer}"]
`

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolvePort(port))
    })
  })
}

async function waitHealthy(url: string, child: ChildProcess, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs
  let last = ''
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`osprey exited before it was healthy (code ${child.exitCode}, signal ${child.signalCode})`)
    }
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) })
      if (res.status === 200) return
      last = `HTTP ${res.status}`
    } catch (err) {
      last = err instanceof Error ? err.message : String(err)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`osprey was not healthy within ${deadlineMs} ms (last: ${last})`)
}

function stop(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done()
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    child.once('exit', () => {
      clearTimeout(timer)
      done()
    })
    child.kill('SIGTERM')
  })
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (process.env.OSPREY_E2E_URL) {
    console.log(`e2e: testing the server at ${process.env.OSPREY_E2E_URL}`)
    return async () => {}
  }

  const bin = resolve(webDir, process.env.OSPREY_BIN ?? '../bin/osprey')
  try {
    await access(bin, constants.X_OK)
  } catch {
    throw new Error(
      `e2e: no osprey binary at ${bin}. Build it first: npm run build && go build -tags spa -o bin/osprey ./cmd/osprey ` +
        `(from the repository root), or set OSPREY_BIN.`,
    )
  }

  const dir = await mkdtemp(join(tmpdir(), 'osprey-e2e-'))
  const config = join(dir, 'osprey.yaml')
  const dataDir = join(dir, 'data')
  const logPath = join(dir, 'osprey.log')
  await writeFile(config, CONFIG)
  await mkdir(dataDir)
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`

  const log = createWriteStream(logPath)
  await new Promise((r) => log.once('open', r))
  const child = spawn(bin, ['serve', '--config', config], {
    env: { ...process.env, OSPREY_LISTEN: `127.0.0.1:${port}`, OSPREY_DATA_DIR: dataDir, OSPREY_ADMIN_TOKEN: ADMIN_TOKEN },
    stdio: ['ignore', log, log],
  })
  // If the runner dies without teardown, do not leave the server behind.
  const killOnExit = (): void => {
    child.kill('SIGKILL')
  }
  process.once('exit', killOnExit)

  try {
    await waitHealthy(url, child, 30_000)
  } catch (err) {
    await stop(child, 5_000)
    const out = await readFile(logPath, 'utf8').catch(() => '')
    log.end()
    await rm(dir, { recursive: true, force: true })
    throw new Error(`${(err as Error).message}\n--- osprey output ---\n${out.slice(-4000)}`)
  }
  process.env.OSPREY_E2E_URL = url
  console.log(`e2e: ${bin} serving on ${url} (pid ${child.pid}, log ${logPath})`)

  return async () => {
    await stop(child, 10_000)
    process.off('exit', killOnExit)
    log.end()
    // OSPREY_E2E_KEEP=1 keeps the console's data and log for a look after a failure.
    if (process.env.OSPREY_E2E_KEEP) console.log(`e2e: kept ${dir}`)
    else await rm(dir, { recursive: true, force: true })
  }
}
