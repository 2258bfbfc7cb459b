/**
 * Token masking: turns the variable parts of one whitespace-separated token into `<*>` before
 * the tree search, so that numbers, addresses, ids and paths never split a template.
 *
 * The masks work inside a token: `rhost=10.0.0.1` becomes `rhost=<*>` and `/10.1.2.3:50010`
 * becomes `<*>:<*>`, following the template conventions of the Loghub-2.0 benchmark
 * (Jiang et al., ISSTA 2024: rules DG, PS, WV, DV and CV of its template correction), so that a
 * masked template reads as a person would write it.
 */

/** The variable marker written in templates. */
export const WILDCARD = '<*>';

// Character codes are written as numbers in this file: a `const enum` compiles, under
// `isolatedModules`, to an object whose properties the hot loops below would load on every
// character (bench/drain-speed.mjs, varied: about 10%). 48-57 digits, 65-90 and 97-122 letters
// (97-102 and 65-70 hex), 95 `_`, 45 `-`, 46 `.`, 47 `/`, 58 `:`, 61 `=`, 64 `@`, 92 `\`, 42 `*`,
// 60 `<`, 62 `>`.

// Characters that separate the parts of a token (Loghub-2.0's token delimiters, plus `/` and `\`,
// so that `MININT-X/10.1.2.3` splits at the slash).
export const DELIMITERS = new Uint8Array(128);
for (const c of ` \t,!;:=|"'[](){}.-+@#$%&/\\<>*?~^\``) DELIMITERS[c.charCodeAt(0)] = 1;

// Path delimiters: the reduced set Loghub-2.0 uses to find path-like parts (rule PS).
const UUID = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g;
// IPv6, full or `::`-compressed, with an optional zone (`%eth0`).
const IPV6 =
  /(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|(?:[0-9a-fA-F]{1,4}:){0,6}(?:[0-9a-fA-F]{1,4})?::(?:[0-9a-fA-F]{1,4}:){0,6}[0-9a-fA-F]{0,4}(?:%[\w.]+)?/g;
const EMAIL = /^[\w.+-]+@[\w-]+(\.[\w-]+)+$/;
const WINDOWS_PATH = /^[A-Za-z]:\\/;
const MAC = /(?:[0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}/g;
// Values that are data, not words (Loghub-2.0 rule BL): a flag or an absent value.
const VALUE_WORDS = ['true', 'false', 'null', 'none', 'nil', 'undefined'];
// The English names of months and weekdays, as `date` and syslog write them (`Sun Jul 24 02:40:20
// 2005`): inside a message they are part of a date, a value. Capitalised only, so that a word such
// as `may` stays a word. Held as three character codes in one number, so no slice is cut.
const CALENDAR = new Set(
  'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec Mon Tue Wed Thu Fri Sat Sun'
    .split(' ')
    .map((w) => (w.charCodeAt(0) << 16) | (w.charCodeAt(1) << 8) | w.charCodeAt(2)),
);

/** Longest token kept as is; anything longer (a blob, a base64 payload) is one variable. */
export const MAX_TOKEN_LENGTH = 256;

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Whether one delimiter-free part of a token is a value: it starts with a digit (`12ms`, `0x1f`),
 * has at least as many digits as letters (`J12`, `1445144423722_0020`), or is a long hex run.
 * Words that merely contain a digit (`ssh2`, `jk2_init`, `IPv4`) stay words.
 */
function isVariablePart(s: string, start: number, end: number): boolean {
  const first = s.charCodeAt(start);
  if (isDigit(first)) return true;
  let digits = 0;
  let letters = 0;
  let hex = true;
  let run = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) {
      digits++;
      // A run of four digits or more is a number even inside a word (`DFSClient_1537864556_1`).
      if (++run >= 4) return true;
      continue;
    }
    run = 0;
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) {
      letters++;
      if (!((c >= 97 && c <= 102) || (c >= 65 && c <= 70))) hex = false;
    } else hex = false;
  }
  if (digits === 0) return false;
  if (digits >= letters) return true;
  return hex && end - start >= 8;
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function isWildcardAt(s: string, i: number): boolean {
  return s.charCodeAt(i) === 60 && s.charCodeAt(i + 1) === 42 && s.charCodeAt(i + 2) === 62;
}

/** Whether the name `s[start, end)`, holding a `<*>`, is dot-led or dash-joined to a variable. */
function isVariableName(s: string, start: number, end: number): boolean {
  if (end - start === 3) return false;
  if (isWildcardAt(s, start) && s.charCodeAt(start + 3) === 46) return true;
  for (let i = start; i < end; i++) {
    if (s.charCodeAt(i) !== 45) continue;
    if ((i + 4 <= end && isWildcardAt(s, i + 1)) || (i - 3 >= start && isWildcardAt(s, i - 3))) return true;
  }
  return false;
}

