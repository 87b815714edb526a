import type { PrivacyMessages } from './privacy.zh-CN'

const privacyEn: PrivacyMessages = {
  privacy: {
    nav: 'My data',
    title: 'My data',
    lead: 'Download everything the platform holds about you at any time, or delete your account.',
    exportTitle: 'Export',
    exportLead: 'One JSON file: your profile, roles, sign-ins, carbon accounts and points postings, bindings, every record with its reduction and explanation, vouchers, benefit claims, linked cards and conversions, leaderboard profile, methodology proposals, public ideas and carbon-neutral registrations.',
    exportButton: 'Download my data',
    exported: 'Downloaded {file}',
    deleteTitle: 'Delete my account',
    deleteLead: 'This cannot be undone:',
    consequences: {
      points: 'every point in your account is forfeited;',
      vouchers: 'unused vouchers are cancelled;',
      bindings: 'every binding ends, and later records are credited to no account;',
      households: 'you leave your household (an admin removes the other members first);',
      identity: 'your username, nickname, contacts and sign-in addresses are erased and you are signed out on every device;',
      kept: 'reductions already recorded stay, anonymously, in statistics and in certified units issued, no longer linked to you.',
    },
    password: 'Password',
    understand: 'I understand what this does',
    deleteButton: 'Delete my account',
    confirmTitle: 'Delete the account',
    confirmText: 'Delete your account? This cannot be undone.',
    deleted: 'Account deleted: {points} points forfeited, {vouchers} vouchers cancelled, {bindings} bindings ended.',
  },
}

export default privacyEn
