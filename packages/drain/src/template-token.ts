/**
 * Template tokens: generalising two tokens into one, and telling whether a line's token is an
 * instance of a template token that holds `<*>`.
 */
import { DELIMITERS, WILDCARD, collapse } from './mask.js';

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
