import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import type { RoleName } from './api/types'
import { hasRole, signedIn } from './session'

declare module 'vue-router' {
  interface RouteMeta {
    //! Signed-in users only.
    auth?: boolean
    //! Any of these roles (implies auth).
    roles?: RoleName[]
    //! Consoles use the full desktop width.
    wide?: boolean
  }
}

export const residentRoles: RoleName[] = ['resident', 'household_admin', 'enterprise']
export const adminRoles: RoleName[] = ['province_admin', 'region_admin']

const routes: RouteRecordRaw[] = [
  { path: '/', name: 'home', component: () => import('./views/HomeView.vue') },
  { path: '/login', name: 'login', component: () => import('./views/LoginView.vue') },
  { path: '/register', name: 'register', component: () => import('./views/RegisterView.vue') },
  { path: '/methodologies', name: 'methodologies', component: () => import('./views/MethodologiesView.vue') },
  // Methodology ids have dots ("travel.metro"); the trailing slash keeps the server's SPA fallback,
  // which serves index.html only for paths without a file extension, working on a reload.
  { path: '/methodologies/:id/', name: 'methodology', component: () => import('./views/MethodologyView.vue'), props: true },
  { path: '/calculator', name: 'calculator', component: () => import('./views/CalculatorView.vue') },
  { path: '/propose', name: 'propose', component: () => import('./views/ProposeView.vue') },
  { path: '/market', name: 'market', component: () => import('./views/MarketView.vue'), meta: { wide: true } },
  { path: '/registry', name: 'registry', component: () => import('./views/RegistryView.vue'), meta: { wide: true } },
  { path: '/notices', name: 'notices', component: () => import('./views/NoticesView.vue'), meta: { wide: true } },
  { path: '/notices/:id', name: 'notice', component: () => import('./views/NoticeView.vue'), props: true, meta: { wide: true } },
  { path: '/registry/accounts', name: 'registry-accounts', component: () => import('./views/registry/RegistryAccountsView.vue'), meta: { auth: true, wide: true } },
  { path: '/registry/accounts/:accountNo', name: 'registry-account', component: () => import('./views/registry/RegistryAccountView.vue'), props: true, meta: { auth: true, wide: true } },
  { path: '/verify', name: 'verify', component: () => import('./views/verifier/AssignedBatchesView.vue'), meta: { roles: ['verifier'], wide: true } },
  { path: '/verify/batches/:id', name: 'verify-batch', component: () => import('./views/verifier/VerifyBatchView.vue'), props: true, meta: { roles: ['verifier'], wide: true } },
  { path: '/console/batches', name: 'console-batches', component: () => import('./views/console/BatchesView.vue'), meta: { roles: [...adminRoles, 'auditor'], wide: true } },
  { path: '/console/batches/:id', name: 'console-batch', component: () => import('./views/console/BatchView.vue'), props: true, meta: { roles: [...adminRoles, 'auditor'], wide: true } },
  { path: '/me', name: 'account', component: () => import('./views/account/AccountView.vue'), meta: { auth: true } },
  { path: '/me/history', name: 'history', component: () => import('./views/account/HistoryView.vue'), meta: { auth: true } },
  { path: '/me/bindings', name: 'bindings', component: () => import('./views/account/BindingsView.vue'), meta: { auth: true } },
  { path: '/me/households', name: 'households', component: () => import('./views/account/HouseholdsView.vue'), meta: { auth: true } },
  { path: '/me/accounts/:id', name: 'shared-account', component: () => import('./views/account/SharedAccountView.vue'), props: true, meta: { auth: true } },
  { path: '/me/proposals', name: 'my-proposals', component: () => import('./views/account/ProposalsView.vue'), meta: { auth: true } },
  { path: '/me/offers', name: 'offers', component: () => import('./views/account/OffersView.vue'), meta: { auth: true } },
  { path: '/me/vouchers', name: 'vouchers', component: () => import('./views/account/VouchersView.vue'), meta: { auth: true } },
  { path: '/me/data', name: 'my-data', component: () => import('./views/account/MyDataView.vue'), meta: { auth: true } },
  { path: '/me/benefits', name: 'benefits', component: () => import('./views/account/BenefitsView.vue'), meta: { auth: true } },
  { path: '/me/rankings', name: 'rankings', component: () => import('./views/account/RankingsView.vue'), meta: { roles: residentRoles } },
  { path: '/me/cards', name: 'cards', component: () => import('./views/account/CardsView.vue'), meta: { roles: residentRoles } },
  { path: '/merchant/apply', name: 'merchant-apply', component: () => import('./views/merchant/MerchantApplyView.vue'), meta: { auth: true } },
  { path: '/merchant/offers', name: 'merchant-offers', component: () => import('./views/merchant/MerchantOffersView.vue'), meta: { roles: ['merchant'], wide: true } },
  { path: '/merchant/vouchers', name: 'merchant-vouchers', component: () => import('./views/merchant/VoucherCheckView.vue'), meta: { roles: ['merchant'] } },
  { path: '/merchant/statements', name: 'merchant-statements', component: () => import('./views/merchant/StatementsView.vue'), meta: { roles: ['merchant'], wide: true } },
  { path: '/console/merchants', name: 'console-merchants', component: () => import('./views/console/MerchantApplicationsView.vue'), meta: { roles: adminRoles, wide: true } },
  { path: '/console/benefits', name: 'console-benefits', component: () => import('./views/console/BenefitPoliciesView.vue'), meta: { roles: adminRoles, wide: true } },
  { path: '/provider/bindings', name: 'provider-bindings', component: () => import('./views/provider/ProviderBindingsView.vue'), meta: { roles: ['provider'], wide: true } },
  { path: '/provider/records', name: 'provider-records', component: () => import('./views/provider/ProviderRecordsView.vue'), meta: { roles: ['provider'], wide: true } },
  { path: '/console/providers', name: 'console-providers', component: () => import('./views/console/ProvidersView.vue'), meta: { roles: [...adminRoles, 'auditor'], wide: true } },
  { path: '/console/providers/:id', name: 'console-provider', component: () => import('./views/console/ProviderView.vue'), props: true, meta: { roles: adminRoles, wide: true } },
  { path: '/console/quarantined', name: 'console-quarantined', component: () => import('./views/console/QuarantinedRecordsView.vue'), meta: { roles: adminRoles, wide: true } },
  { path: '/console/held', name: 'console-held', component: () => import('./views/console/HeldRecordsView.vue'), meta: { roles: adminRoles, wide: true } },
  { path: '/console/methodologies', name: 'console-methodologies', component: () => import('./views/console/MethodologyVersionsView.vue'), meta: { roles: [...adminRoles, 'auditor'], wide: true } },
  { path: '/console/methodologies/new', name: 'console-draft-new', component: () => import('./views/console/DraftEditorView.vue'), meta: { roles: adminRoles, wide: true } },
  { path: '/console/methodology-versions/:rowId', name: 'console-version', component: () => import('./views/console/MethodologyVersionView.vue'), props: true, meta: { roles: [...adminRoles, 'auditor'], wide: true } },
  { path: '/console/proposals', name: 'console-proposals', component: () => import('./views/account/ProposalsView.vue'), meta: { roles: adminRoles, wide: true } },
  { path: '/console/users', name: 'console-users', component: () => import('./views/console/UsersView.vue'), meta: { roles: adminRoles, wide: true } },
  { path: '/programmes', name: 'programme-titles', component: () => import('./views/programme/ProgrammeTitlesView.vue'), meta: { wide: true } },
  { path: '/programmes/apply', name: 'programme-apply', component: () => import('./views/programme/ProgrammeApplyView.vue'), meta: { auth: true } },
  { path: '/console/programmes', name: 'console-programmes', component: () => import('./views/console/ProgrammeReviewView.vue'), meta: { roles: adminRoles, wide: true } },
  { path: '/console/programme-criteria', name: 'console-programme-criteria', component: () => import('./views/console/ProgrammeCriteriaView.vue'), meta: { roles: ['province_admin'], wide: true } },
  { path: '/assessment', name: 'assessment-ranking', component: () => import('./views/AssessmentRankingView.vue'), meta: { wide: true } },
  { path: '/console/assessment', name: 'console-assessment', component: () => import('./views/console/AssessmentConsoleView.vue'), meta: { roles: ['province_admin'], wide: true } },
  { path: '/stats', name: 'stats', component: () => import('./views/StatsDashboardView.vue'), meta: { wide: true } },
  { path: '/console/stats', name: 'console-stats', component: () => import('./views/StatsDashboardView.vue'), props: { console: true }, meta: { roles: adminRoles, wide: true } },
  { path: '/neutral/events', name: 'neutral-events', component: () => import('./views/neutral/NeutralEventsView.vue') },
  { path: '/neutral/events/:id', name: 'neutral-event', component: () => import('./views/neutral/NeutralEventView.vue'), props: true },
  { path: '/neutral/register', name: 'neutral-register', component: () => import('./views/neutral/RegisterEventView.vue'), meta: { auth: true } },
  { path: '/neutral/mine', name: 'neutral-mine', component: () => import('./views/neutral/MyEventsView.vue'), meta: { auth: true } },
  { path: '/neutral/mine/:id', name: 'neutral-neutralise', component: () => import('./views/neutral/NeutraliseView.vue'), props: true, meta: { auth: true } },
  { path: '/market/auctions', name: 'auctions', component: () => import('./views/auction/AuctionsView.vue'), meta: { wide: true } },
  { path: '/market/auctions/new', name: 'auction-announce', component: () => import('./views/auction/AnnounceAuctionView.vue'), meta: { roles: ['exchange_member', 'province_admin'] } },
  { path: '/market/auctions/:id', name: 'auction', component: () => import('./views/auction/AuctionView.vue'), props: true, meta: { wide: true } },
  { path: '/ets/compliance', name: 'ets-compliance', component: () => import('./views/ets/ComplianceView.vue'), meta: { roles: ['ets_enterprise'] } },
  { path: '/ets/verify', name: 'ets-verify', component: () => import('./views/ets/EtsVerifyView.vue'), meta: { roles: ['verifier', 'province_admin'] } },
  { path: '/ets/reports', name: 'ets-reports', component: () => import('./views/ets/EtsReportView.vue'), meta: { roles: ['province_admin', 'auditor'], wide: true } },
  { path: '/articles', name: 'articles', component: () => import('./views/content/ArticlesView.vue') },
  { path: '/articles/:id', name: 'article', component: () => import('./views/content/ArticleView.vue'), props: true },
  { path: '/search', name: 'search', component: () => import('./views/content/SearchView.vue') },
  { path: '/catalogue', name: 'catalogue', component: () => import('./views/content/CatalogueView.vue'), meta: { wide: true } },
  { path: '/ideas', name: 'ideas', component: () => import('./views/content/IdeasView.vue') },
  { path: '/campaigns', name: 'campaigns', component: () => import('./views/campaign/CampaignsView.vue') },
  { path: '/console/articles', name: 'console-articles', component: () => import('./views/console/EditorialView.vue'), meta: { roles: ['editor'], wide: true } },
  { path: '/console/articles/new', name: 'console-article-new', component: () => import('./views/console/ArticleEditorView.vue'), meta: { roles: ['editor'], wide: true } },
  { path: '/console/articles/:id', name: 'console-article', component: () => import('./views/console/ArticleEditorView.vue'), props: true, meta: { roles: ['editor'], wide: true } },
  { path: '/console/catalogue', name: 'console-catalogue', component: () => import('./views/console/CatalogueConsoleView.vue'), meta: { roles: ['editor'], wide: true } },
  { path: '/console/ideas', name: 'console-ideas', component: () => import('./views/console/IdeasModerationView.vue'), meta: { roles: ['province_admin', 'editor'], wide: true } },
  { path: '/console/campaigns', name: 'console-campaigns', component: () => import('./views/console/CampaignsConsoleView.vue'), meta: { roles: adminRoles, wide: true } },
  { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('./views/NotFoundView.vue') },
]

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior: () => ({ top: 0 }),
})

router.beforeEach((to) => {
  const needsAuth = to.meta.auth || to.meta.roles
  if (needsAuth && !signedIn.value) return { name: 'login', query: { next: to.fullPath } }
  if (to.meta.roles && !hasRole(...to.meta.roles)) return { name: 'home' }
  return true
})
