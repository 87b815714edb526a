// Shapes of the server's answers, as rendered by src/api/routes_*.cpp.

export type RoleName =
  | 'resident'
  | 'household_admin'
  | 'enterprise'
  | 'merchant'
  | 'provider'
  | 'verifier'
  | 'region_admin'
  | 'province_admin'
  | 'ets_enterprise'
  | 'exchange_member'
  | 'auditor'
  | 'editor'

export interface RoleGrant {
  role: RoleName
  region: string | null
}

export interface User {
  id: number
  username: string
  display_name: string
  status: string
  roles: RoleGrant[]
  created_at?: string
}

export interface LoginAnswer {
  token: string
  expires_at: string
  user: User
}

export interface Region {
  code: string
  parent: string | null
  level: string
  name_zh: string
  name_en: string
}

export type MethodologyState =
  | 'draft'
  | 'submitted'
  | 'under_review'
  | 'approved'
  | 'rejected'
  | 'active'
  | 'retired'

export interface MethodologySummary {
  row_id: number
  id: string
  version: number
  state: MethodologyState
  scope: string
  domain: string
  name_zh: string
  name_en: string
  effective_from: string
  effective_until: string | null
  created_by: string
  updated_at: string
  decision_reason: string | null
  proposal_id: number | null
}

export interface MethodologyInput {
  name: string
  unit: string
  type: 'integer' | 'number'
  min: number
  max: number
  required: boolean
  description: string
}

export interface MethodologyDefinition {
  description_zh: string
  description_en: string
  subjects: string[]
  formula: string
  points_per_kg: number
  inputs: MethodologyInput[]
  caps: {
    per_day_grams?: number
    per_month_grams?: number
    per_year_grams?: number
    input_caps: { input: string; per_day: number }[]
    keep: string
  }
  examples: { inputs: Record<string, number>; grams: number; note: string }[]
}

export interface ResolvedFactor {
  name: string
  ref: string
  value: number
  unit: string
  source: string
  year: number
  region: string
}

export interface LintIssue {
  line: number
  field: string
  message: string
}

export interface MethodologyComment {
  id: number
  author: string
  kind: string
  body: string
  at: string
}

export interface MethodologyDetail extends MethodologySummary {
  definition_toml: string
  definition?: MethodologyDefinition
  factors: ResolvedFactor[]
  comments: MethodologyComment[]
  lint: LintIssue[]
}

export interface EmissionFactor {
  key: string
  value: number
  unit: string
  year: number
  region: string
  source: string
  source_kind: string
  note: string
}

export interface Explanation {
  methodology: string
  version: number
  scope: string
  formula: string
  unit: string
  inputs: { name: string; unit: string; value: number | null; used: number }[]
  factors: ResolvedFactor[]
  raw_grams: number
  rounded_grams: number
  rounding: string
  caps: { applied: string; input?: string; per_day_grams?: number; per_month_grams?: number; per_year_grams?: number }
  grams: number
  points_per_kg: number
}

export interface QuantifyAnswer {
  grams: number
  points: number
  methodology: string
  version: number
  explanation: Explanation
}

export interface Proposal {
  id: number
  title: string
  domain: string
  description: string
  region: string
  status: string
  created_at: string
  contact?: string
}

export interface AccountMember {
  user_id: number
  username: string
  display_name: string
  role: string
}

export interface Account {
  id: number
  kind: 'person' | 'household' | 'enterprise'
  name: string
  region: string
  points: number
  members: AccountMember[]
  created_at: string
}

export interface Statement extends Account {
  totals: {
    grams: number
    points_earned: number
    records: number
    by_domain: Record<string, number>
    by_day: { day: string; grams: number }[]
    household_shared_grams?: number
  }
}

export interface HistoryEntry {
  record_id: number
  provider: string
  provider_record_id: string
  methodology: string
  version: number
  domain: string
  occurred_at: string
  region: string
  grams: number
  points: number
  cap_applied: string
  explanation: Explanation | null
}

export interface HistoryPage {
  account_id: number
  records: HistoryEntry[]
  limit: number
  offset: number
}

