import {
  MAX_TOKEN_LENGTH,
  TokenClass,
  WILDCARD,
  classifyToken,
  isValueWord,
  isValueWordAt,
  maskToken,
} from './mask.js';
import { BAIL, COLLAPSE, PIECES, WHOLE, maskSimple, scanSimple } from './mask-simple.js';
import type { MinerOptions } from './options.js';

// Five or more values in a row are a list whose length varies from line to line (HDFS's
// `ask ... to delete <*> <*> ...`): one `<*>` stands for the run, so the lines share a length
// and a template. Average FGA on Loghub-2k at similarity 0.7: 0.905 without, 0.922 with runs of 5 (or 8).
const MIN_LIST_RUN = 5;

/** A token's two hashes, as {@link Tokenizer.shapeHash} computes them: FNV-1a and 31-polynomial. */
function tokenHashes(t: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0;
  for (let k = 0; k < t.length; k++) {
    a = Math.imul(a ^ t.charCodeAt(k), 0x01000193);
    b = (Math.imul(b, 31) + t.charCodeAt(k)) | 0;
  }
  return [a, b];
}
const [WILDCARD_A, WILDCARD_B] = tokenHashes(WILDCARD);

export function collapseRuns(tokens: string[], min: number): string[] {
  let out: string[] | undefined;
  let i = 0;
  while (i < tokens.length) {
    let j = i;
    while (j < tokens.length && tokens[j] === WILDCARD) j++;
    if (j - i >= min) {
      out ??= tokens.slice(0, i);
      out.push(WILDCARD);
      i = j;
    } else {
      if (out !== undefined) for (let k = i; k <= j && k < tokens.length; k++) out.push(tokens[k] as string);
      i = j + 1;
    }
  }
  return out ?? tokens;
}

/** Whether a line holds whitespace other than spaces (tabs, a CR left by CRLF line ends). */
function hasOtherWhitespace(line: string): boolean {
  return (
    line.indexOf('\t') >= 0 || line.indexOf('\r') >= 0 || line.indexOf('\v') >= 0 || line.indexOf('\f') >= 0
  );
}

/**
 * Cuts a line into masked tokens, as the miner sees it: one pass over the characters for lines of
 * single spaces, the general path (any whitespace, extra masks) otherwise.
 */
export class Tokenizer {
  /** Whether the last line split was cut (by `maxLineLength` or `maxTokens`). */
  lastCut = false;
  /** How many tokens the line of the last {@link Tokenizer.shapeHash} that returned true has. */
  lastCount = 0;
  /** That line's shape hash (30 bits, so a V8 small integer: a cheap Map key). */
  lastHash = 0;
  /** A second, independent 32-bit hash of that shape, checked on a hit. */
  lastCheck = 0;
  // Masked tokens by skeleton (see TokenMemo), bounded: cleared when full.
  private readonly memo = new Map<number, TokenMemo>();
  private readonly extra: RegExp[];

  /** Throws a SyntaxError when an `extraMasks` source is not a valid regular expression. */
  constructor(private readonly options: Readonly<Required<MinerOptions>>) {
    this.extra = options.extraMasks.map((src) => new RegExp(src, 'g'));
  }

  /**
   * Splits on spaces and classifies each token in one pass over the characters, with the same
   * result as the general path below: a plain number becomes `<*>` without its text ever being
   * cut out, a plain word is sliced once, anything else is masked in place by maskSimple (or by
   * maskToken, for the shapes that need a regular expression). Returns
   * undefined on other whitespace (tab, CR, VT, FF), which takes the general path.
   */
  private splitFast(line: string, tokens: string[]): string[] | undefined {
    const max = this.options.maxTokens;
    tokens.length = 0;
    const n = line.length;
    let start = 0;
    let digits = 0;
    let other = false;
    this.lastCut = false;
    for (let i = 0; i <= n; i++) {
      const c = i < n ? line.charCodeAt(i) : 32;
      if (c !== 32) {
        if (c <= 61) {
          if (c >= 48 && c <= 57) digits++;
          else if (c === 47 || c === 58 || c === 61) other = true;
          else if (c === 9 || c === 11 || c === 12 || c === 13) return undefined;
        } else if (c === 64 || c === 92) other = true;
        continue;
      }
      const len = i - start;
      if (len > 0) {
        if (tokens.length === max - 1) {
          tokens.push(WILDCARD);
          this.lastCut = true;
          break;
        }
        if (len <= MAX_TOKEN_LENGTH && digits === len) tokens.push(WILDCARD);
        else if (len <= MAX_TOKEN_LENGTH && digits === 0 && !other) {
          const t = line.slice(start, i);
          tokens.push(len < 3 || len > 9 || !isValueWord(t) ? t : WILDCARD);
        } else tokens.push(maskSimple(line, start, i) ?? maskToken(line.slice(start, i)));
      }
      start = i + 1;
      digits = 0;
      other = false;
    }
    return tokens;
  }

