// The :cluster route parameter as a ref.
import { computed, type ComputedRef } from 'vue'
import { useRoute } from 'vue-router'

export function useRouteParam(name: string): ComputedRef<string> {
  const route = useRoute()
  return computed(() => {
    const v = route.params[name]
    return typeof v === 'string' ? v : ''
  })
}

export function useClusterParam(): ComputedRef<string> {
  return useRouteParam('cluster')
}