export interface Binding {
  id: number
  provider: string
  subject_ref: string
  account_id: number
  status: string
  code_issued: boolean
  created_at: string
  confirmed_at: string | null
}

export interface Provider {
  id: number
  key: string
  name: string
  kind: string
  status: string
  regions: string[]
  methodologies: string[]
  user_id: number | null
  created_at: string
  pseudonym_key?: string
}

export interface StoredRecord {
  id: number
  provider: string
  provider_record_id: string
  subject_ref: string
  methodology: string
  occurred_at: string
  region: string
  inputs: Record<string, unknown>
  status: string
  reason: string
  received_at: string
}

export interface ApiKey {
  key_id: string
  secret: string
  user_id: number
  label: string
  created_at: string
}

// Certification (src/api/routes_certify.cpp, docs/certification.md).

export type BatchState = 'open' | 'corrections_requested' | 'approved' | 'rejected' | 'issued'

export interface Batch {
  id: number
  batch_no: number
  methodology: string
  region: string
  vintage_from: string
  vintage_until: string
  vintage_year: number
  carbon_sink: boolean
  operator_account: string
  state: BatchState
  opened_by: string
  opened_at: string
  notice_days_working: number
  notice_until: string
  in_notice: boolean
  verifier_user_id: number | null
  records_locked: number
  grams_locked: number
  grams_released: number
  grams_approved: number | null
  decision_note: string
  carry_in_grams: number | null
  carry_out_grams: number | null
  units_issued: number | null
  buffer_units: number | null
  issued_at: string | null
}

export interface BatchReview {
  actor: string
  action: string
  note: string
  at: string
}

export interface BatchDetail extends Batch {
  reviews: BatchReview[]
}

export interface IssuedBatch extends Batch {
  serials: string[]
}

export interface BatchComment {
  id: number
  author: string
  body: string
  at: string
}

export interface SampleRecord {
  reduction_id: number
  provider_record_id: string
  account_id: number
  methodology_version: number
  day: string
  grams: number
  inputs: Record<string, unknown>
  explanation: Explanation | null
}

export interface MonitoringReport {
  batch_id: number
  totals: { methodology_version: number; month: string; records: number; grams: number }[]
  records: number
  subjects: number
  grams: number
  period_records: number
  held: number
  quarantined: number
  held_or_quarantined_share_bp: number
  reoffered: number
  sample_seed: string
  sample_method: string
  sample: SampleRecord[]
}

// The PHCER registry (src/api/routes_registry.cpp, docs/registry.md).

export type RegistryAccountKind = 'operator' | 'enterprise' | 'exchange_member' | 'individual' | 'buffer' | 'province'
export type BlockStatus = 'held' | 'retired' | 'cancelled'

export interface RegistryAccount {
  account_no: string
  kind: RegistryAccountKind
  name: string
  region: string
  members: number[]
  held: number
  retired: number
  cancelled: number
  created_at: string
}

export interface SerialBlock {
  serial: string
  batch_no: number
  first: number
  last: number
  units: number
  account: string
  status: BlockStatus
}

export interface RegistryAccountDetail extends RegistryAccount {
  blocks: SerialBlock[]
}

export interface RegistryOperation {
  id: number
  kind: 'issue' | 'transfer' | 'retire' | 'cancel'
  from: string | null
  to: string | null
  units: number
  serials: string[]
  at: string
  duplicate: boolean
  reason?: string
  beneficiary?: string
  note?: string
}

export interface Issuance {
  batch_no: number
  region: string
  methodology: string
  vintage_year: number
  units: number
  buffer_units: number
  operator_account: string
  issued_at: string
  serials: string[]
}

export interface TotalsRow {
  key: string
  issued: number
  held: number
  retired: number
  cancelled: number
}

export interface RegistryTotals {
  all: TotalsRow
  by_vintage: TotalsRow[]
  by_methodology: TotalsRow[]
  by_region: TotalsRow[]
}

export interface SerialLookupBlock extends SerialBlock {
  holder: { account: string; kind: string; name: string }
  retirement?: RegistryOperation
  cancellation?: RegistryOperation
}

