import type { MethodologySummary } from './api/types'
import { shanghaiDay } from './dates'

//! The version in force today among a methodology's versions (an active one whose dates cover
//! today), else the newest active one, else the newest of all.
export function versionInForce<T extends MethodologySummary>(versions: T[]): T | undefined {
  const today = shanghaiDay(0)
  const active = versions.filter((v) => v.state === 'active')
  return (
    active.find((v) => v.effective_from <= today && (!v.effective_until || v.effective_until >= today)) ??
    active.sort((a, b) => b.version - a.version)[0] ??
    versions[versions.length - 1]
  )
}
