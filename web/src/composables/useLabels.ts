import { useI18n } from 'vue-i18n'

//! Labels for server enumerations, falling back to the raw value for one the UI does not know yet.
export function useLabels() {
  const { t, te } = useI18n()
  const label = (group: string, value: string) => (te(`${group}.${value}`) ? t(`${group}.${value}`) : value)
  return {
    domain: (v: string) => label('domains', v),
    state: (v: string) => label('states', v),
    reason: (v: string) => label('reasons', v),
    bindingStatus: (v: string) => label('bindingStatus', v),
    providerKind: (v: string) => label('providerKinds', v),
    role: (v: string) => label('roles', v),
    proposalStatus: (v: string) => label('proposals.status', v),
    batchState: (v: string) => label('batchStates', v),
    reviewAction: (v: string) => label('reviewActions', v),
    registryKind: (v: string) => label('registryKinds', v),
    blockStatus: (v: string) => label('blockStatus', v),
    retireReason: (v: string) => label('retireReasons', v),
    merchantStatus: (v: string) => label('merchantStatus', v),
    offerStatus: (v: string) => label('offerStatus', v),
    voucherStatus: (v: string) => label('voucherStatus', v),
    benefitKind: (v: string) => label('benefitKinds', v),
    claimStatus: (v: string) => label('claimStatus', v),
    fulfilment: (v: string) => label('fulfilment', v),
    category: (v: string) => label('categories', v),
  }
}