/**
 * Turns each name holding a variable that is dot-led or dash-joined into one `<*>`. A name is a run
 * of word characters, dots, dashes and `<*>` that ends on a word character or a `<*>` (so a
 * sentence's full stop stays outside). One pass over the characters: the regular expression
 * `(?:[A-Za-z0-9_.-]|<\*>)*<\*>(?:(?:[A-Za-z0-9_.-]|<\*>)*(?:[A-Za-z0-9_]|<\*>))?` replaced with a
 * function did the same at several times the cost.
 */
function collapseNames(s: string): string {
  let out = '';
  let copied = 0;
  const n = s.length;
  let i = 0;
  while (i < n) {
    const start = i;
    let variable = false;
    // End of the last word character or `<*>` of the run: the name stops there.
    let end = i;
    while (i < n) {
      if (isWildcardAt(s, i)) {
        variable = true;
        i += 3;
        end = i;
        continue;
      }
      const c = s.charCodeAt(i);
      if (isWordChar(c)) end = i + 1;
      else if (c !== 46 && c !== 45) break;
      i++;
    }
    if (i === start) i++;
    else if (variable && isVariableName(s, start, end)) {
      out += s.slice(copied, start) + WILDCARD;
      copied = end;
    }
  }
  return copied === 0 ? s : out + s.slice(copied);
}

/**
 * Collapses `<*>.<*>` and `<*><*>` (Loghub-2.0 rules DV and CV) until nothing changes, then turns a
 * dash-joined or dot-led name holding a variable into one variable: `msra-sa-<*>`, `blk_-<*>` and
 * `<*>.corp.example.com` are a host, a block and a host; a dot-joined name that only ends in a
 * variable (`org.apache.hadoop.<*>`) keeps its constant prefix.
 */
export function collapse(s: string): string {
  if (s === WILDCARD) return s;
  let prev = '';
  while (prev !== s && (s.includes('<*>.<*>') || s.includes('<*><*>'))) {
    prev = s;
    s = s.replaceAll('<*>.<*>', WILDCARD).replaceAll('<*><*>', WILDCARD);
  }
  if (s.length <= 3) return s;
  if (!(s.includes('-') || s.includes('<*>.'))) return s;
  return collapseNames(s);
}

/**
 * Whether `s[start, end)` is a value word (`true`, `False`, `NULL`, ...), compared on the character
 * codes: this runs for every short word that starts like one (`the`, `for`, `node`), where
 * lower-casing a slice to look it up in a set showed in the profile. `c | 32` lower-cases an ASCII
 * letter and turns no other character into one, and no other character lower-cases to a letter
 * of these words, so this is exactly a case-insensitive match.
 */
export function isValueWordAt(s: string, start: number, end: number): boolean {
  const n = end - start;
  if (
    n === 3 &&
    CALENDAR.has((s.charCodeAt(start) << 16) | (s.charCodeAt(start + 1) << 8) | s.charCodeAt(start + 2))
  )
    return true;
  if (n < 3 || n > 9) return false;
  const f = s.charCodeAt(start) | 32;
  if (f !== 102 && f !== 110 && f !== 116 && f !== 117) return false;
  for (const w of VALUE_WORDS) {
    if (w.length !== n) continue;
    let k = 0;
    while (k < n && (s.charCodeAt(start + k) | 32) === w.charCodeAt(k)) k++;
    if (k === n) return true;
  }
  return false;
}

/**
 * Replaces each delimiter-free part of a token that is a value with `<*>`, keeping the delimiters.
 * Returns the token itself when no part is a value. With `merge`, values joined by single dots
 * become one `<*>` as they are found (rule DV, without rebuilding the string until nothing
 * changes); only valid when every `<*>` of the result comes from this function or a path (which
 * is never next to a part), so never when the token held a `*`.
 */
function maskParts(token: string, merge: boolean): string {
  let out = '';
  // Characters before `copied` are in `out` already; an unchanged token is never rebuilt.
  let copied = 0;
  let start = 0;
  // Where the last value written ended (-1: none), to see a `<*>.<*>` chain as it grows.
  let lastEnd = -1;
  const n = token.length;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? token.charCodeAt(i) : 32;
    if (c < 128 && DELIMITERS[c] === 1) {
      if (i > start && (isVariablePart(token, start, i) || isValueWordAt(token, start, i))) {
        if (!(merge && lastEnd === start - 1 && token.charCodeAt(lastEnd) === 46)) {
          out += token.slice(copied, start) + WILDCARD;
        }
        copied = i;
        lastEnd = i;
      }
      start = i + 1;
    }
  }
  return copied === 0 ? token : out + token.slice(copied);
}