export interface SerialLookup {
  serial: string
  blocks: SerialLookupBlock[]
}

// Incentives (src/api/routes_incentive.cpp)

export type MerchantStatus = 'pending' | 'approved' | 'rejected'

export interface Merchant {
  id: number
  name: string
  licence_no: string
  category: string
  region: string
  address: string
  contact: string
  applicant_user_id: number
  status: MerchantStatus | string
  decision_reason: string
  points: number
  created_at: string
  decided_at: string | null
}

export interface Offer {
  id: number
  merchant_id: number
  merchant_name: string
  title_zh: string
  title_en: string
  description: string
  image_url: string
  points_cost: number
  stock: number
  issued: number
  remaining: number
  per_user_limit: number
  valid_from: string
  valid_until: string
  voucher_valid_days: number
  regions: string[]
  status: 'active' | 'paused' | 'ended' | string
  updated_at: string
}

export interface Voucher {
  id: number
  code: string
  offer_id: number
  merchant_id: number
  merchant_name: string
  title_zh: string
  title_en: string
  points: number
  status: 'issued' | 'used' | 'expired' | 'cancelled' | string
  issued_at: string
  expires_at: string
  used_at: string | null
}

export interface SettlementLine {
  offer_id: number
  title_zh: string
  issued: number
  used: number
  expired: number
  cancelled: number
  points_received: number
  points_refunded: number
  points_net: number
}

export interface Settlement {
  merchant: Merchant
  month: string
  lines: SettlementLine[]
  total: SettlementLine
  generated_at: string
}

export interface BenefitPolicy {
  id: number
  region: string
  kind: 'parking' | 'transit' | 'plate_lottery' | 'other' | string
  name_zh: string
  name_en: string
  description: string
  points_price: number
  monthly_budget_units: number
  units_used_this_month: number
  per_user_monthly_limit: number
  fulfilment: 'code' | 'webhook' | string
  status: string
  created_at: string
  webhook_secret?: string
}

export interface BenefitClaim {
  id: number
  policy_id: number
  month: string
  units: number
  points: number
  status: 'pending' | 'fulfilled' | 'failed' | string
  entitlement_code: string
  partner_reference: string
  failure_reason: string
  created_at: string
}

// POST /api/v1/me/deletion (src/api/routes_privacy.cpp)
export interface AccountDeletion {
  deleted: boolean
  user_id: number
  deleted_at: string
  points_forfeited: number
  vouchers_cancelled: number
  bindings_ended: number
  households_left: number
}

// Public market data (src/api/routes_market.cpp, docs/market.md); prices in fen per tonne.
export interface MarketProduct {
  code: string
  name: string
  methodology: string
  region: string  // '' for any
  vintage_from: number  // 0 for any
  vintage_to: number
  effective_from: string
  suspended: boolean
  reference_price_fen: number
  sessions: string
  block_min_units: number
  fee_bp: number
}
export interface MarketLevel {
  level: number
  price_fen: number
  quantity: number
  orders: number
}
export interface MarketBook {
  product: string
  bids: MarketLevel[]
  asks: MarketLevel[]
  band: { previous_close_fen: number; low_fen: number; high_fen: number }
  open_now: boolean
}
export interface MarketTrade {
  id: number
  product: string
  mode: string
  price_fen: number
  quantity: number
  amount_fen: number
  trading_day: string
  at: string
}
export interface MarketDailyBar {
  day: string
  open_fen: number
  high_fen: number
  low_fen: number
  close_fen: number
  volume: number
  amount_fen: number
}

// Public statistics (src/api/routes_stats.cpp); StatsFigures is below, with the stats pages' types.
export interface StatsTotals extends StatsFigures {
  participants: number
  points_redeemed: number
  phcer: { units_issued: number; units_retired: number; batches_issued: number }
}

export interface StatsTopRow extends StatsFigures {
  key: string
  name: string
}

// Leaderboards and communities (src/api/routes_ranking.cpp).
export interface Community {
  id: number
  region: string
  name: string
  members: number
  created_at: string
}

