import { HindsightError } from './errors.js';
import { CANDIDATE, REDACTED, secretRules, type SecretRule } from './redact-catalogue.js';
import { isSecretKey } from './redact-keys.js';

export { REDACTED } from './redact-catalogue.js';
export { isSecretKey } from './redact-keys.js';

/** How many values were redacted, per kind (`jwt`, `secret-key`, `custom`, ...). */
export type RedactionCounts = Record<string, number>;

/** Options of a {@link Redactor}. */
export interface RedactorOptions {
  /**
   * The user's own patterns (`--redact-pattern`), run after the catalogue and counted as `custom`.
   * A pattern with a capturing group has only its first group replaced; otherwise the whole match.
   */
  patterns?: readonly RegExp[];
  /**
   * Remember the values found secret by their key, name or path, so that {@link Redactor.scrub}
   * removes their copies elsewhere (a change's title quoting its diff). Default true.
   */
  remember?: boolean;
}

const NONE: ReadonlySet<string> = new Set();

// Which values found secret by their key are also scrubbed from other text: not an ordinary word
// (`shop`, `replicas`, `default` under an `auth` key would blank every title that names them), but
// six characters or more holding a digit, a capital or a symbol, as passwords and tokens do.
function worthRemembering(v: string): boolean {
  return v.length >= 6 && /[^a-z._-]/.test(v);
}

/** The kind counted for a value redacted by a user's pattern. */
export const CUSTOM_KIND = 'custom';

/**
 * The one redactor every writer and reporter passes: the catalogue of secret formats
 * (redact-catalogue.ts), the key-name rule (redact-keys.ts) and the user's patterns, with a count
 * of what it replaced per kind. Redaction is idempotent: redacting redacted output changes nothing
 * and counts nothing.
 */
export class Redactor {
  private readonly tally = new Map<string, number>();
  private readonly custom: RegExp[];
  private readonly known = new Set<string>();
  private readonly remember: boolean;

  constructor(options: RedactorOptions = {}) {
    this.remember = options.remember ?? true;
    // `g` to replace every match, `d` for the position of the group to replace.
    this.custom = (options.patterns ?? []).map(
      (p) => new RegExp(p.source, `${p.flags.replace(/[gdy]/g, '')}gd`),
    );
  }

