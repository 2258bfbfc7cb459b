import { SECRET_KEY_STEMS, isSecretKey } from './redact-keys.js';

/** The fixed marker that replaces every secret hindsight writes. */
export const REDACTED = '[REDACTED]';

/**
 * One kind of secret found in free text. `pattern` is global; its named group `v` is the secret
 * (replaced by {@link REDACTED}), and the text before it in the match (group `pre`, a key name or a
 * header) is kept, so a report still says what was there. `accept`, when given, vets a match (the
 * key-name rule); a match it refuses is left as it was.
 */
export interface SecretRule {
  /** The name counted in a report's `redactions`: `jwt`, `aws-access-key`, ... */
  readonly kind: string;
  readonly description: string;
  readonly pattern: RegExp;
  /** A cheap test the text must pass for `pattern` to be run at all (most lines fail it). */
  readonly hint?: RegExp;
  readonly accept?: (groups: Record<string, string | undefined>) => boolean;
}

// A value that is already the marker is never matched again: redaction is idempotent and counts once.
const NOT_DONE = String.raw`(?!\[REDACTED\])`;
// token68 (RFC 7235): the alphabet of a bearer or basic credential.
const TOKEN68 = String.raw`[A-Za-z0-9._~+/-]+=*`;

// The documented prefixes of AWS access key ids (AKIA long-term, ASIA temporary, the rest for other
// IAM principals); the 16 characters after them are upper-case letters and digits.
const AWS_PREFIXES = 'AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA';

// The HTTP auth schemes a header value starts with: the credential is what follows.
const SCHEMES = 'bearer|basic|token|digest|negotiate|ntlm|apikey|dpop|aws4-hmac-sha256';

// A header value whose credential is already gone: the scheme word alone, or with the marker.
const SCHEME_WORD = new RegExp(String.raw`^(?:\\?["'])?(?:${SCHEMES})(?:\s+\[REDACTED\])?(?:\\?["'])?$`, 'i');

// A secret-looking stem followed, within a key's length, by a separator: the cheap test of the
// key=value rule (a line that merely says "session" or "key" is not scanned further).
const KEY_BEFORE_SEPARATOR = new RegExp(
  String.raw`(?:${SECRET_KEY_STEMS})[\w.-]{0,60}(?:\\?["'])?\s*[:=]`,
  'i',
);

// An optional quote around a key, plain or JSON-escaped inside a JSON string.
const Q = String.raw`(?:\\?["'])?`;

// A value after `key=` / `key: `: quoted (with escapes, or JSON-escaped quotes inside a JSON string)
// or bare up to a separator. Quoted values keep their spaces: `password = "a b c"` loses all of it.
const VALUE = [
  String.raw`\\"(?:(?!\\").)*\\"`,
  String.raw`"(?:[^"\\\r\n]|\\.)*"`,
  String.raw`'[^'\r\n]*'`,
  String.raw`[^\s,;&"'\x60<>}]+`,
].join('|');

/**
 * The catalogue, in the order it runs: precise formats first (their kind is counted), then the
 * header and key-name rules that catch what has no recognisable format. Every prefix below is the
 * one its issuer documents for the credential.
 */