/** {@link collapse} of a string in which no `<*>.<*>` nor `<*><*>` is left. */
export function collapseMerged(s: string): string {
  if (s.length <= 3) return s;
  if (!(s.includes('-') || s.includes('<*>.'))) return s;
  return collapseNames(s);
}

// Loghub-2.0's path delimiters (rule PS) as character codes: whitespace and `,!;:=|"'[](){}`.
export const PATH_DELIMITERS = new Uint8Array(128);
for (const c of ' \t\n\v\f\r,!;:=|"\'[](){}') PATH_DELIMITERS[c.charCodeAt(0)] = 1;

/**
 * Whether `s[start, end)` is a Unix path: `/` and then one or more non-empty names separated by
 * single slashes, optionally ending in one (`^(\/[^/]+)+\/?$`, checked without a regular expression).
 */
function isPathAt(s: string, start: number, end: number): boolean {
  if (end - start < 2 || s.charCodeAt(start) !== 47) return false;
  let last = end;
  if (s.charCodeAt(end - 1) === 47) last = end - 1;
  if (last - start < 2) return false;
  for (let i = start + 1; i < last; i++) {
    if (s.charCodeAt(i) === 47 && s.charCodeAt(i - 1) === 47) return false;
  }
  return s.charCodeAt(last - 1) !== 47;
}

function isPathDelimiter(c: number): boolean {
  // `\s` in the original pattern also covers Unicode spaces; a token never holds one, as lines are
  // split on them, except the rare ones the fast split keeps (treated here as the pattern does).
  return c < 128
    ? PATH_DELIMITERS[c] === 1
    : c === 0xa0 ||
        c === 0x1680 ||
        (c >= 0x2000 && c <= 0x200a) ||
        c === 0x2028 ||
        c === 0x2029 ||
        c === 0x202f ||
        c === 0x205f ||
        c === 0x3000 ||
        c === 0xfeff;
}

/** Whether `s[start, end)` starts with a URL scheme and `://` (`^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/`). */
export function hasUrlScheme(s: string, start: number, end: number): boolean {
  const k = s.indexOf(':', start);
  if (k < start + 1 || k + 2 >= end || s.charCodeAt(k + 1) !== 47 || s.charCodeAt(k + 2) !== 47) return false;
  const f = s.charCodeAt(start) | 32;
  if (f < 97 || f > 122) return false;
  for (let i = start + 1; i < k; i++) {
    const c = s.charCodeAt(i);
    if (!(isWordChar(c) && c !== 95) && c !== 43 && c !== 46 && c !== 45) return false;
  }
  return true;
}

/**
 * Where a URL starts inside a token, after a separator (`url=https://...`, `(http://...`): the
 * first character of its scheme, or -1.
 */
function embeddedUrlAt(token: string): number {
  const k = token.indexOf('://');
  if (k <= 0) return -1;
  let i = k;
  while (i > 0) {
    const c = token.charCodeAt(i - 1);
    if (!((isWordChar(c) && c !== 95) || c === 43 || c === 46 || c === 45)) break;
    i--;
  }
  const f = token.charCodeAt(i) | 32;
  return i < k && f >= 97 && f <= 122 ? i : -1;
}

// What may close a URL inside a token: a quote or bracket, or a sentence's comma or full stop.
const URL_TRAIL = new Set([34, 39, 41, 93, 62, 44, 59, 46]);

/** URLs become one `<*>`; each path-delimited part that is a Unix path becomes `<*>` (rule PS). */
function maskPaths(token: string): string {
  if (token.indexOf('/') < 0) return token;
  if (hasUrlScheme(token, 0, token.length)) return WILDCARD;
  const u = embeddedUrlAt(token);
  if (u > 0) {
    let end = token.length;
    while (end > u && URL_TRAIL.has(token.charCodeAt(end - 1))) end--;
    return maskPaths(token.slice(0, u)) + WILDCARD + token.slice(end);
  }
  let out = '';
  let copied = 0;
  let start = 0;
  const n = token.length;
  for (let i = 0; i <= n; i++) {
    if (i < n && !isPathDelimiter(token.charCodeAt(i))) continue;
    if (isPathAt(token, start, i)) {
      out += token.slice(copied, start) + WILDCARD;
      copied = i;
    }
    start = i + 1;
  }
  return copied === 0 ? token : out + token.slice(copied);
}

/** Whether a digit-free token of 3 to 9 characters is a value word (`true`, `null`, ...). */
export function isValueWord(token: string): boolean {
  return isValueWordAt(token, 0, token.length);
}

/** A token's class before masking: see {@link classifyToken}. */
export const enum TokenClass {
  /** A plain word: used as it is. */
  Word = 0,
  /** Decimal digits only: `<*>`. */
  Number = 1,
  /** Anything else: needs {@link maskToken}. */
  Other = 2,
}

