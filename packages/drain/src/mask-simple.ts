/**
 * The one-pass masker for the commonest shapes of token (see {@link scanSimple}), apart from the
 * general masker in mask.ts, which it must agree with token for token.
 */
import {
  DELIMITERS,
  MAX_TOKEN_LENGTH,
  PATH_DELIMITERS,
  WILDCARD,
  collapseMerged,
  hasUrlScheme,
  isDigit,
  isValueWordAt,
} from './mask.js';

/** {@link scanSimple}: the token is left to maskToken. */
export const BAIL = -1;
/** {@link scanSimple}: the whole token is one `<*>`. */
export const WHOLE = -2;
/** {@link scanSimple}: a bit of a piece count, set when the pieces' text must go through collapseMerged. */
export const COLLAPSE = 1 << 30;
/**
 * The masked token of the last {@link scanSimple}, as pieces: pairs of offsets into the line, or
 * -1, -1 for a `<*>`. Held here, not built into a string: the shape hash reads the pieces.
 */
export const PIECES = new Int32Array(4 * MAX_TOKEN_LENGTH + 8);

/**
 * Masks the token `s[start, end)` in one pass over its characters, for the commonest shapes of
 * token with a digit or a `key=value`: plain ASCII parts between delimiters, no path, address or
 * pattern character. Returns undefined for any other token (a `/`, `@`, `\\` or `*`, a non-ASCII or
 * control character, `::`, seven colons, the dashes and colons of a UUID or a MAC address, more
 * than {@link MAX_TOKEN_LENGTH} characters), which {@link maskToken} handles; where it returns a
 * string, it is the one {@link maskToken} gives. Works on the line, so a token that is masked is
 * never sliced out of it first.
 */
export function maskSimple(s: string, start: number, end: number): string | undefined {
  const r = scanSimple(s, start, end);
  if (r === BAIL) return undefined;
  if (r === WHOLE) return WILDCARD;
  const n = r & ~COLLAPSE;
  if (n === 2 && (PIECES[0] as number) >= 0) return s.slice(PIECES[0], PIECES[1]);
  let out = '';
  for (let k = 0; k < n; k += 2) {
    const from = PIECES[k] as number;
    out += from < 0 ? WILDCARD : s.slice(from, PIECES[k + 1]);
  }
  return r & COLLAPSE ? collapseMerged(out) : out;
}

/**
 * {@link maskSimple}'s pass, its result written as {@link PIECES}: the number of offsets written
 * (with {@link COLLAPSE} set when collapseMerged applies to their text), {@link WHOLE} or {@link BAIL}.
 */
