import { flushPromises } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import type { EncodedValue, Message } from '@/api/types'
import MessageBrowser from '@/components/topics/MessageBrowser.vue'
import { VIEWS, displayValue, formatHex, parseHeaders, previewValue, prettyJson } from '@/utils/messages'
import { jsonResponse, mountWithApp, stubFetch } from './helpers'

describe('message formatting', () => {
  it('pretty-prints JSON and keeps text that does not parse', () => {
    expect(prettyJson('{"a":1,"b":[true,null]}')).toBe('{\n  "a": 1,\n  "b": [\n    true,\n    null\n  ]\n}')
    expect(prettyJson('{broken')).toBe('{broken')
    expect(displayValue({ format: 'json', data: '{"a":1}' })).toEqual({ text: '{\n  "a": 1\n}', mono: true, format: 'json', isNull: false })
  })

  it('keeps every number, string and literal byte for byte', () => {
    expect(prettyJson('{"id": 9007199254740993, "price": 10.50}')).toBe('{\n  "id": 9007199254740993,\n  "price": 10.50\n}')
    expect(prettyJson('[1e400, -0.0, 1E-7, 123456789012345678901234567890]')).toBe('[\n  1e400,\n  -0.0,\n  1E-7,\n  123456789012345678901234567890\n]')
    expect(displayValue({ format: 'json', data: '{"id":9007199254740993}' }).text).toContain('9007199254740993')
  })

  it('indents nested arrays and objects, empty ones kept short', () => {
    const src = ' {"a":[[1,2],{"b":{}},[]],"c":{"d":[{"e":null}]}} \n'
    expect(prettyJson(src)).toBe(
      [
        '{',
        '  "a": [',
        '    [',
        '      1,',
        '      2',
        '    ],',
        '    {',
        '      "b": {}',
        '    },',
        '    []',
        '  ],',
        '  "c": {',
        '    "d": [',
        '      {',
        '        "e": null',
        '      }',
        '    ]',
        '  }',
        '}',
      ].join('\n'),
    )
  })

  it('keeps strings with escapes as sent, brackets and commas inside them included', () => {
    const src = String.raw`{"q\"k": "a\"b\\c\/d\n\u00e9\ud83d\ude00", "s": "{[,:]}"}`
    expect(prettyJson(src)).toBe(String.raw`{
  "q\"k": "a\"b\\c\/d\n\u00e9\ud83d\ude00",
  "s": "{[,:]}"
}`)
  })

  it('falls back to the text as sent when it is not JSON', () => {
    for (const bad of ['{broken', '{"a":1,}', '[1 2]', '{"a" 1}', '01', '[1abc]', '"tab\there"', '{"a":1}x', 'nul', '[', '', '{"a":NaN}', "{'a':1}"]) {
      expect(prettyJson(bad)).toBe(bad)
    }
    const deep = '['.repeat(200000) + ']'.repeat(200000)
    expect(prettyJson(deep)).toBe(deep)
  })

  it('groups hex in bytes, 16 per line', () => {
    expect(formatHex('00FF10')).toBe('00 ff 10')
    const line = '00'.repeat(16)
    expect(formatHex(line + 'ab')).toBe(`${'00 '.repeat(15)}00\nab`)
    expect(displayValue({ format: 'hex', data: 'cafe' }).mono).toBe(true)
  })

  it('marks null keys as null, never as the text "null", and shows text as sent', () => {
    for (const view of VIEWS) {
      expect(displayValue({ format: 'null', data: '' }, view)).toEqual({ text: '', mono: false, format: 'null', isNull: true })
      expect(previewValue({ format: 'null', data: '' }, 40, view)).toBe('')
    }
    expect(displayValue(null)).toMatchObject({ isNull: true, text: '' })
    expect(displayValue({ format: 'text', data: 'null' })).toMatchObject({ text: 'null', isNull: false })
    expect(displayValue({ format: 'text', data: 'hello\nworld' })).toMatchObject({ text: 'hello\nworld', mono: false })
  })

  it('shows a value in the view picked, converting its bytes', () => {
    const json: EncodedValue = { format: 'json', data: '{"id": 9007199254740993}' }
    const text: EncodedValue = { format: 'text', data: 'héllo' }
    const bin: EncodedValue = { format: 'hex', data: '00ff68690a' }
    expect(displayValue(json, 'text')).toMatchObject({ text: '{"id": 9007199254740993}', format: 'text', mono: false })
    expect(displayValue(json, 'auto')).toMatchObject({ text: '{\n  "id": 9007199254740993\n}', format: 'json' })
    expect(displayValue(text, 'hex')).toMatchObject({ text: '68 c3 a9 6c 6c 6f', format: 'hex', mono: true })
    expect(displayValue(text, 'base64')).toMatchObject({ text: 'aMOpbGxv', format: 'base64', mono: true })
    expect(displayValue(bin, 'base64').text).toBe('AP9oaQo=')
    expect(displayValue(bin, 'text').text).toBe('\u0000\ufffdhi\n')
    expect(displayValue(bin, 'auto')).toMatchObject({ text: '00 ff 68 69 0a', format: 'hex' })
    // A text value that is JSON after all is pretty-printed in the JSON view; one that is not says so.
    expect(displayValue({ format: 'text', data: '[1,2.50]' }, 'json')).toMatchObject({ text: '[\n  1,\n  2.50\n]', format: 'json' })
    expect(displayValue(text, 'json')).toMatchObject({ text: 'héllo', notJson: true })
    expect(previewValue(text, 120, 'hex')).toBe('68 c3 a9 6c 6c 6f')
    expect(previewValue(json, 120, 'base64')).toBe(btoa('{"id": 9007199254740993}'))
  })

  it('cuts previews to one line', () => {
    expect(previewValue({ format: 'text', data: 'a\n b' })).toBe('a b')
    expect(previewValue({ format: 'text', data: 'x'.repeat(200) }, 10)).toBe(`${'x'.repeat(9)}…`)
    expect(previewValue({ format: 'json', data: '{"a":1}' })).toBe('{"a":1}')
  })

  it('parses header lines', () => {
    expect(parseHeaders('a=1\nb = x=y\n\njunk')).toEqual({ a: '1', b: ' x=y' })
  })
})

