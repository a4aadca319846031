// Turns a failed call into the sentence a page shows, in the user's language. Server errors are
// translated by their stable code and params (see server/errors.go), never by their English text:
// apiErrors.<code>, apiErrorRules.<code>.<rule> for a broken rule, apiErrors.kafka.<NAME> for a Kafka
// error by its protocol name (apiErrors.kafka.other for names without their own sentence).
import { ApiError, ClientErrorCode } from './client'

/** The parts of vue-i18n's composer this needs (useI18n() or i18n.global). */
export interface Translator {
  t: (key: string, named?: Record<string, unknown>) => string
  te: (key: string) => boolean
}

export interface ErrorText {
  /** The sentence to show. */
  message: string
  /** The server's own sentence, HTTP status and code, for a muted second line; '' when nothing to add. */
  detail: string
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v)
}

/** The message key for a server error, or null when the code has no sentence of its own. */
export function apiErrorKey(err: ApiError, te: Translator['te']): string | null {
  const rule = str(err.params.rule)
  if (rule && te(`apiErrorRules.${err.code}.${rule}`)) return `apiErrorRules.${err.code}.${rule}`
  if (te(`apiErrors.${err.code}`)) return `apiErrors.${err.code}`
  if (err.code.startsWith('kafka.')) return 'apiErrors.kafka.other'
  return null
}

/** The named values for a server error's sentence; the operation name is itself translated. */
function sentenceParams(err: ApiError, i18n: Translator): Record<string, unknown> {
  const op = str(err.params.op)
  const target = str(err.params.target)
  const opText = op && i18n.te(`apiOps.${op}`) ? i18n.t(`apiOps.${op}`, { target }) : i18n.t('apiOps.unknown')
  const kafkaError = str(err.params.kafkaError) || err.code.replace(/^kafka\./, '')
  return { ...err.params, op: opText, kafkaError, message: err.message }
}

export function errorText(err: unknown, i18n: Translator): ErrorText {
  if (err === null || err === undefined) return { message: '', detail: '' }
  if (typeof err === 'string') return { message: err, detail: '' }
  if (!(err instanceof ApiError)) return { message: err instanceof Error ? err.message : String(err), detail: '' }
  switch (err.code) {
    case ClientErrorCode.Network:
      return { message: i18n.t('errors.network'), detail: err.message }
    case ClientErrorCode.Timeout:
      return { message: i18n.t('errors.timeout'), detail: err.message }
    case ClientErrorCode.BadResponse:
      return { message: i18n.t('errors.badResponse'), detail: err.message }
  }
  const where = err.status ? `HTTP ${err.status} · ${err.code}` : err.code
  const key = apiErrorKey(err, i18n.te)
  if (!key) return { message: i18n.t('apiErrors.fallback', { message: err.message }), detail: where }
  const message = i18n.t(key, sentenceParams(err, i18n))
  // The server's own sentence can be more specific than the one for its code (it names the topic,
  // the limit…): it goes on the detail line, as sent.
  const own = err.message && err.message.replace(/\.$/, '') !== message.replace(/\.$/, '') ? `${err.message} · ` : ''
  return { message, detail: own + where }
}
