//! The Asia/Shanghai calendar day `daysBack` days before today, as YYYY-MM-DD.
export function shanghaiDay(daysBack = 0): string {
  const at = new Date(Date.now() + 8 * 3600_000 - daysBack * 86_400_000)
  return at.toISOString().slice(0, 10)
}

//! The from/to query of a statement covering the last `days` days, today included.
export function windowQuery(days: number): { from: string; to: string } {
  return { from: shanghaiDay(days - 1), to: shanghaiDay(0) }
}
