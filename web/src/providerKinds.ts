// Provider kinds the server accepts (docs/ingest.md). Labels live in i18n.
export const providerKinds = [
  'power_utility',
  'water_utility',
  'gas_utility',
  'transit_operator',
  'bike_share',
  'nev_charging',
  'recycler',
  'forestry',
  'other',
] as const