export interface RankingProfile {
  nickname: string | null
  listed: boolean
  community_id: number | null
  updated_at?: string
}

export interface LeaderboardEntry {
  rank: number
  nickname: string
  grams: number
  reductions: number
  you: boolean
}

export interface Leaderboard {
  period: 'week' | 'month' | 'all'
  scope: string
  from: string
  until: string
  entries: LeaderboardEntry[]
  yours: LeaderboardEntry | null
  as_of: string
}

// Carbon credit cards (src/api/routes_card.cpp).
export interface CardPartner {
  id: number
  code: string
  name: string
  rate_points: number
  rate_reward: number
  status: string
  points: number
  created_at: string
  updated_at: string
}

export interface CardLink {
  id: number
  partner_id: number
  partner_name: string
  card_token: string
  status: string
  created_at: string
}

export interface CardConversion {
  id: number
  link_id: number
  partner_id: number
  points: number
  reward_points: number
  rate_points: number
  rate_reward: number
  day: string
  status: 'pending' | 'exported' | 'confirmed' | 'rejected'
  bank_reference: string
  bank_reason: string
  created_at: string
}

// Low-carbon creation programmes (src/api/routes_programme.cpp).
export type ProgrammeType = 'community' | 'park' | 'transport' | 'campus' | 'hotel' | 'scenic_area'
export const programmeTypes: ProgrammeType[] = ['community', 'park', 'transport', 'campus', 'hotel', 'scenic_area']

export interface ProgrammeIndicator {
  key: string
  name: string
  description: string
  weight_percent: number
  max_score: number
  min_score: number
}

export interface ProgrammeCriteria {
  id: number
  type: ProgrammeType
  version: number
  name: string
  state: 'draft' | 'published' | 'superseded'
  indicators: ProgrammeIndicator[]
  pass_mark: number
  validity_months: number
  drafted_at: string
  published_at: string | null
  superseded_at: string | null
}

export interface ProgrammeAttachment {
  id: number
  indicator: string
  name: string
  sha256: string
  bytes: number
}

export interface ProgrammeAssessment {
  scores: Record<string, number>
  total_milli: number
  passed: boolean
  below_minimum: string[]
  comment: string
  scored_by: string
  scored_at: string
}

export interface ProgrammeApplication {
  id: number
  type: ProgrammeType
  criteria_id: number
  criteria_version: number
  state: 'draft' | 'submitted' | 'scored' | 'awarded' | 'rejected'
  entity_name: string
  entity_type: string
  region: string
  address: string
  lon: number | null
  lat: number | null
  contact: string
  evidence: Record<string, string>
  attachments: ProgrammeAttachment[]
  applicant_user_id: number
  submitted_at: string | null
  assessment: ProgrammeAssessment | null
  decision_reason: string
  title_id: number | null
}

export interface ProgrammeTitle {
  id: number
  application_id: number
  type: ProgrammeType
  criteria_id: number
  criteria_version: number
  entity_name: string
  region: string
  address: string
  lon: number | null
  lat: number | null
  total_milli: number
  awarded_on: string
  valid_until: string
  status: 'valid' | 'expired' | 'revoked'
  revoked_reason: string
  revoked_at: string | null
}

// Stats (docs/analytics.md). Suppressed figures are null.
export interface StatsFigures {
  records: number | null
  grams: number | null
  points: number | null
  subject_days: number | null
  suppressed: boolean
}
export interface StatsSeriesPoint extends StatsFigures {
  bucket: string
}
export interface StatsRankedRow extends StatsFigures {
  key: string
  name: string
}
export interface StatsParticipationPoint {
  period: string
  subjects: number
  new: number
  returning: number
}

