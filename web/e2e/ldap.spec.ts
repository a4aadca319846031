// LDAP sign-in and roles per cluster in the browser: Debian's OpenLDAP (slapd, with a generated
// slapd.conf and an LDIF of a service account, a user and a group, on a free loopback port) and a
// console of its own signing in against it, with two clusters: the embedded `local` one and `prod`.
// bob's directory group maps to viewer; an admin grants the group operator on `local` only, so bob
// sees `prod` read-only and creates a topic on `local`.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test, type Page, type TestInfo } from '@playwright/test'

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const bin = resolve(webDir, process.env.OSPREY_BIN ?? '../bin/osprey')
const TOKEN = 'e2e-ldap-admin-token-0123456789'
const BASE = 'dc=osprey,dc=test'
const ROOT_PW = 'e2e-root-secret'

const LDIF = `dn: ${BASE}
objectClass: dcObject
objectClass: organization
dc: osprey
o: Osprey e2e

dn: ou=people,${BASE}
objectClass: organizationalUnit
ou: people

dn: ou=groups,${BASE}
objectClass: organizationalUnit
ou: groups

dn: cn=osprey-svc,${BASE}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: osprey-svc
userPassword: svc-secret

dn: uid=bob,ou=people,${BASE}
objectClass: inetOrgPerson
uid: bob
cn: Bob
sn: B
userPassword: bob-pass

dn: cn=kafka-team,ou=groups,${BASE}
objectClass: groupOfNames
cn: kafka-team
member: uid=bob,ou=people,${BASE}
`

const env: { dir: string; url: string; slapd: ChildProcess | null; console: ChildProcess | null } = {
  dir: '',
  url: '',
  slapd: null,
  console: null,
}

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

function listening(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.end()
      done(true)
    })
    s.once('error', () => done(false))
  })
}

function field(page: Page, id: string) {
  return page.locator(`:is(input, textarea)[data-testid="${id}"], [data-testid="${id}"] :is(input, textarea)`).first()
}

async function shot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`)
  await page.screenshot({ path, fullPage: true, animations: 'disabled' })
  await testInfo.attach(name, { path, contentType: 'image/png' })
}

test.beforeAll(async () => {
  test.setTimeout(120_000)
  env.dir = await mkdtemp(join(tmpdir(), 'osprey-ldap-e2e-'))
  await mkdir(join(env.dir, 'db'))
  const ldapPort = await freePort()
  const ldapURL = `ldap://127.0.0.1:${ldapPort}`
  await writeFile(
    join(env.dir, 'slapd.conf'),
    [
      'include /etc/ldap/schema/core.schema',
      'include /etc/ldap/schema/cosine.schema',
      'include /etc/ldap/schema/inetorgperson.schema',
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      `pidfile ${env.dir}/slapd.pid`,
      'database mdb',
      `suffix "${BASE}"`,
      `rootdn "cn=admin,${BASE}"`,
      `rootpw ${ROOT_PW}`,
      `directory ${env.dir}/db`,
      'maxsize 104857600',
      'access to attrs=userPassword by anonymous auth by self read by * none',
      'access to * by users read by * none',
      '',
    ].join('\n'),
  )
  const slog = openSync(join(env.dir, 'slapd.log'), 'a')
  // -d keeps slapd in the foreground, so this process owns it and stops it.
  env.slapd = spawn('/usr/sbin/slapd', ['-d', 'stats', '-f', join(env.dir, 'slapd.conf'), '-h', `${ldapURL}/`], { stdio: ['ignore', slog, slog] })
  closeSync(slog)
  await expect.poll(() => listening(ldapPort), { timeout: 20_000 }).toBe(true)
  await writeFile(join(env.dir, 'entries.ldif'), LDIF)
  execFileSync('ldapadd', ['-x', '-H', ldapURL, '-D', `cn=admin,${BASE}`, '-w', ROOT_PW, '-f', join(env.dir, 'entries.ldif')], { stdio: 'ignore' })

  const port = await freePort()
  env.url = `http://127.0.0.1:${port}`
  const cfg = join(env.dir, 'osprey.yaml')
  await writeFile(
    cfg,
    `embedded:
  enabled: true
  brokers: 1
  demoTraffic: false
collector:
  offsetsInterval: 2s
  groupsInterval: 2s
clusters:
  - name: prod
    bootstrapServers: ["127.0.0.1:9"]
auth:
  ldap:
    enabled: true
    url: ${ldapURL}
    tls: none
    bindDN: cn=osprey-svc,${BASE}
    bindPassword: svc-secret
    userBaseDN: ou=people,${BASE}
    groupBaseDN: ou=groups,${BASE}
    roles:
      - {group: kafka-team, role: viewer}
`,
  )
  const log = openSync(join(env.dir, 'osprey.log'), 'a')
  env.console = spawn(bin, ['serve', '--config', cfg], {
    env: { ...process.env, OSPREY_LISTEN: `127.0.0.1:${port}`, OSPREY_DATA_DIR: join(env.dir, 'console'), OSPREY_ADMIN_TOKEN: TOKEN },
    stdio: ['ignore', log, log],
  })
  closeSync(log)
})

