// Routes. The server answers every non-/api path with index.html, so deep links work. Pages of one
// cluster live under /clusters/:cluster/…; only the landing page is bundled eagerly.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import ClusterListView from '@/views/ClusterListView.vue'

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the page title, used for document.title. */
    titleKey?: string
  }
}

export const routes: RouteRecordRaw[] = [
  { path: '/', alias: '/clusters', name: 'clusters', component: ClusterListView, meta: { titleKey: 'clusters.title' } },
  { path: '/login', name: 'login', component: () => import('@/views/LoginView.vue'), meta: { titleKey: 'login.title' } },
  { path: '/clusters/:cluster', redirect: (to) => ({ name: 'dashboard', params: to.params }) },
  {
    path: '/clusters/:cluster/dashboard',
    name: 'dashboard',
    component: () => import('@/views/DashboardView.vue'),
    meta: { titleKey: 'nav.dashboard' },
  },
  {
    path: '/clusters/:cluster/brokers',
    name: 'brokers',
    component: () => import('@/views/BrokersView.vue'),
    meta: { titleKey: 'nav.brokers' },
  },
  { path: '/clusters/:cluster/topics', name: 'topics', component: () => import('@/views/TopicsView.vue'), meta: { titleKey: 'nav.topics' } },
  {
    path: '/clusters/:cluster/topics/:topic',
    name: 'topic',
    component: () => import('@/views/TopicDetailView.vue'),
    meta: { titleKey: 'topic.title' },
  },
  { path: '/clusters/:cluster/groups', name: 'groups', component: () => import('@/views/GroupsView.vue'), meta: { titleKey: 'nav.groups' } },
  {
    path: '/clusters/:cluster/groups/:group',
    name: 'group',
    component: () => import('@/views/GroupDetailView.vue'),
    meta: { titleKey: 'group.title' },
  },
  {
    path: '/clusters/:cluster/operations',
    name: 'operations',
    component: () => import('@/views/OperationsView.vue'),
    meta: { titleKey: 'nav.operations' },
  },
  {
    path: '/clusters/:cluster/housekeeping',
    name: 'housekeeping',
    component: () => import('@/views/HousekeepingView.vue'),
    meta: { titleKey: 'nav.housekeeping' },
  },
  {
    path: '/clusters/:cluster/storage',
    name: 'storage',
    component: () => import('@/views/StorageView.vue'),
    meta: { titleKey: 'nav.storage' },
  },
  {
    path: '/clusters/:cluster/transactions',
    name: 'transactions',
    component: () => import('@/views/TransactionsView.vue'),
    meta: { titleKey: 'nav.transactions' },
  },
  {
    path: '/clusters/:cluster/acls',
    name: 'acls',
    component: () => import('@/views/AclsView.vue'),
    meta: { titleKey: 'nav.acls' },
  },
  {
    path: '/clusters/:cluster/scram-users',
    name: 'scram-users',
    component: () => import('@/views/ScramUsersView.vue'),
    meta: { titleKey: 'nav.scramUsers' },
  },
  {
    path: '/clusters/:cluster/quotas',
    name: 'quotas',
    component: () => import('@/views/QuotasView.vue'),
    meta: { titleKey: 'nav.quotas' },
  },
  {
    path: '/clusters/:cluster/quorum',
    name: 'quorum',
    component: () => import('@/views/QuorumView.vue'),
    meta: { titleKey: 'nav.quorum' },
  },
  {
    path: '/clusters/:cluster/zookeeper',
    name: 'zookeeper',
    component: () => import('@/views/ZooKeeperView.vue'),
    meta: { titleKey: 'nav.zookeeper' },
  },
  { path: '/alerts', name: 'alerts', component: () => import('@/views/AlertsView.vue'), meta: { titleKey: 'nav.alerts' } },
  { path: '/runtime', name: 'runtime', component: () => import('@/views/RuntimeView.vue'), meta: { titleKey: 'nav.runtime' } },
  { path: '/import', name: 'import', component: () => import('@/views/ImportView.vue'), meta: { titleKey: 'nav.import' } },
  { path: '/audit', name: 'audit', component: () => import('@/views/AuditView.vue'), meta: { titleKey: 'nav.audit' } },
  { path: '/access', name: 'access', component: () => import('@/views/AccessView.vue'), meta: { titleKey: 'nav.access' } },
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('@/views/NotFoundView.vue'),
    meta: { titleKey: 'notFound.title' },
  },
]

/** Route names that belong to one cluster (the switcher keeps the page when changing cluster). */
export const CLUSTER_ROUTES = ['dashboard', 'brokers', 'topics', 'groups', 'operations', 'housekeeping', 'storage', 'transactions', 'acls', 'scram-users', 'quotas', 'zookeeper', 'quorum'] as const

export function createAppRouter() {
  return createRouter({ history: createWebHistory('/'), routes })
}