  /** The values replaced so far, per kind, in a stable (sorted) order. */
  counts(): RedactionCounts {
    return Object.fromEntries([...this.tally.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  private count(kind: string, n = 1): void {
    this.tally.set(kind, (this.tally.get(kind) ?? 0) + n);
  }

  /**
   * Redacts credentials inside free text: every format of the catalogue (tokens, keys, JWTs, PEM
   * private keys, Authorization and Cookie values, URL passwords, `key=value` pairs whose key names
   * a secret) and the user's patterns. Text with no candidate at all is returned as it is, after
   * one scan.
   */
  text(text: string): string {
    if (text.length === 0) return text;
    let out = text;
    if (CANDIDATE.test(out)) {
      for (const rule of secretRules) out = this.applyRule(rule, out);
    }
    return this.custom.length > 0 ? this.applyCustom(out) : out;
  }

  private applyRule(rule: SecretRule, text: string): string {
    if (rule.hint && !rule.hint.test(text)) return text;
    const re = rule.pattern;
    re.lastIndex = 0;
    let out = '';
    let last = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const groups = m.groups ?? {};
      const pre = groups['pre'] ?? '';
      const v = groups['v'];
      const replaced = v === undefined || (rule.accept && !rule.accept(groups)) ? undefined : wrapLike(v);
      if (v === undefined || replaced === undefined || replaced === v) {
        // Refused (`settings: password = "x"` is no secret at `settings`): look again right after
        // its separator, where the next pair may begin, instead of after the whole match.
        re.lastIndex = m.index + Math.max(1, pre.length);
        continue;
      }
      this.count(rule.kind);
      const start = m.index + pre.length;
      out += `${text.slice(last, start)}${replaced}`;
      last = start + v.length;
      re.lastIndex = Math.max(last, m.index + 1);
    }
    return last === 0 ? text : out + text.slice(last);
  }

  // A user's pattern runs between the markers already placed, never across or inside one, so that
  // a pattern such as `RED` cannot break a marker and a second pass changes nothing.
  private applyCustom(text: string): string {
    const parts = text.split(REDACTED);
    return parts.map((part) => this.customPart(part)).join(REDACTED);
  }

  private customPart(part: string): string {
    let out = part;
    for (const re of this.custom) {
      let result = '';
      let last = 0;
      re.lastIndex = 0;
      for (let m = re.exec(out); m !== null; m = re.exec(out)) {
        if (m[0].length === 0) {
          re.lastIndex += 1;
          continue;
        }
        const span = m.indices?.[1] ?? m.indices?.[0];
        if (!span || span[1] <= span[0]) continue;
        result += `${out.slice(last, span[0])}${REDACTED}`;
        last = span[1];
        this.count(CUSTOM_KIND);
      }
      if (last > 0) out = result + out.slice(last);
    }
    return out;
  }

  /**
   * Returns a deep copy of `value` in which every value under a secret-looking key (at any depth),
   * the `value` of every `{name, value}` or `{key, value}` pair whose name looks secret
   * (Kubernetes env lists), the `from`/`to` of every `{path, from, to}` whose path looks secret
   * (a diff entry) and every credential inside a string is replaced by {@link REDACTED}. Booleans
   * and empty strings are kept: they reveal nothing and tell whether a secret was set. Arrays of
   * numbers (series points) are shared with `value`, not copied. Keys listed
   * in `verbatim` keep their values as they are, at any depth: not data from a system but
   * hindsight's own (the `redactions` counts, whose kinds look like secret names).
   */
  value<T>(value: T, options: { verbatim?: readonly string[] } = {}): T {
    return this.walk(value, new Set(options.verbatim ?? [])) as T;
  }

  /** Redacts the value at a dotted path (`redis.auth.password`) when any segment of it names a secret. */
  atPath(path: string, value: unknown): unknown {
    return secretPath(path) ? this.all(value) : this.walk(value, NONE);
  }

  /**
   * A copy of `value` in which every secret this redactor found by its key, name or path (in
   * {@link Redactor.value} and {@link Redactor.atPath}) is also removed wherever else it was copied
   * into a string, such as a finding's title quoting a diff. Counted as `secret-key`.
   */
  scrub<T>(value: T): T {
    if (this.known.size === 0) return value;
    // Longest first, so a secret holding a shorter one is removed whole.
    const secrets = [...this.known].sort((a, b) => b.length - a.length);
    const go = (v: unknown): unknown => {
      if (typeof v === 'string') {
        let out = v;
        for (const secret of secrets) {
          if (!out.includes(secret)) continue;
          const parts = out.split(secret);
          this.count('secret-key', parts.length - 1);
          out = parts.join(REDACTED);
        }
        return out;
      }
      if (Array.isArray(v)) return v.map(go);
      if (v === null || typeof v !== 'object') return v;
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, go(x)]));
    };
    return go(value) as T;
  }

  private walk(value: unknown, verbatim: ReadonlySet<string>): unknown {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) {
      // Series points, the bulk of most records, hold nothing to redact: shared, not copied.
      if (value.every((v) => typeof v === 'number')) return value;
      return value.map((v) => this.walk(v, verbatim));
    }
    if (value === null || typeof value !== 'object') return value;
    const obj = value as Record<string, unknown>;
    const named = obj['name'] ?? obj['key'];
    const secretPair = typeof named === 'string' && 'value' in obj && isSecretKey(named);
    const diffPath = typeof obj['path'] === 'string' && secretPath(obj['path']);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      if (verbatim.has(k)) out[k] = v;
      else if (isSecretKey(k)) out[k] = this.all(v);
      else if (secretPair && k === 'value') out[k] = this.all(v);
      else if (diffPath && (k === 'from' || k === 'to')) out[k] = this.all(v);
      else out[k] = this.walk(v, verbatim);
    }
    return out;
  }

  /** Everything under a secret key: each leaf that holds something becomes the marker, counted once. */
  private all(value: unknown): unknown {
    let n = 0;
    const go = (v: unknown): unknown => {
      if (v === null || v === undefined || typeof v === 'boolean') return v;
      if (typeof v === 'string') {
        if (v === '' || v === REDACTED) return v;
        if (this.remember && worthRemembering(v)) this.known.add(v);
        n += 1;
        return REDACTED;
      }
      if (Array.isArray(v)) return v.map(go);
      if (typeof v === 'object')
        return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, go(x)]));
      n += 1;
      return REDACTED;
    };
    const out = go(value);
    if (n > 0) this.count('secret-key');
    return out;
  }
}

