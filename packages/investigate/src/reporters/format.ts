import type { Report } from '../types.js';

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

/** The at-collection section's heading, with the time the bundle was collected (HH:MM, UTC). */
export function stillFailingHeading(report: Report): string {
  return `Still failing at collection (${clock(Date.parse(report.window.to)).slice(0, 5)})`;
}

/** A time near the collection as a time of day; one on another day with its date. */
export function sinceText(t: number | undefined, report: Report): string {
  if (t === undefined) return '';
  const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
  return day(t) === day(Date.parse(report.window.to)) ? clock(t) : stamp(t);
}
