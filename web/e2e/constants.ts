// The clusters global-setup configures and the admin token it gives the server; the specs look for them.
/** A configured cluster nobody listens for: its row shows partial data. */
export const E2E_CLUSTER = { name: 'e2e-kafka', bootstrapServer: '127.0.0.1:9' }
/** The embedded cluster with demo traffic (topics demo.orders, demo.payments; groups demo-billing, demo-analytics). */
export const LOCAL_CLUSTER = 'local'
/** OSPREY_E2E_TOKEN overrides it when testing an already running server (OSPREY_E2E_URL). */
export const ADMIN_TOKEN = process.env.OSPREY_E2E_TOKEN ?? 'e2e-admin-token-0123456789abcdef'
