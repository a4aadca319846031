// The translated sentence for a failed call, for pages that show it in a dialog or a toast.
import { useI18n } from 'vue-i18n'
import { errorText, type Translator } from '@/api/errorText'

export function useErrorText(): (err: unknown) => string {
  const { t, te } = useI18n()
  const i18n: Translator = { t: (k, named) => (named ? t(k, named) : t(k)), te: (k) => te(k) }
  return (err: unknown) => errorText(err, i18n).message
}