// Carbon-neutral events (docs/neutral.md).
export type TravelMode = 'car' | 'rail' | 'air'
export type DistanceBand = 'local' | 'regional' | 'national'
export interface FootprintInputs {
  travel: { mode: TravelMode; band: DistanceBand; attendees: number }[]
  round_trip_km?: Partial<Record<DistanceBand, number>>
  hotel_nights?: number
  electricity_kwh?: number
  printed_kg?: number
  meals?: { meat?: number; vegetarian?: number }
}
export interface FootprintExplanation {
  methodology: string
  version: number
  formula: string
  inputs: { name: string; unit: string; value: number | null; used: number }[]
  factors: ResolvedFactor[]
  raw_grams: number
  rounded_grams: number
  rounding: string
  grams: number
  tonnes: number
  units_required: number
}
export interface Footprint {
  grams: number
  tonnes: number
  units_required: number
  calculator: string
  explanation: FootprintExplanation
}
export interface FootprintCalculatorInfo {
  calculator: string
  modes: TravelMode[]
  bands: DistanceBand[]
  meal_types?: string[]
  inputs: { name: string; unit: string; integer: boolean; min: number; max: number; default?: number; description: string }[]
}
export interface NeutralRetirement {
  operation_id: number
  units: number
  from: string
  beneficiary: string
  serials: string[]
  at: string
}
export interface NeutralEvent {
  id: number
  slug: string
  kind: 'event' | 'personal'
  name: string
  organiser: string
  starts_on: string
  ends_on: string
  city: string
  venue: string
  footprint: { grams: number; tonnes: number; calculator: string; inputs: FootprintInputs; explanation: FootprintExplanation }
  units_required: number
  units_retired: number
  status: 'registered' | 'neutralised'
  neutralised_with: 'units' | 'points' | null
  points_paid: number
  neutralised_at: string | null
  created_at: string
  retirements: NeutralRetirement[]
  page: string
  certificate: string | null
}
export interface NeutralPointsRate {
  configured: boolean
  points_per_unit?: number
  inventory_account_no?: string
  inventory_held?: number
  set_at?: string
}

// One-way auctions (docs/market.md).
export type AuctionPhase = 'upcoming' | 'open' | 'closed' | 'cleared' | 'cancelled'
export interface MarketAuction {
  id: number
  product: string
  announcer_member_id: number
  side: 'sell' | 'buy'
  quantity: number
  reserve_price_fen: number
  opens_at: string
  closes_at: string
  state: string
  phase: AuctionPhase
  closed_at: string | null
  result: {
    cleared_quantity: number
    cleared_amount_fen: number
    low_price_fen: number | null
    high_price_fen: number | null
    average_price_fen: number | null
    bids: number
  } | null
}
export interface MarketAuctionBid {
  id: number
  auction_id: number
  member_id: number
  price_fen: number
  quantity: number
  filled: number
  state: string
  trade_id: number | null
  at: string
}
export interface MarketMember {
  id: number
  account_no: string
  name: string
  kind: string
  cash_fen: number
  cash_reserved_fen: number
  cash_free_fen: number
  units_reserved: number
}

// ETS compliance (docs/ets.md).
export interface EtsRules {
  year: number
  max_offset_bp: number
  min_home_province_bp: number
  deadline_day: string
  configured: boolean
}
export interface EtsComplianceAccount {
  account_no: string
  enterprise: string
  year: number
  verified_emissions_t: number | null
  allowances_surrendered_t: number
  phcer_surrendered_t: number
  phcer_home_province_t: number
  status: 'unverified' | 'complied' | 'short'
}
export interface EtsSurrender {
  account_no: string
  year: number
  units: number
  home_province_units: number
  serials: string[]
  duplicate: boolean
  account: EtsComplianceAccount
}
// Content (src/api/routes_content.cpp, docs/content.md).
export const articleKinds = ['knowledge', 'news', 'product', 'technology'] as const
export type ArticleKind = (typeof articleKinds)[number]
export const articleStates = ['draft', 'in_review', 'published', 'archived'] as const
export type ArticleState = (typeof articleStates)[number]

export interface Article {
  id: number
  slug: string
  kind: ArticleKind
  region: string
  state: ArticleState
  title_zh: string
  summary_zh: string
  body_html_zh: string
  title_en: string | null
  summary_en: string
  body_html_en: string | null
  tags: string[]
  //! Web sizes by width in px ("400", "1200") → path under /media/covers/.
  cover: Record<string, string> | null
  published_at: string | null
  updated_at: string
  // Editors of the article's region only:
  body_zh?: string
  body_en?: string
  author?: string
  reviewer?: string
  review_comment?: string
  created_at?: string
  submitted_at?: string | null
  archived_at?: string | null
}

