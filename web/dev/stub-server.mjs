// A stand-in for the osprey server during front-end development: /healthz, GET /api/v1/clusters
// and, when web/dist exists, the built SPA with index.html for every other path (as osprey does).
//   node dev/stub-server.mjs            # http://127.0.0.1:8049, three sample clusters
//   STUB_MODE=empty|error|slow|e2e STUB_PORT=9000 node dev/stub-server.mjs
//   OSPREY_API=http://127.0.0.1:8049 npm run dev
import { createServer } from 'node:http'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'

const port = Number(process.env.STUB_PORT ?? 8049)
const mode = process.env.STUB_MODE ?? 'data'
const dist = fileURLToPath(new URL('../dist/', import.meta.url))

const clusters = [
  {
    name: 'local',
    bootstrapServers: ['127.0.0.1:9092', '127.0.0.1:9093', '127.0.0.1:9094'],
    zookeeper: '',
    embedded: true,
    brokers: 3,
    topics: 12,
    partitions: 96,
    underReplicated: 0,
    offline: 0,
    controller: 1,
    lastPoll: new Date().toISOString(),
  },
  {
    name: 'prod-zk',
    bootstrapServers: ['kafka-1.example:9092', 'kafka-2.example:9092'],
    zookeeper: 'zk-1.example:2181,zk-2.example:2181/kafka',
    embedded: false,
    brokers: 5,
    topics: 1280,
    partitions: 15360,
    underReplicated: 4,
    offline: 1,
    controller: 2,
    lastPoll: new Date(Date.now() - 15_000).toISOString(),
  },
  { name: 'staging-kraft', bootstrapServers: ['10.0.0.7:9092'], zookeeper: '', embedded: false, controller: null, lastPoll: null },
]

const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' }

function json(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify(body))
}

async function serveFile(res, path) {
  const body = await readFile(path)
  res.writeHead(200, { 'Content-Type': types[extname(path)] ?? 'application/octet-stream' })
  res.end(body)
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://stub')
  if (url.pathname === '/healthz') return json(res, 200, { status: 'ok' })
  if (url.pathname === '/api/v1/clusters') {
    if (mode === 'error') return json(res, 503, { error: { code: 'unavailable', message: 'the store is not ready yet' } })
    if (mode === 'slow') await new Promise((r) => setTimeout(r, 3000))
    // e2e: what osprey returns for the e2e config before the collector has polled.
    const e2e = [{ name: 'e2e-kafka', bootstrapServers: ['127.0.0.1:9'], zookeeper: '', embedded: false, brokers: null, topics: null, partitions: null, underReplicated: null, offline: null, controller: null, lastPoll: null }]
    const items = mode === 'empty' ? [] : mode === 'e2e' ? e2e : clusters
    return json(res, 200, { items, total: items.length })
  }
  if (url.pathname.startsWith('/api/')) return json(res, 404, { error: { code: 'not_found', message: `no route ${url.pathname}` } })
  try {
    const file = normalize(join(dist, decodeURIComponent(url.pathname)))
    if (file.startsWith(dist) && (await stat(file).catch(() => null))?.isFile()) return await serveFile(res, file)
    return await serveFile(res, join(dist, 'index.html'))
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain' })
    res.end('web/dist is not built: run npm run build')
  }
})

server.listen(port, '127.0.0.1', () => console.log(`stub osprey on http://127.0.0.1:${port} (mode ${mode})`))
