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

const enum Ch {
  Zero = 48,
  Nine = 57,
  UpperA = 65,
  UpperZ = 90,
  LowerA = 97,
  LowerF = 102,
  LowerZ = 122,
  Slash = 47,
  Dot = 46,
}

// Characters that separate the parts of a token (Loghub-2.0's token delimiters, plus `/` and `\`,
// so that `MININT-X/10.1.2.3` splits at the slash).
const DELIMITERS = new Uint8Array(128);
for (const c of ` \t,!;:=|"'[](){}.-+@#$%&/\\<>*?~^\``) DELIMITERS[c.charCodeAt(0)] = 1;

// Path delimiters: the reduced set Loghub-2.0 uses to find path-like parts (rule PS).
const PATH_DELIMITERS = /([\s,!;:=|"'[\](){}])/;
const PATH = /^(\/[^/]+)+\/?$/;
const UUID = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g;
// IPv6, full or `::`-compressed, with an optional zone (`%eth0`).
const IPV6 =
  /(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|(?:[0-9a-fA-F]{1,4}:){0,6}(?:[0-9a-fA-F]{1,4})?::(?:[0-9a-fA-F]{1,4}:){0,6}[0-9a-fA-F]{0,4}(?:%[\w.]+)?/g;
const EMAIL = /^[\w.+-]+@[\w-]+(\.[\w-]+)+$/;
const WINDOWS_PATH = /^[A-Za-z]:\\/;
const MAC = /(?:[0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}/g;
const URL_SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//;
// Values that are data, not words (Loghub-2.0 rule BL): a flag or an absent value.
const VALUE_WORDS = new Set(['true', 'false', 'null', 'none', 'nil', 'undefined']);

/** Longest token kept as is; anything longer (a blob, a base64 payload) is one variable. */
export const MAX_TOKEN_LENGTH = 256;

function isDigit(c: number): boolean {
  return c >= Ch.Zero && c <= Ch.Nine;
}

/** Whether a token is a plain decimal number: the commonest variable, masked without parsing. */
function isNumber(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
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
    if ((c >= Ch.LowerA && c <= Ch.LowerZ) || (c >= Ch.UpperA && c <= Ch.UpperZ)) {
      letters++;
      if (!((c >= Ch.LowerA && c <= Ch.LowerF) || (c >= 65 && c <= 70))) hex = false;
    } else hex = false;
  }
  if (digits === 0) return false;
  if (digits >= letters) return true;
  return hex && end - start >= 8;
}

// A run of word characters, dots and dashes: one name, such as a host, a block id or a class.
// It ends on a word character or a variable, so a sentence's full stop stays outside.
const NAME_RUN = /(?:[A-Za-z0-9_.-]|<\*>)*<\*>(?:(?:[A-Za-z0-9_.-]|<\*>)*(?:[A-Za-z0-9_]|<\*>))?/g;

/**
 * Collapses `<*>.<*>` and `<*><*>` (Loghub-2.0 rules DV and CV) until nothing changes, then turns a
 * dash-joined or dot-led name holding a variable into one variable: `msra-sa-<*>`, `blk_-<*>` and
 * `<*>.corp.example.com` are a host, a block and a host; a dot-joined name that only ends in a
 * variable (`org.apache.hadoop.<*>`) keeps its constant prefix.
 */
function collapse(s: string): string {
  if (s === WILDCARD) return s;
  let prev = '';
  while (prev !== s && (s.includes('<*>.<*>') || s.includes('<*><*>'))) {
    prev = s;
    s = s.replaceAll('<*>.<*>', WILDCARD).replaceAll('<*><*>', WILDCARD);
  }
  if (s.length <= 3) return s;
  if (!(s.includes('-') || s.includes('<*>.'))) return s;
  return s.replace(NAME_RUN, (run) => {
    if (run === WILDCARD) return run;
    if (run.startsWith('<*>.') || run.includes('-<*>') || run.includes('<*>-')) return WILDCARD;
    return run;
  });
}

function maskParts(token: string): string {
  let out = '';
  let start = 0;
  const n = token.length;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? token.charCodeAt(i) : 32;
    if (c < 128 && DELIMITERS[c] === 1) {
      if (i > start) {
        const part = token.slice(start, i);
        const value =
          isVariablePart(token, start, i) || (i - start <= 9 && VALUE_WORDS.has(part.toLowerCase()));
        out += value ? WILDCARD : part;
      }
      if (i < n) out += token[i];
      start = i + 1;
    }
  }
  return out;
}

function maskPaths(token: string): string {
  if (token.indexOf('/') < 0) return token;
  if (URL_SCHEME.test(token)) return WILDCARD;
  const parts = token.split(PATH_DELIMITERS);
  let changed = false;
  for (let i = 0; i < parts.length; i += 2) {
    const p = parts[i];
    if (p !== undefined && p.length > 1 && PATH.test(p)) {
      parts[i] = WILDCARD;
      changed = true;
    }
  }
  return changed ? parts.join('') : token;
}

/** Whether a digit-free token of 3 to 9 characters is a value word (`true`, `null`, ...). */
export function isValueWord(token: string): boolean {
  const f = token.charCodeAt(0) | 32;
  return (f === 102 || f === 110 || f === 116 || f === 117) && VALUE_WORDS.has(token.toLowerCase());
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
 * (the commonest variables) skip the cache lookup and the regular expressions of {@link maskToken}.
 */
export function classifyToken(token: string): TokenClass {
  const n = token.length;
  if (n > MAX_TOKEN_LENGTH) return TokenClass.Other;
  let digits = 0;
  let other = false;
  for (let i = 0; i < n; i++) {
    const c = token.charCodeAt(i);
    if (c >= Ch.Zero && c <= Ch.Nine) digits++;
    // `:`, `/`, `=`, `@`, `\`: where paths, key=value pairs and addresses live.
    else if (c === 58 || c === Ch.Slash || c === 61 || c === 64 || c === 92) other = true;
  }
  if (digits > 0) return digits === n ? TokenClass.Number : TokenClass.Other;
  if (other) return TokenClass.Other;
  if (n >= 3 && n <= 9) {
    const f = token.charCodeAt(0) | 32;
    if ((f === 102 || f === 110 || f === 116 || f === 117) && VALUE_WORDS.has(token.toLowerCase())) {
      return TokenClass.Other;
    }
  }
  return TokenClass.Word;
}

/**
 * Masks the variable parts of one token (no whitespace inside).
 * Tokens without a digit, a slash or an `@` return unchanged, which is the fast path for most words.
 */
export function maskToken(token: string): string {
  const cls = classifyToken(token);
  if (cls === TokenClass.Word) return token;
  if (cls === TokenClass.Number) return WILDCARD;
  const n = token.length;
  if (n > MAX_TOKEN_LENGTH) return WILDCARD;
  let digit = false;
  let special = false;
  for (let i = 0; i < n; i++) {
    const c = token.charCodeAt(i);
    if (c <= Ch.Nine) {
      if (c >= Ch.Zero) {
        digit = true;
        break;
      }
      if (c === Ch.Slash) special = true;
    } else if (c === 64 || c === 92) special = true;
  }
  if (!digit) {
    if (n === 0) return token;
    if (n <= 9 && VALUE_WORDS.has(token.toLowerCase())) return WILDCARD;
    if (token.indexOf('@') > 0 && EMAIL.test(token)) return WILDCARD;
    if (WINDOWS_PATH.test(token)) return WILDCARD;
    const p = special ? maskPaths(token) : token;
    // `key=true` or `obj=null`: a value word after a separator.
    const q = token.indexOf('=') >= 0 || token.indexOf(':') >= 0 ? maskParts(p) : p;
    return q === token ? token : collapse(q);
  }
  if (!special && isNumber(token)) return WILDCARD;
  if (token.indexOf('@') > 0 && EMAIL.test(token)) return WILDCARD;
  // A UUID is one value even where its dash-separated parts look like words (`fe1a`, `b8cc`).
  if (n >= 36) token = token.replace(UUID, WILDCARD);
  if (n >= 17) token = token.replace(MAC, WILDCARD);
  if (WINDOWS_PATH.test(token)) return WILDCARD;
  if (token.includes('::') || token.split(':').length > 7) token = token.replace(IPV6, WILDCARD);
  const p = maskPaths(token);
  if (p === WILDCARD) return p;
  return collapse(maskParts(p));
}

const DELIM_OR_WILDCARD_END = (s: string, i: number): boolean => {
  const c = s.charCodeAt(i);
  return c < 128 && DELIMITERS[c] === 1;
};

/**
 * Generalises two different tokens into one: the common prefix that ends at a delimiter and the
 * common suffix that starts at one are kept, the middle becomes `<*>`
 * (`rhost=a.example` and `rhost=b.example` give `rhost=<*>`); tokens with nothing in common give `<*>`.
 */
export function mergeTokens(a: string, b: string): string {
  if (a === b) return a;
  if (a === WILDCARD || b === WILDCARD) return WILDCARD;
  const max = Math.min(a.length, b.length);
  let p = 0;
  while (p < max && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  // Cut the prefix back to just after its last delimiter, so no half word is kept.
  while (p > 0 && !DELIM_OR_WILDCARD_END(a, p - 1)) p--;
  let s = 0;
  while (s < max - p && a.charCodeAt(a.length - 1 - s) === b.charCodeAt(b.length - 1 - s)) s++;
  while (s > 0 && !DELIM_OR_WILDCARD_END(a, a.length - s)) s--;
  if (p === 0 && s === 0) return WILDCARD;
  const merged = collapse(a.slice(0, p) + WILDCARD + a.slice(a.length - s));
  // A template token made only of delimiters and wildcards says nothing a plain `<*>` does not.
  return merged;
}

/**
 * Whether `token` is an instance of the template token `pattern` (which holds at least one `<*>`).
 * Checked by the text before the first and after the last `<*>`, and the pieces in between in order.
 */
export function matchesPattern(pattern: string, token: string): boolean {
  if (pattern === WILDCARD) return true;
  const i = pattern.indexOf(WILDCARD);
  if (i < 0) return pattern === token;
  const tail = pattern.length - (pattern.lastIndexOf(WILDCARD) + 3);
  const tn = token.length;
  if (tn < i + tail) return false;
  // Compared in place: this runs inside the similarity loop, where a slice per call shows up.
  for (let k = 0; k < i; k++) if (token.charCodeAt(k) !== pattern.charCodeAt(k)) return false;
  const pn = pattern.length;
  for (let k = 1; k <= tail; k++) if (token.charCodeAt(tn - k) !== pattern.charCodeAt(pn - k)) return false;
  // The literal pieces between variables (`=` in `<*>=<*>`) must appear in order in between.
  let from = i;
  let at = i + 3;
  const end = tn - tail;
  for (;;) {
    const next = pattern.indexOf(WILDCARD, at);
    if (next < 0 || next >= pn - tail - 3 + 1) break;
    if (next > at) {
      const found = token.indexOf(pattern.slice(at, next), from);
      if (found < 0 || found + (next - at) > end) return false;
      from = found + (next - at);
    }
    at = next + 3;
  }
  return true;
}
