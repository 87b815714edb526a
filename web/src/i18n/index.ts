import { createI18n } from 'vue-i18n'
import zhCN from './zh-CN'
import en from './en'
import incentivesZhCN from './incentives.zh-CN'
import incentivesEn from './incentives.en'
import privacyZhCN from './privacy.zh-CN'
import privacyEn from './privacy.en'
import marketZhCN from './market.zh-CN'
import marketEn from './market.en'
import engageZhCN from './engage.zh-CN'
import engageEn from './engage.en'
import quarantineZhCN from './quarantine.zh-CN'
import quarantineEn from './quarantine.en'
import programmesZhCN from './programmes.zh-CN'
import programmesEn from './programmes.en'
import statsZhCN from './stats.zh-CN'
import statsEn from './stats.en'
import tradingZhCN from './trading.zh-CN'
import tradingEn from './trading.en'
import contentZhCN from './content.zh-CN'
import contentEn from './content.en'
import campaignsZhCN from './campaigns.zh-CN'
import campaignsEn from './campaigns.en'
import assessmentZhCN from './assessment.zh-CN'
import assessmentEn from './assessment.en'

export type Locale = 'zh-CN' | 'en'
export const locales: Locale[] = ['zh-CN', 'en']
const storageKey = 'tph.locale'

function initialLocale(): Locale {
  const stored = localStorage.getItem(storageKey)
  return stored === 'en' || stored === 'zh-CN' ? stored : 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'zh-CN',
  // The incentive pages keep their strings in a file pair of their own (same typing rule).
  messages: {
    'zh-CN': { ...zhCN, ...incentivesZhCN, ...privacyZhCN, ...marketZhCN, ...engageZhCN, ...quarantineZhCN, ...programmesZhCN, ...statsZhCN, ...tradingZhCN, ...contentZhCN, ...campaignsZhCN, ...assessmentZhCN },
    en: { ...en, ...incentivesEn, ...privacyEn, ...marketEn, ...engageEn, ...quarantineEn, ...programmesEn, ...statsEn, ...tradingEn, ...contentEn, ...campaignsEn, ...assessmentEn },
  },
})

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale
  localStorage.setItem(storageKey, locale)
  document.documentElement.lang = locale
}

document.documentElement.lang = initialLocale()