/** The secret keeps its quotes (`"a b c"` -> `"[REDACTED]"`); an empty or already redacted value stays. */
function wrapLike(v: string): string {
  for (const q of ['\\"', '"', "'"]) {
    if (v.length >= 2 * q.length && v.startsWith(q) && v.endsWith(q)) {
      const inner = v.slice(q.length, v.length - q.length);
      return inner === '' || inner === REDACTED ? v : `${q}${REDACTED}${q}`;
    }
  }
  return v === REDACTED ? v : REDACTED;
}

function secretPath(path: string): boolean {
  return path.split(/[.[\]/]/).some((seg) => seg.length > 0 && isSecretKey(seg));
}

/**
 * Compiles the user's `--redact-pattern` values: a JavaScript regular expression, or `/source/flags`
 * for flags (`/token-[a-z]+/i`). Throws HINDSIGHT_REDACT_PATTERN naming the pattern and why when one
 * is not a valid expression or matches the empty string (it would redact between every character).
 */
export function compileRedactPatterns(sources: readonly string[], where = '--redact-pattern'): RegExp[] {
  return sources.map((src) => {
    const slashed = /^\/(.+)\/([a-z]*)$/s.exec(src);
    const body = slashed ? (slashed[1] as string) : src;
    const flags = slashed ? (slashed[2] as string) : '';
    if (/[^imsuv]/.test(flags)) {
      throw new HindsightError(
        'HINDSIGHT_REDACT_PATTERN',
        `redaction pattern "${src}" has flags "${flags}"; only i, m, s, u and v are allowed`,
        where,
      );
    }
    let re: RegExp;
    try {
      re = new RegExp(body, flags);
    } catch (err) {
      throw new HindsightError(
        'HINDSIGHT_REDACT_PATTERN',
        `redaction pattern "${src}" is not a valid regular expression: ${(err as Error).message}`,
        where,
      );
    }
    if (re.test('')) {
      throw new HindsightError(
        'HINDSIGHT_REDACT_PATTERN',
        `redaction pattern "${src}" matches the empty string, so it would redact everywhere; make it match at least one character`,
        where,
      );
    }
    return re;
  });
}

// The redactor behind the plain functions: the catalogue alone, its counts unread, remembering
// nothing (it lives as long as the process).
const shared = new Redactor({ remember: false });

/** Redacts credentials inside free text with the catalogue; see {@link Redactor.text}. */
export function redactText(text: string): string {
  return shared.text(text);
}

/** A deep copy of `value` with every secret replaced; see {@link Redactor.value}. */
export function redactValue<T>(value: T): T {
  return shared.value(value);
}

/** Redacts the value at a dotted path when any segment of it names a secret; see {@link Redactor.atPath}. */
export function redactAtPath(path: string, value: unknown): unknown {
  return shared.atPath(path, value);
}
