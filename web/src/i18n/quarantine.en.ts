import type { QuarantineMessages } from './quarantine.zh-CN'

const quarantineEn: QuarantineMessages = {
  quarantine: {
    nav: 'Quarantined records',
    title: 'Quarantined records',
    lead: "Records the region's data providers sent that failed validation, with the reason. They are credited to no account; the provider corrects and re-sends them, and a corrected record with the same id replaces the quarantined one.",
    reasonFilter: 'Reason',
    anyReason: 'Any reason',
    none: 'No quarantined records',
  },
}

export default quarantineEn