export function scanSimple(s: string, start: number, end: number): number {
  const n = end - start;
  if (n > MAX_TOKEN_LENGTH) return BAIL;
  let pieces = 0;
  // Whether the last piece is a `<*>`, and whether one is followed by a `.` (collapseNames's case).
  let wild = false;
  let dotAfter = false;
  let copied = start;
  let lastEnd = -1;
  // The part in progress, as isVariablePart sees it.
  let part = start;
  let digits = 0;
  let letters = 0;
  let run = 0;
  let longRun = false;
  let hex = true;
  // Where the text between path delimiters in progress starts (rule PS).
  let segment = start;
  // The token as a whole, as maskToken's first pass sees it.
  let anyDigit = false;
  let keyed = false;
  let slash = false;
  let colons = 0;
  let dashes = 0;
  let prev = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 32;
    if (c >= 128) return BAIL;
    if (DELIMITERS[c] !== 1) {
      if (c < 32) return BAIL;
      prev = c;
      if (c >= 48 && c <= 57) {
        digits++;
        anyDigit = true;
        if (++run >= 4) longRun = true;
        continue;
      }
      run = 0;
      if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) {
        letters++;
        if (!((c >= 97 && c <= 102) || (c >= 65 && c <= 70))) hex = false;
      } else hex = false;
      continue;
    }
    if (c === 47) {
      slash = true;
      // `key=https://...`: a URL after a separator, left to maskToken.
      if (prev === 58 && i > start + 1 && s.charCodeAt(i + 1) === 47 && !hasUrlScheme(s, start, end))
        return BAIL;
      if (i === segment) {
        // A path is one value, whatever its parts: find where it ends, and whether it is one.
        const to = pathAt(s, i, end);
        if (to === BAIL) return BAIL;
        if (to > 0) {
          anyDigit ||= pathDigits;
          dashes += pathDashes;
          if (copied < i) {
            dotAfter ||= wild && s.charCodeAt(copied) === 46;
            PIECES[pieces++] = copied;
            PIECES[pieces++] = i;
          }
          PIECES[pieces++] = -1;
          PIECES[pieces++] = -1;
          wild = true;
          copied = to;
          lastEnd = -1;
          part = to;
          prev = s.charCodeAt(to - 1);
          i = to - 1;
          continue;
        }
      }
    }
    if (i > part) {
      const len = i - part;
      const value =
        isDigit(s.charCodeAt(part)) ||
        longRun ||
        (digits > 0 && (digits >= letters || (hex && len >= 8))) ||
        isValueWordAt(s, part, i);
      if (value) {
        // Values joined by single dots are one value (rule DV).
        if (!(lastEnd === part - 1 && s.charCodeAt(lastEnd) === 46)) {
          if (copied < part) {
            dotAfter ||= wild && s.charCodeAt(copied) === 46;
            PIECES[pieces++] = copied;
            PIECES[pieces++] = part;
          }
          PIECES[pieces++] = -1;
          PIECES[pieces++] = -1;
          wild = true;
        }
        copied = i;
        lastEnd = i;
      }
    }
    part = i + 1;
    digits = 0;
    letters = 0;
    run = 0;
    longRun = false;
    hex = true;
    if (PATH_DELIMITERS[c] === 1) segment = i + 1;
    if (c === 64 || c === 92 || c === 42) return BAIL;
    if (c === 58) {
      if (prev === 58) return BAIL;
      colons++;
      keyed = true;
    } else if (c === 61) keyed = true;
    else if (c === 45) dashes++;
    prev = c;
  }
  if (colons >= 7 || (n >= 36 && dashes >= 4) || (n >= 17 && colons + dashes >= 5)) return BAIL;
  if (slash && hasUrlScheme(s, start, end)) return WHOLE;
  if (!anyDigit && !keyed) {
    // Without a digit or a separator, maskToken masks paths but not parts: left to it.
    if (slash) return BAIL;
    if (isValueWordAt(s, start, end)) return WHOLE;
    PIECES[0] = start;
    PIECES[1] = end;
    return 2;
  }
  if (copied === start) {
    PIECES[0] = start;
    PIECES[1] = end;
    return 2;
  }
  if (copied < end) {
    dotAfter ||= wild && s.charCodeAt(copied) === 46;
    PIECES[pieces++] = copied;
    PIECES[pieces++] = end;
  }
  // collapseMerged changes only a text holding a `-` or a `<*>.` (a dash is never inside a piece
  // that is masked: it delimits parts, and a path's dashes are counted in `dashes` too).
  return dashes > 0 || dotAfter ? pieces | COLLAPSE : pieces;
}

// What pathAt saw besides the path's end: maskSimple's counts need them.
let pathDigits = false;
let pathDashes = 0;

/**
 * The end of the Unix path (rule PS, as {@link isPathAt}) that starts with the `/` at `from` and
 * runs to the next path delimiter (at most `end`); 0 when that text is not a path, {@link BAIL}
 * when it holds a character {@link maskSimple} leaves to {@link maskToken} (`@`, `\\`, `*`, a
 * control or non-ASCII character). One pass: the end, the check and the counts.
 */
function pathAt(s: string, from: number, end: number): number {
  pathDigits = false;
  pathDashes = 0;
  let double = false;
  let prev = 47;
  let i = from + 1;
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || c < 32 || c === 64 || c === 92 || c === 42) return BAIL;
    if (PATH_DELIMITERS[c] === 1) break;
    if (c === 47) {
      if (prev === 47) double = true;
    } else if (c >= 48 && c <= 57) pathDigits = true;
    else if (c === 45) pathDashes++;
    prev = c;
  }
  // `/name(/name)*/?`: no empty name, at most one slash at the end.
  if (double || i - from < 2) return 0;
  if (prev === 47 && (i - from < 3 || s.charCodeAt(i - 2) === 47)) return 0;
  return i;
}
