// Times as real datasets write them. Each parser returns unix milliseconds or NaN, never throws:
// a cell that is not a time is the caller's to report with its file and line.

const MIN_PLAUSIBLE = Date.UTC(2000, 0, 1);
const MAX_PLAUSIBLE = Date.UTC(2100, 0, 1);

function plausible(ms: number): number {
  return ms >= MIN_PLAUSIBLE && ms < MAX_PLAUSIBLE ? ms : Number.NaN;
}

// A date-time with an optional fraction and zone. The zone may be `Z`, `+08:00`, `+0800` or `UTC`
// (Go's time.String() writes `2023-01-29 08:41:10.649486457 +0000 UTC m=+1.72`, as in Nezha's
// metric CSVs); no zone is read as UTC, which is what the datasets we read use (their READMEs).
const DATE_TIME =
  /(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?:\s*([Zz]|[+-]\d{2}:?\d{2}|UTC|GMT)(?![A-Za-z0-9]))?/;

function fromParts(parts: string[], zone: string | undefined): number {
  const [y, mo, d, h, mi, s, frac] = parts.map((p) => p ?? '');
  if (Number(mo) > 12 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60)
    return Number.NaN;
  const ms = frac ? Number(`${frac}00`.slice(0, 3)) : 0;
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  if (zone && /^[+-]/.test(zone)) {
    const digits = zone.replace(':', '');
    const sign = digits[0] === '-' ? -1 : 1;
    t -= sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5))) * 60_000;
  }
  return t;
}

/**
 * Parses a time cell of a CSV: an RFC 3339 or `YYYY-MM-DD HH:MM:SS` time (zone optional, UTC when
 * absent), or a number of unix seconds, milliseconds, microseconds or nanoseconds (told apart by
 * magnitude). Anything else, or a time outside 2000-2100, is NaN.
 */
export function parseTimeCell(cell: string): number {
  const s = cell.trim();
  if (s.length === 0) return Number.NaN;
  if (/^-?\d+(\.\d+)?$/.test(s)) {
    const v = Number(s);
    // 1e9 s is 2001; each further unit is a thousand times larger.
    if (v >= 1e9 && v < 1e10) return plausible(v * 1000);
    if (v >= 1e12 && v < 1e13) return plausible(v);
    if (v >= 1e15 && v < 1e16) return plausible(v / 1e3);
    if (v >= 1e18 && v < 1e19) return plausible(Math.floor(v / 1e6));
    return Number.NaN;
  }
  const m = DATE_TIME.exec(s);
  if (!m || m.index !== 0) return Number.NaN;
  return plausible(fromParts(m.slice(1, 8) as string[], m[8]));
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const KUBECTL_PREFIX = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})) /;
// klog: `I1221 09:43:26.252095       1 controller.go:773] ...` (no year).
const KLOG = /^[IWEF](\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s/;
// date(1) and Go's time.UnixDate: `Wed Dec 21 09:42:42 UTC 2022`.
const UNIX_DATE =
  /\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (?:UTC|GMT) (\d{4})\b/;
// Common log format (nginx, Apache): `[21/Dec/2022:09:42:42 +0000]`.
const CLF =
  /\[(\d{2})\/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\]/;
// Go's log package: `2022/12/21 09:42:42`.
const GO_LOG = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?\b/;

/** A time found in a log line, and the text to keep (a kubectl --timestamps prefix is removed). */
export interface LineTime {
  time: number;
  text: string;
}

/**
 * Finds the time a container log line carries, in the forms real containers write: a
 * `kubectl logs --timestamps` prefix (removed from the text, the bundle adds its own), an RFC 3339
 * or ISO time in the first 120 characters (`time="2022-12-21T09:43:10Z"` of logrus), klog's
 * `I1221 09:43:26.252095` (its year taken from `reference`), date(1)'s `Wed Dec 21 09:42:42 UTC
 * 2022`, the common log format and Go's `2022/12/21 09:42:42`. NaN time when there is none.
 */
export function findLineTime(line: string, reference: number): LineTime {
  const k = KUBECTL_PREFIX.exec(line);
  if (k) {
    const t = parseTimeCell(k[1] as string);
    if (!Number.isNaN(t)) return { time: t, text: line.slice(k[0].length) };
  }
  const head = line.slice(0, 120);
  const klog = KLOG.exec(head);
  if (klog) {
    const ref = Number.isNaN(reference) ? Date.now() : reference;
    let year = new Date(ref).getUTCFullYear();
    const at = (y: number): number =>
      fromParts([String(y), klog[1], klog[2], klog[3], klog[4], klog[5], klog[6]] as string[], 'Z');
    // A klog time more than a day after the reference belongs to the year before (a log read in January).
    if (at(year) > ref + 86_400_000) year -= 1;
    return { time: plausible(at(year)), text: line };
  }
  const iso = DATE_TIME.exec(head);
  if (iso) {
    const t = plausible(fromParts(iso.slice(1, 8) as string[], iso[8]));
    if (!Number.isNaN(t)) return { time: t, text: line };
  }
  const ud = UNIX_DATE.exec(head);
  if (ud) {
    const mo = String(MONTHS.indexOf((ud[1] as string).toLowerCase()) + 1).padStart(2, '0');
    const t = fromParts(
      [ud[6], mo, (ud[2] as string).padStart(2, '0'), ud[3], ud[4], ud[5]] as string[],
      'Z',
    );
    return { time: plausible(t), text: line };
  }
  const clf = CLF.exec(head);
  if (clf) {
    const mo = String(MONTHS.indexOf((clf[2] as string).toLowerCase()) + 1).padStart(2, '0');
    const t = fromParts([clf[3], mo, clf[1], clf[4], clf[5], clf[6]] as string[], clf[7]);
    return { time: plausible(t), text: line };
  }
  const go = GO_LOG.exec(head);
  if (go) return { time: plausible(fromParts(go.slice(1, 8) as string[], 'Z')), text: line };
  return { time: Number.NaN, text: line };
}