describe('MessageBrowser', () => {
  const evil: Message = {
    partition: 0,
    offset: 7,
    timestamp: '2026-01-02T03:04:05Z',
    key: { format: 'text', data: '<img src=x onerror=alert(1)>' },
    value: { format: 'text', data: '<b>bold</b><script>alert(1)</script>' },
    headers: [{ key: 'h', value: { format: 'text', data: '<i>x</i>' } }],
    size: 40,
    truncated: false,
  }

  it('asks for the tail of all partitions and shows values as text, never as HTML', async () => {
    const fetch = stubFetch(async () => jsonResponse(200, { items: [evil], total: 1 }))
    const wrapper = mountWithApp(MessageBrowser, { props: { cluster: 'c', topic: 'orders', partitions: 3 }, attachTo: document.body })
    expect(wrapper.find('[data-testid="messages-idle"]').exists()).toBe(true)
    await wrapper.find('[data-testid="msg-load"]').trigger('click')
    await flushPromises()
    expect(String(fetch.mock.calls[0]![0])).toBe('/api/v1/clusters/c/topics/orders/messages?mode=tail&tail=20&limit=20')
    const html = wrapper.html()
    expect(html).not.toContain('<b>bold</b>')
    expect(html).not.toContain('<img src=x')
    expect(wrapper.find('[data-testid="message-preview"]').text()).toBe('<b>bold</b><script>alert(1)</script>')
    expect(wrapper.find('[data-testid="message-key"]').text()).toBe('<img src=x onerror=alert(1)>')
    expect(wrapper.findAll('b').length).toBe(0)
    wrapper.unmount()
  })

  it('asks for the newest N with one count field', async () => {
    const fetch = stubFetch(async () => jsonResponse(200, { items: [], total: 0 }))
    const wrapper = mountWithApp(MessageBrowser, { props: { cluster: 'c', topic: 'orders', partitions: 3 } })
    expect(wrapper.findAll('[data-testid="msg-count"]')).toHaveLength(1)
    await wrapper.find('[data-testid="msg-count"] input').setValue('7')
    await wrapper.find('[data-testid="msg-load"]').trigger('click')
    await flushPromises()
    expect(String(fetch.mock.calls[0]![0])).toBe('/api/v1/clusters/c/topics/orders/messages?mode=tail&tail=7&limit=7')
    await wrapper.find('[data-testid="msg-mode-offset"] input').setValue(true)
    expect(wrapper.findAll('[data-testid="msg-count"]')).toHaveLength(1)
  })

  it('refuses timestamp mode without a time and says what is missing', async () => {
    const fetch = stubFetch(async () => jsonResponse(200, { items: [], total: 0 }))
    const wrapper = mountWithApp(MessageBrowser, { props: { cluster: 'c', topic: 'orders', partitions: 1 } })
    await wrapper.find('[data-testid="msg-mode-timestamp"] input').setValue(true)
    await wrapper.find('[data-testid="msg-load"]').trigger('click')
    await flushPromises()
    expect(fetch).not.toHaveBeenCalled()
    expect(wrapper.find('[data-testid="msg-timestamp-required"]').text()).toBe('Pick a date and time to read from.')
    expect(wrapper.find('[data-testid="messages-idle"]').exists()).toBe(true)
  })

  it('shows the server’s refusal of a query without its value', async () => {
    stubFetch(async () => jsonResponse(400, { error: { code: 'timestamp_required', message: 'reading from a timestamp needs a time' } }))
    const wrapper = mountWithApp(MessageBrowser, { props: { cluster: 'c', topic: 'orders', partitions: 1 } })
    await wrapper.find('[data-testid="msg-load"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="messages-error"]').exists()).toBe(true)
  })

  it('marks a null key apart from the text "null" and switches views by hand', async () => {
    const rows: Message[] = [
      { ...evil, offset: 1, key: { format: 'null', data: '' }, value: { format: 'json', data: '{"price": 10.50}' }, headers: [] },
      { ...evil, offset: 2, key: { format: 'text', data: 'null' }, value: { format: 'null', data: '' }, headers: [] },
    ]
    stubFetch(async () => jsonResponse(200, { items: rows, total: 2 }))
    const wrapper = mountWithApp(MessageBrowser, { props: { cluster: 'c', topic: 'orders', partitions: 1 }, attachTo: document.body })
    await wrapper.find('[data-testid="msg-load"]').trigger('click')
    await flushPromises()
    const nullKeys = wrapper.findAll('[data-testid="message-key-null"]')
    expect(nullKeys).toHaveLength(1)
    expect(nullKeys[0]!.text()).toBe('none')
    expect(nullKeys[0]!.classes()).toContain('null-marker')
    expect(wrapper.findAll('[data-testid="message-key"]').map((k) => k.text())).toEqual(['null'])
    expect(wrapper.findAll('[data-testid="message-value-null"]')).toHaveLength(1)
    expect(wrapper.find('[data-testid="message-preview"]').text()).toBe('{"price": 10.50}')
    await wrapper.find('[data-testid="msg-view-base64"] input').setValue(true)
    expect(wrapper.find('[data-testid="message-preview"]').text()).toBe(btoa('{"price": 10.50}'))
    expect(wrapper.findAll('[data-testid="message-key"]').map((k) => k.text())).toEqual([btoa('null')])
    expect(wrapper.findAll('[data-testid="message-key-null"]')).toHaveLength(1)
    await wrapper.find('[data-testid="msg-view-hex"] input').setValue(true)
    expect(wrapper.findAll('[data-testid="message-key"]').map((k) => k.text())).toEqual(['6e 75 6c 6c'])
    wrapper.unmount()
  })

  it('shows the empty state and the API’s error', async () => {
    let fail = false
    stubFetch(async () => (fail ? jsonResponse(404, { error: { code: 'not_found', message: 'topic "orders" not found' } }) : jsonResponse(200, { items: [], total: 0 })))
    const wrapper = mountWithApp(MessageBrowser, { props: { cluster: 'c', topic: 'orders', partitions: 1 } })
    await wrapper.find('[data-testid="msg-load"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="messages-empty"]').exists()).toBe(true)
    fail = true
    await wrapper.find('[data-testid="msg-load"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="messages-error"]').text()).toContain('topic "orders" not found')
  })
})
