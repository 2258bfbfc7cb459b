/** Time of day (UTC) for a report line. */
export function clock(t: number): string {
  return new Date(t).toISOString().slice(11, 19);
}

/** Date and time (UTC) without milliseconds. */
export function stamp(t: number | string): string {
  const ms = typeof t === 'string' ? Date.parse(t) : t;
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** A value of a diff, shown briefly. */
export function showValue(v: unknown): string {
  if (v === undefined) return '(none)';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
