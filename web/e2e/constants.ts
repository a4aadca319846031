// The cluster global-setup configures; the specs look for it on the page.
export const E2E_CLUSTER = { name: 'e2e-kafka', bootstrapServer: '127.0.0.1:9' }