/** Stops a child and waits for it to exit (SIGKILL after 10 s), so its files can be removed. */
function stop(child: ChildProcess | null): Promise<void> {
  return new Promise((done) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return done()
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    child.once('exit', () => {
      clearTimeout(timer)
      done()
    })
    child.kill('SIGTERM')
  })
}

test.afterAll(async () => {
  await Promise.all([stop(env.console), stop(env.slapd)])
  if (!process.env.OSPREY_E2E_KEEP) await rm(env.dir, { recursive: true, force: true })
})

test('an LDAP user sees one cluster read-only and changes the other, where an admin granted its group operator', async ({ page, request }, testInfo) => {
  await expect(async () => {
    const res = await request.get(`${env.url}/healthz`)
    expect(res.status()).toBe(200)
  }).toPass({ timeout: 60_000 })
  const grant = await request.post(`${env.url}/api/v1/role-grants`, {
    headers: { Authorization: `Bearer ${TOKEN}` },
    data: { subjectKind: 'group', subject: 'kafka-team', cluster: 'local', role: 'operator' },
  })
  expect(grant.status()).toBe(201)

  await page.goto(`${env.url}/login`)
  await field(page, 'login-username').fill('bob')
  await field(page, 'login-password').fill('wrong-pass')
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('login-error')).toBeVisible()
  await field(page, 'login-password').fill('bob-pass')
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('user-menu')).toContainText('bob')

  // prod: bob is a viewer there — the page says read-only and offers no Create.
  await page.goto(`${env.url}/clusters/prod/topics`)
  await expect(page.getByTestId('topics-read-only')).toBeVisible()
  await expect(page.getByTestId('topics-create')).toBeDisabled()
  await shot(page, testInfo, 'prod-read-only')

  // local: the group's grant makes bob an operator — he creates a topic.
  const topic = `e2e.ldap-${Date.now()}`
  await page.goto(`${env.url}/clusters/local/topics`)
  await expect(page.getByTestId('topics-read-only')).toHaveCount(0)
  await expect(page.getByTestId('topics-create')).toBeEnabled()
  await page.getByTestId('topics-create').click()
  await field(page, 'create-topic-name').fill(topic)
  await page.getByTestId('create-topic-submit').click()
  await expect(page).toHaveURL(new RegExp(`/topics/${topic.replace(/\./g, '\\.')}(\\?|$)`), { timeout: 30_000 })
  await shot(page, testInfo, 'local-writable')

  // The audit log names bob, how he signed in and his browser.
  const audit = await request.get(`${env.url}/api/v1/audit?actor=bob&action=topic.create`, { headers: { Authorization: `Bearer ${TOKEN}` } })
  const rows = ((await audit.json()) as { items: { result: string; authMethod: string; userAgent: string }[] }).items
  expect(rows[0]?.result).toBe('ok')
  expect(rows[0]?.authMethod).toBe('ldap')
  expect(rows[0]?.userAgent).toContain('Chrome')
  const logs = await readFile(join(env.dir, 'osprey.log'), 'utf8').catch(() => '')
  expect(logs).not.toContain('svc-secret')
})
