// Whether a CSS media query matches, kept up to date as the window changes.
import { onBeforeUnmount, ref, type Ref } from 'vue'

/** The width (px) at and below which the console uses its narrow layout: navigation in a drawer. */
export const NARROW_MAX_WIDTH = 768

export function useMediaQuery(query: string): Ref<boolean> {
  const mql = typeof window !== 'undefined' && typeof window.matchMedia === 'function' ? window.matchMedia(query) : null
  const matches = ref(mql?.matches ?? false)
  const onChange = (e: MediaQueryListEvent): void => {
    matches.value = e.matches
  }
  mql?.addEventListener('change', onChange)
  onBeforeUnmount(() => mql?.removeEventListener('change', onChange))
  return matches
}

export function useNarrowScreen(): Ref<boolean> {
  return useMediaQuery(`(max-width: ${NARROW_MAX_WIDTH}px)`)
}