  /** The masked tokens of a line, written into `tokens` (emptied first) unless a list is collapsed. */
  split(content: string, tokens: string[] = []): string[] {
    const o = this.options;
    let line = content;
    let cut = false;
    if (line.length > o.maxLineLength) {
      line = line.slice(0, o.maxLineLength);
      cut = true;
    }
    if (o.mask && this.extra.length === 0) {
      const fast = this.splitFast(line, tokens);
      if (fast !== undefined) {
        this.lastCut ||= cut;
        return collapseRuns(fast, MIN_LIST_RUN);
      }
    }
    tokens.length = 0;
    const max = o.maxTokens;
    // Splitting on single spaces is V8's fastest path; other whitespace takes the general one.
    const parts = hasOtherWhitespace(line) ? line.split(/\s+/) : line.split(' ');
    for (let i = 0; i < parts.length; i++) {
      let t = parts[i] as string;
      if (t.length === 0) continue;
      for (const re of this.extra) t = t.replace(re, WILDCARD);
      if (tokens.length === max - 1) {
        tokens.push(WILDCARD);
        cut = true;
        break;
      }
      const cls = o.mask ? classifyToken(t) : TokenClass.Word;
      if (cls !== TokenClass.Other) {
        tokens.push(cls === TokenClass.Word ? t : WILDCARD);
        continue;
      }
      tokens.push(maskToken(t));
    }
    this.lastCut = cut;
    return collapseRuns(tokens, MIN_LIST_RUN);
  }

  /**
   * Hashes a line's masked tokens (the words, the masks, and the runs of spaces between them) in
   * the one pass that finds them: the key of the shape cache, as two 32-bit hashes in
   * {@link Tokenizer.lastHash} and {@link Tokenizer.lastCheck}, with no string built (building the
   * masked line as a key string and hashing it again cost about a third of the time of a fresh
   * line: bench/drain-long.mjs). Returns false for a line that needs the general path (other
   * whitespace, a list run, a cut, custom masks), which then skips the shape cache.
   */
  shapeHash(line: string): boolean {
    const o = this.options;
    const n = line.length;
    if (!o.mask || this.extra.length > 0 || n === 0 || n > o.maxLineLength) return false;
    let h = 0x2f0b3c1d;
    let g = 0x61c88647;
    let count = 0;
    let run = 0;
    for (let start = 0; start < n;) {
      let digits = 0;
      let other = false;
      let a = 0x811c9dc5;
      let b = 0;
      let i = start;
      for (; i < n; i++) {
        const c = line.charCodeAt(i);
        // Hashed with every digit read as `0`: a token's skeleton (see TokenMemo).
        let x = c;
        if (c <= 61) {
          if (c === 32) break;
          if (c >= 48 && c <= 57) {
            digits++;
            x = 48;
          } else if (c === 47 || c === 58 || c === 61) other = true;
          else if (c === 9 || c === 11 || c === 12 || c === 13) return false;
        } else if (c === 64 || c === 92) other = true;
        a = Math.imul(a ^ x, 0x01000193);
        b = (Math.imul(b, 31) + x) | 0;
      }
      const len = i - start;
      start = i + 1;
      // Runs of spaces make no token: the tokens alone are hashed, each as a whole.
      if (len === 0) continue;
      if (++count === o.maxTokens) return false;
      let masked: string | undefined;
      if (len <= MAX_TOKEN_LENGTH && digits === len) masked = WILDCARD;
      else if (len <= MAX_TOKEN_LENGTH && digits === 0 && !other) {
        if (isValueWordAt(line, i - len, i)) masked = WILDCARD;
      } else {
        const memo = this.memo.get(a >>> 2);
        if (memo !== undefined && memo.check === b && memo.len === len) {
          a = memo.a;
          b = memo.b;
          if (memo.wild) masked = WILDCARD;
        } else {
          const key = a >>> 2;
          const check = b;
          const wild = this.maskedHash(line, i - len, i);
          a = hashA;
          b = hashB;
          if (wild) masked = WILDCARD;
          if (!hashDigit) {
            if (this.memo.size >= TOKEN_MEMO_SIZE) this.memo.clear();
            this.memo.set(key, { check, len, a, b, wild });
          }
        }
      }
      if (masked === WILDCARD) {
        if (++run === MIN_LIST_RUN) return false;
        a = WILDCARD_A;
        b = WILDCARD_B;
      } else run = 0;
      h = Math.imul(h ^ a, 0x9e3779b1);
      h ^= h >>> 15;
      g = Math.imul(g + b, 0x85ebca6b);
      g ^= g >>> 13;
    }
    this.lastCount = count;
    this.lastHash = h >>> 2;
    this.lastCheck = (g + count) | 0;
    return true;
  }

