import { flushPromises } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import AlertsView from '@/views/AlertsView.vue'
import { formatTime } from '@/utils/format'
import { jsonResponse, mountWithApp, stubFetch } from './helpers'

const pendingAt = '2026-01-01T12:42:00Z'
const firingSince = '2026-01-01T12:40:00Z'
const firedAt = '2026-01-01T12:41:00Z'

function stubAlerts(): void {
  stubFetch(async (url) => {
    const u = new URL(String(url), 'http://x')
    switch (u.pathname) {
      case '/api/v1/alerts/active':
        return jsonResponse(200, {
          items: [
            { fingerprint: 'f1', ruleId: 1, cluster: 'c', state: 'firing', severity: 'critical', subject: 'broker 3', summary: 'down', activeAt: firingSince, firedAt, quietUntil: '2026-01-01T12:45:00Z', notifications: 0 },
            { fingerprint: 'f2', ruleId: 2, cluster: 'c', state: 'pending', severity: 'warning', subject: 'group g', summary: 'lag', activeAt: pendingAt, firesAt: '2026-01-01T12:43:00Z', notifications: 0 },
          ],
          total: 2,
        })
      case '/api/v1/alerts/events':
        return jsonResponse(200, { items: [{ id: 7, ruleId: 1, fingerprint: 'f1', state: 'firing', severity: 'critical', cluster: 'c', subject: 'broker 3', summary: 'down', startedAt: firingSince, notifications: 0 }], total: 1 })
      default:
        return jsonResponse(200, { items: [], total: 0 })
    }
  })
}

describe('AlertsView', () => {
  it('tells pending from firing and labels each time for the moment it is', async () => {
    stubAlerts()
    const w = mountWithApp(AlertsView)
    await flushPromises()
    const active = w.find('[data-testid="alerts-active"]')
    expect(active.find('[data-testid="alert-state-pending"]').text()).toBe('pending')
    expect(active.find('[data-testid="alert-state-firing"]').text()).toBe('firing')
    expect(active.text()).toContain('Condition since')
    expect(active.text()).toContain('Firing since')
    const since = active.findAll('[data-testid="alert-condition-since"]').map((e) => e.text())
    expect(since).toEqual([formatTime(firingSince, 'en'), formatTime(pendingAt, 'en')])
    expect(active.find('[data-testid="alert-firing-since"]').text()).toBe(formatTime(firedAt, 'en'))
    expect(active.find('[data-testid="alert-fires-at"]').text()).toContain(formatTime('2026-01-01T12:43:00Z', 'en'))
    expect(active.find('[data-testid="alert-quiet-until"]').text()).toContain('cool-down')

    // The history tab's start is the same moment as the active tab's "condition since", under the same label.
    ;(w.vm as unknown as { tab: string }).tab = 'history'
    await flushPromises()
    const history = w.find('[data-testid="alerts-history"]')
    expect(history.text()).toContain('Condition since')
    expect(history.text()).toContain(formatTime(firingSince, 'en'))
    expect(history.find('[data-testid="alert-state-firing"]').exists()).toBe(true)
  })
})