export const secretRules: readonly SecretRule[] = [
  {
    kind: 'private-key',
    description: 'PEM private key blocks (RSA, EC, OpenSSH, PKCS#8, PGP): the body up to the END line',
    pattern: new RegExp(
      String.raw`(?<pre>-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)(?<v>${NOT_DONE}(?!-----END)[\s\S]+?)(?=-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)`,
      'g',
    ),
    hint: /PRIVATE KEY/,
  },
  {
    kind: 'jwt',
    description: 'JSON Web Tokens: three base64url parts, the first a JSON header (eyJ...)',
    pattern: /(?<![\w-])(?<v>eyJ[\w-]{8,}\.[\w-]{4,}\.[\w-]*)/g,
    hint: /eyJ/,
  },
  {
    kind: 'aws-access-key',
    description: 'AWS access key ids (AKIA, ASIA and the other documented 4-letter prefixes)',
    pattern: new RegExp(String.raw`(?<![A-Z0-9])(?<v>(?:${AWS_PREFIXES})[A-Z0-9]{16})(?![A-Z0-9])`, 'g'),
    hint: new RegExp(AWS_PREFIXES),
  },
  {
    kind: 'github-token',
    description: 'GitHub tokens: ghp_, gho_, ghu_, ghs_, ghr_ and fine-grained github_pat_',
    pattern: /(?<![\w])(?<v>gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{40,255})/g,
    hint: /gh[pousr]_|github_pat_/,
  },
  {
    kind: 'gitlab-token',
    description: 'GitLab tokens: personal (glpat-), deploy (gldt-), runner (glrt-), trigger (glptt-)',
    pattern: /(?<![\w-])(?<v>gl(?:pat|dt|rt|ptt|soat|cbt|agent)-[A-Za-z0-9_-]{20,})/g,
    hint: /gl[a-z]+-/,
  },
  {
    kind: 'slack-token',
    description: 'Slack tokens (xoxb-, xoxp-, xoxa-, xoxr-, xoxe-, xoxs-) and incoming webhook URLs',
    pattern:
      /(?<![\w-])(?<v>xox[abeoprs]-[A-Za-z0-9-]{10,}|https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]{20,})/g,
    hint: /xox|hooks\.slack/,
  },
  {
    kind: 'stripe-key',
    description:
      'Stripe secret and restricted keys (sk_live_, sk_test_, rk_...) and webhook secrets (whsec_)',
    pattern: /(?<![\w])(?<v>(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{24,})/g,
    hint: /_live_|_test_|whsec_/,
  },
  {
    kind: 'gcp-api-key',
    description: 'Google Cloud API keys (AIza followed by 35 characters)',
    pattern: /(?<![\w-])(?<v>AIza[0-9A-Za-z_-]{35})(?![\w-])/g,
    hint: /AIza/,
  },
  {
    kind: 'api-token',
    description: 'other prefixed API tokens: npm (npm_), OpenAI-style (sk-...), SendGrid (SG.)',
    pattern:
      /(?<![\w-])(?<v>npm_[A-Za-z0-9]{36}|sk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,}|SG\.[\w-]{22}\.[\w-]{43})(?![\w-])/g,
    hint: /npm_|sk-|SG\./,
  },
  {
    kind: 'azure-key',
    description: 'Azure storage and Service Bus keys in connection strings, and SAS signatures',
    pattern: new RegExp(
      String.raw`(?<pre>\b(?:AccountKey|SharedAccessKey|SharedAccessSignature)=|[?&;]sig=)(?<v>${NOT_DONE}[^\s;&"'<>]+)`,
      'gi',
    ),
    hint: /accountkey|sharedaccess|sig=/i,
  },
  {
    kind: 'authorization',
    description: 'the credential of an Authorization header (Bearer, Basic, ...) and any Bearer token',
    pattern: new RegExp(
      String.raw`(?<pre>\b(?:proxy-)?authori[sz]ation(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:(?:${SCHEMES})\s+)?|\bbearer\s+(?=[A-Za-z0-9._~+/-]{12,}))(?<v>${NOT_DONE}(?!(?:${SCHEMES})\s)${TOKEN68})`,
      'gi',
    ),
    hint: /authori[sz]ation|bearer/i,
  },
  {
    kind: 'cookie',
    description: 'Cookie and Set-Cookie header values, whole (every name=value in them)',
    pattern: new RegExp(
      String.raw`(?<pre>\b(?:set-)?cookie(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?)(?<v>${NOT_DONE}[^\s"'\\][^"'\\\r\n]*)`,
      'gi',
    ),
    hint: /cookie/i,
  },
  {
    kind: 'secret-key',
    description:
      "a secret given without `=` or `:`: `--password VALUE` flags, Redis `requirepass`/`masterauth` directives, SQL `PASSWORD '...'` and `IDENTIFIED BY '...'`",
    pattern: new RegExp(
      String.raw`(?<pre>(?<![\w-])--(?<key>[A-Za-z][\w-]{0,60})\s+(?!-)|\b(?:requirepass|masterauth)\s+|\b(?:password|identified\s+by)\s+(?=['"]))(?<v>${NOT_DONE}(?:${VALUE}))`,
      'gi',
    ),
    hint: new RegExp(
      String.raw`--[\w-]*(?:${SECRET_KEY_STEMS})|requirepass|masterauth|(?:password|identified\s+by)\s+['"]`,
      'i',
    ),
    accept: (g) => g['key'] === undefined || isSecretKey(g['key']),
  },
  {
    kind: 'url-credentials',
    description: 'the password (or lone token) in scheme://user:password@host',
    pattern: new RegExp(
      String.raw`(?<pre>\b[a-z][a-z0-9+.-]*:\/\/(?:[^\s/:@]*:)?)(?<v>(?!:)(?:(?!\[REDACTED\])[^\s/])+?)(?=@[^\s/@]*(?:[/\s?#]|$))`,
      'gi',
    ),
    hint: /:\/\/[^\s/]*@/,
  },
  {
    kind: 'secret-key',
    description:
      'the value of a {name: X, value: Y} pair in text (an env list printed) whose name X names a secret',
    pattern: new RegExp(
      String.raw`(?<pre>(?<![\w-])${Q}name${Q}\s*[:=]\s*${Q}(?<key>[A-Za-z_][\w.-]{0,80})${Q}\s*,\s*${Q}value${Q}\s*[:=]\s*)(?<v>${NOT_DONE}(?:${VALUE}))`,
      'gi',
    ),
    accept: (g) => g['key'] !== undefined && isSecretKey(g['key']),
    hint: /value/i,
  },
  {
    kind: 'secret-key',
    description: 'the value of a key=value, key: value or "key": "value" pair whose key names a secret',
    pattern: new RegExp(
      // Anchored on the separator, the key read behind it: a scan stops only at `:` and `=`, not at
      // every word (5x faster on Loghub, bench/redact.ts).
      String.raw`(?<pre>[:=](?<=(?<![\w.-])(?:--?)?${Q}(?<key>[A-Za-z_][\w.-]{0,80})${Q}\s*[:=])\s*)(?<v>${NOT_DONE}(?:${VALUE}))`,
      'gi',
    ),
    // `Authorization: Bearer x` leaves the scheme word: the authorization rule took the credential.
    accept: (g) =>
      g['key'] !== undefined &&
      isSecretKey(g['key']) &&
      !(/auth/i.test(g['key']) && SCHEME_WORD.test(g['v'] ?? '')),
    hint: KEY_BEFORE_SEPARATOR,
  },
];

/**
 * A cheap test, run first on every line: true when the text holds anything a rule could match. A
 * log line without any of these (most lines) costs one scan and no allocation.
 */
export const CANDIDATE = new RegExp(
  String.raw`${SECRET_KEY_STEMS}|bearer|private|identified\s+by|${AWS_PREFIXES}|eyj|aiza|gh[pousr]_|github_pat|gl[a-z]+-|xox|sk_|rk_|sk-|whsec|npm_|sg\.|:\/\/|hooks\.`,
  'i',
);