  /**
   * Masks the token `line[start, end)` (neither a plain word nor a plain number) and leaves the
   * two hashes of the masked token in hashA and hashB, and in hashDigit whether it holds a digit.
   * Returns whether it is one `<*>`.
   */
  private maskedHash(line: string, start: number, end: number): boolean {
    const r = scanSimple(line, start, end);
    if (r === WHOLE) return wildcardHash();
    if (r === BAIL || r & COLLAPSE) {
      const masked =
        r === BAIL ? maskToken(line.slice(start, end)) : (maskSimple(line, start, end) as string);
      if (masked === WILDCARD) return wildcardHash();
      textHash(masked, 0, masked.length, true);
      return false;
    }
    // Read from the pieces: no string is built.
    hashA = 0x811c9dc5;
    hashB = 0;
    hashDigit = false;
    for (let k = 0; k < r; k += 2) {
      const from = PIECES[k] as number;
      if (from < 0) textHash(WILDCARD, 0, 3, false);
      else textHash(line, from, PIECES[k + 1] as number, false);
    }
    // A token of one `<*>` piece is `<*>` (a list run counts it).
    return r === 2 && (PIECES[0] as number) < 0;
  }
}

/**
 * A token's masked form by its skeleton (the token with every digit read as `0`, hashed in the
 * pass that finds it): masking treats all digits alike (a part's digits are counted, never told
 * apart), so tokens of one skeleton whose masked form holds no digit of its own all have that
 * masked form: `latency=87ms` and `latency=12ms`, `10.1.2.3:4567` and `10.9.8.7:1234`. Only such
 * masked forms are kept. Checked by a second hash and the length, as the shape cache is.
 */
interface TokenMemo {
  check: number;
  len: number;
  a: number;
  b: number;
  wild: boolean;
}
// Skeletons kept: token shapes are few (about as many as the templates' value slots).
const TOKEN_MEMO_SIZE = 1 << 16;

// The hashes of the last masked token (see Tokenizer.maskedHash): module state, so nothing is allocated.
let hashA = 0;
let hashB = 0;
let hashDigit = false;

function wildcardHash(): boolean {
  hashA = WILDCARD_A;
  hashB = WILDCARD_B;
  hashDigit = false;
  return true;
}

/** Hashes `s[from, to)` into hashA and hashB, from scratch when `fresh`, and notes a digit. */
function textHash(s: string, from: number, to: number, fresh: boolean): void {
  if (fresh) {
    hashA = 0x811c9dc5;
    hashB = 0;
    hashDigit = false;
  }
  let a = hashA;
  let b = hashB;
  for (let j = from; j < to; j++) {
    const c = s.charCodeAt(j);
    if (c >= 48 && c <= 57) hashDigit = true;
    a = Math.imul(a ^ c, 0x01000193);
    b = (Math.imul(b, 31) + c) | 0;
  }
  hashA = a;
  hashB = b;
}