/**
 * Classifies a token in one pass, so that plain words (the commonest tokens) and plain numbers
 * (the commonest variables) skip {@link maskToken}.
 */
export function classifyToken(token: string): TokenClass {
  const n = token.length;
  if (n > MAX_TOKEN_LENGTH) return TokenClass.Other;
  let digits = 0;
  let other = false;
  for (let i = 0; i < n; i++) {
    const c = token.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    // `:`, `/`, `=`, `@`, `\`: where paths, key=value pairs and addresses live.
    else if (c === 58 || c === 47 || c === 61 || c === 64 || c === 92) other = true;
  }
  if (digits > 0) return digits === n ? TokenClass.Number : TokenClass.Other;
  if (other) return TokenClass.Other;
  if (n >= 3 && n <= 9 && isValueWord(token)) return TokenClass.Other;
  return TokenClass.Word;
}

// What one pass over a token found (bits of `shape`): which of the regular expressions below can
// match at all. Most tokens need none of them.
const SLASH = 1;
const EQUALS = 2;
const AT = 4;
const BACKSLASH = 8;
const DOUBLE_COLON = 16;
const STAR = 32;
// Whitespace other than a space or a tab (a path delimiter but not a part delimiter, so a path and
// a value can touch), or a `*`: both rule out merging values while they are found.
const ODD_SPACE = 64;
const NO_MERGE = STAR | ODD_SPACE;

/**
 * Masks the variable parts of one token (no whitespace inside).
 * One pass over the characters decides which masks can apply; a regular expression runs only on a
 * token that has the characters it needs (an `@` for an e-mail, four dashes for a UUID, ...).
 */
export function maskToken(token: string): string {
  const n = token.length;
  if (n > MAX_TOKEN_LENGTH) return WILDCARD;
  let digits = 0;
  let colons = 0;
  let dashes = 0;
  let shape = 0;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const c = token.charCodeAt(i);
    if (c <= 57) {
      if (c >= 48) digits++;
      else if (c === 45) dashes++;
      else if (c === 47) shape |= SLASH;
      else if (c < 32) shape |= ODD_SPACE;
    } else if (c <= 64) {
      if (c === 58) {
        colons++;
        if (prev === 58) shape |= DOUBLE_COLON;
      } else if (c === 61) shape |= EQUALS;
      else if (c === 64) shape |= AT;
    } else if (c === 92) shape |= BACKSLASH;
    else if (c > 127 && isPathDelimiter(c)) shape |= ODD_SPACE;
    prev = c;
  }
  // Scanned apart from the loop above, which keeps to the characters most tokens hold.
  if (token.indexOf('*') >= 0) shape |= STAR;
  if (digits === 0) {
    if (n === 0) return token;
    if (n <= 9 && isValueWordAt(token, 0, n)) return WILDCARD;
    if (shape === 0 && colons === 0) return token;
    if (shape & AT && token.indexOf('@') > 0 && EMAIL.test(token)) return WILDCARD;
    if (shape & BACKSLASH && WINDOWS_PATH.test(token)) return WILDCARD;
    const p = shape & (SLASH | AT | BACKSLASH) ? maskPaths(token) : token;
    // `key=true` or `obj=null`: a value word after a separator.
    const merge = (shape & NO_MERGE) === 0;
    const q = shape & EQUALS || colons > 0 ? maskParts(p, merge) : p;
    if (q === token) return token;
    return merge ? collapseMerged(q) : collapse(q);
  }
  if (digits === n) return WILDCARD;
  if (shape & AT && token.indexOf('@') > 0 && EMAIL.test(token)) return WILDCARD;
  // A UUID is one value even where its dash-separated parts look like words (`fe1a`, `b8cc`).
  // Replacing a UUID or a MAC address only removes hex digits, dashes and colons, so the
  // counts taken above still rule out the patterns after it.
  const original = token;
  if (n >= 36 && dashes >= 4) token = token.replace(UUID, WILDCARD);
  if (n >= 17 && colons + dashes >= 5) token = token.replace(MAC, WILDCARD);
  if (shape & BACKSLASH && WINDOWS_PATH.test(token)) return WILDCARD;
  if (shape & DOUBLE_COLON || colons >= 7) {
    if (token.includes('::') || token.split(':').length > 7) token = token.replace(IPV6, WILDCARD);
  }
  const p = shape & SLASH ? maskPaths(token) : token;
  if (p === WILDCARD) return p;
  // A `<*>` written by the patterns above (or a `*` of the token) may sit next to a value: the
  // general collapse handles those.
  if ((shape & NO_MERGE) === 0 && token === original) return collapseMerged(maskParts(p, true));
  return collapse(maskParts(p, false));
}
