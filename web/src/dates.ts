//! The Asia/Shanghai calendar day `daysBack` days before today, as YYYY-MM-DD.
export function shanghaiDay(daysBack = 0): string {
  const at = new Date(Date.now() + 8 * 3600_000 - daysBack * 86_400_000)
  return at.toISOString().slice(0, 10)
}

//! The from/to query of a statement covering the last `days` days, today included.
export function windowQuery(days: number): { from: string; to: string } {
  return { from: shanghaiDay(days - 1), to: shanghaiDay(0) }
}

//! An instant in the form the date-time pickers use (value-format "YYYY-MM-DDTHH:mm:ssZ"): the
//! browser's local time with its offset, which the server reads as RFC 3339.
export function pickerInstant(at: Date | string): string {
  const d = typeof at === 'string' ? new Date(at) : at
  const pad = (n: number) => String(Math.trunc(Math.abs(n))).padStart(2, '0')
  const offset = -d.getTimezoneOffset()
  const sign = offset >= 0 ? '+' : '-'
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` +
    `${sign}${pad(offset / 60)}:${pad(offset % 60)}`
  )
}