export interface SearchResult extends Omit<Article, 'body_html_zh' | 'body_html_en'> {
  //! HTML-escaped text with each hit in <mark>; render with snippetSegments, never v-html.
  snippet_html: string
}

export const catalogueCategories = [
  'home_appliance', 'lighting', 'building_material', 'building_energy', 'vehicle', 'office_equipment', 'packaging', 'textile',
  'renewable_energy', 'energy_storage', 'industrial_energy', 'transport', 'waste_recycling', 'water_saving', 'carbon_sink',
  'digital_energy', 'other',
] as const

export interface CatalogueEntry {
  id: number
  kind: 'product' | 'technology'
  name_zh: string
  name_en: string | null
  maker: string
  category: string
  region: string
  description_zh: string
  certification: { body: string; certificate: string; valid_until: string } | null
  certified: boolean
  footprint: { grams_per_unit: number; unit: string; source: string } | null
  article_id: number | null
  state: string
  listed_at: string
  updated_at: string
  withdraw_reason?: string
}

export interface IdeaTopic {
  id: number
  title_zh: string
  description_zh: string
  state: 'open' | 'closed'
  closes_at: string | null
  created_at: string
  ideas: number
}

export interface IdeaLink {
  kind: 'methodology_proposal' | 'policy'
  proposal_id: number | null
  title: string
  url: string
}

export interface Idea {
  id: number
  topic_id: number
  title: string
  body: string
  display_name: string
  state: 'pending' | 'visible' | 'rejected' | 'adopted'
  supports: number
  adoption_note: string
  links: IdeaLink[]
  created_at: string
  adopted_at: string | null
  contact?: string
  moderation_reason?: string
}

// Themed campaigns (src/api/routes_campaign.cpp, docs/campaigns.md).
export interface Campaign {
  id: number
  region: string
  name_zh: string
  name_en: string
  announcement_zh: string
  announcement_en: string
  starts_at: string
  ends_at: string
  methodologies: string[]
  multiplier: number
  multiplier_permille: number
  status: 'scheduled' | 'active' | 'ended' | 'cancelled'
  cancel_reason: string
  created_at: string
}

export interface CampaignFigures {
  records: number
  subjects: number
  grams: number
  points: number
  bonus_points: number
  days: { day: string; records: number; subjects: number; grams: number; points: number; bonus_points: number }[]
}
// The cities' yearly target-responsibility assessment (docs/assessment.md). Figures and scores
// are decimals with at most three places.
export interface AssessmentIndicatorInfo {
  key: string
  name_zh: string
  name_en: string
  unit: string
}
export interface AssessmentRule {
  kind: 'linear' | 'bands'
  floor?: number
  full?: number
  bands?: { min: number; percent: number }[]
}
export interface AssessmentSchemeIndicator {
  key: string
  weight: number
  rule: AssessmentRule
}
export interface AssessmentScheme {
  year: number
  indicators: AssessmentSchemeIndicator[]
  updated_by: string
  updated_at: string
  published: boolean
}
export interface AssessmentPopulation {
  region: string
  residents: number
  source: string
  entered_by?: string
  entered_at?: string
}
export interface AssessmentCityResult {
  indicator: string
  score: number
  figure?: number //!< with the detail (the province, the city's admins)
  note?: string
  source?: Record<string, unknown>
}
export interface AssessmentCity {
  region: string
  name_zh: string
  name_en: string
  rank: number
  total: number
  results: AssessmentCityResult[]
}
export interface AssessmentRun {
  id: number
  year: number
  state: 'computed' | 'published'
  indicators: AssessmentSchemeIndicator[]
  period_from: string
  period_until: string
  content_sha256: string
  computed_by: string
  computed_at: string
  published_by: string
  published_at: string | null
  tie_rule: string
  populations?: AssessmentPopulation[]
  cities?: AssessmentCity[]
  report_xlsx?: string
  report_pdf?: string
}
