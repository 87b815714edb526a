// The behaviour domains the server accepts (src/methodology: kDomains). Labels live in i18n.
export const domains = [
  'travel',
  'nev',
  'electricity',
  'water',
  'gas',
  'energy',
  'waste',
  'carbon_sink',
  'consumption',
] as const

export const stateTagType: Record<string, 'success' | 'info' | 'warning' | 'danger' | 'primary'> = {
  draft: 'info',
  submitted: 'warning',
  under_review: 'warning',
  approved: 'primary',
  rejected: 'danger',
  active: 'success',
  retired: 'info',
}
