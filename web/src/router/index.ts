// Routes. The server answers every non-/api path with index.html, so deep links work.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import ClusterListView from '@/views/ClusterListView.vue'

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the page title, used for document.title. */
    titleKey?: string
  }
}

export const routes: RouteRecordRaw[] = [
  // The landing page is bundled eagerly; later pages should use () => import(...) to stay out of the initial bundle.
  { path: '/', alias: '/clusters', name: 'clusters', component: ClusterListView, meta: { titleKey: 'clusters.title' } },
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('@/views/NotFoundView.vue'),
    meta: { titleKey: 'notFound.title' },
  },
]

export function createAppRouter() {
  return createRouter({ history: createWebHistory('/'), routes })
}
