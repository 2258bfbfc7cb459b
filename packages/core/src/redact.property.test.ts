import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Redactor, isSecretKey, redactText } from './index.js';

// Fixed seed and a bounded count: the same cases on every run and in CI; a failure prints its
// counterexample, which then belongs in redact.test.ts.
const RUNS = { seed: 42, numRuns: 300 };

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const B64URL = `${ALNUM}_-`;

const chars = (alphabet: string, min: number, max: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...alphabet.split('')), { minLength: min, maxLength: max }).map((a) => a.join(''));

/** A secret of one kind: the value that must not survive, and the text that carries it. */
interface Planted {
  kind: string;
  secret: string;
  text: string;
}

const plant = (
  kind: string,
  secret: fc.Arbitrary<string>,
  wrap: (s: string) => string,
): fc.Arbitrary<Planted> => secret.map((s) => ({ kind, secret: s, text: wrap(s) }));

// Secret values with spaces and punctuation, as a quoted value may hold.
const quotedValue = chars(`${ALNUM} !#$%()*+,./:;<=>?@[]^_{|}~-`, 6, 24).filter((s) => s.trim().length >= 4);
const secretKeys = fc.constantFrom(
  'REDIS_PASSWORD',
  'PGPASSWORD',
  'REDIS_PASS',
  'DB_PASS',
  'SECRETKEY',
  'client_secret',
  'aws_secret_access_key',
  'dbPassword',
  'x-api-key',
  'htpasswd',
  'GITHUB_TOKEN',
);

// A token found by its format alone: the whole token is the secret.
const token = (kind: string, value: fc.Arbitrary<string>): fc.Arbitrary<Planted> =>
  value.map((v) => ({ kind, secret: v, text: v }));

const kinds: Array<fc.Arbitrary<Planted>> = [
  token(
    'aws-access-key',
    chars(UPPER, 16, 16).map((s) => `AKIA${s}`),
  ),
  token(
    'jwt',
    fc
      .tuple(chars(B64URL, 10, 40), chars(B64URL, 10, 80), chars(B64URL, 0, 43))
      .map((t) => `eyJ${t.join('.')}`),
  ),
  token(
    'github-token',
    chars(ALNUM, 36, 36).map((s) => `ghp_${s}`),
  ),
  token(
    'gitlab-token',
    chars(B64URL, 20, 20).map((s) => `glpat-${s}`),
  ),
  token(
    'slack-token',
    chars(ALNUM, 24, 24).map((s) => `xoxb-1234567890-${s}`),
  ),
  token(
    'stripe-key',
    chars(ALNUM, 24, 24).map((s) => `sk_live_${s}`),
  ),
  token(
    'gcp-api-key',
    chars(B64URL, 35, 35).map((s) => `AIza${s}`),
  ),
  plant(
    'private-key',
    chars(`${ALNUM}+/`, 40, 120),
    (s) => `-----BEGIN PRIVATE KEY-----\n${s}\n-----END PRIVATE KEY-----`,
  ),
  plant('authorization', chars(ALNUM, 12, 40), (s) => `Authorization: Bearer ${s}`),
  plant('authorization', chars(ALNUM, 8, 40), (s) => `authorization: Basic ${s}==`),
  plant('cookie', chars(ALNUM, 8, 30), (s) => `Cookie: session=${s}; theme=dark`),
  plant('url-credentials', chars(ALNUM, 6, 20), (s) => `postgres://shop:${s}@db.internal:5432/shop`),
  plant(
    'azure-key',
    chars(`${ALNUM}+/`, 40, 88),
    (s) => `AccountName=a;AccountKey=${s}==;EndpointSuffix=core.windows.net`,
  ),
  fc
    .tuple(secretKeys, chars(ALNUM, 6, 30), fc.constantFrom('=', ': ', ' = '))
    .map(([k, s, sep]) => ({ kind: 'secret-key', secret: s, text: `${k}${sep}${s}` })),
  fc
    .tuple(secretKeys, quotedValue, fc.constantFrom('"', "'"))
    .map(([k, s, q]) => ({ kind: 'secret-key', secret: s, text: `${k} = ${q}${s}${q}` })),
  fc
    .tuple(
      secretKeys,
      quotedValue.map((s) => s.replace(/"/g, '')),
    )
    .map(([k, s]) => ({ kind: 'secret-key', secret: s, text: JSON.stringify({ [k]: s }) })),
  // The same pair inside a JSON string (a JSON log line that quotes a JSON body).
  fc
    .tuple(secretKeys, chars(ALNUM, 6, 30))
    .map(([k, s]) => ({ kind: 'secret-key', secret: s, text: JSON.stringify(JSON.stringify({ [k]: s })) })),
  // An env list printed as text, in YAML flow style or as JSON.
  fc.tuple(secretKeys, chars(ALNUM, 6, 30), fc.boolean()).map(([k, s, json]) => ({
    kind: 'secret-key',
    secret: s,
    text: json ? JSON.stringify({ name: k, value: s }) : `{name: ${k}, value: ${s}}`,
  })),
  // Given without a separator: a flag and its value, Redis's directive, SQL.
  fc
    .tuple(fc.constantFrom('--password ', '--requirepass ', 'masterauth ', "PASSWORD '"), chars(ALNUM, 6, 30))
    .map(([head, s]) => ({
      kind: 'secret-key',
      secret: s,
      text: `${head}${s}${head.endsWith("'") ? "'" : ''}`,
    })),
  token(
    'aws-access-key',
    chars(UPPER, 16, 16).map((s) => `ASIA${s}`),
  ),
  token(
    'github-token',
    chars(`${ALNUM}_`, 82, 82).map((s) => `github_pat_${s}`),
  ),
  plant('cookie', chars(ALNUM, 8, 30), (s) => `Set-Cookie: sid=${s}; Path=/; HttpOnly`),
  plant('url-credentials', chars(`${ALNUM}@!$`, 6, 20), (s) => `redis://:${s}@10.0.0.7:6379/0`),
];

const planted = fc.oneof(...kinds);

// Ordinary log text around the secret: words, numbers, punctuation, harmless key=value pairs.
const word = fc.oneof(
  chars('abcdefghijklmnopqrstuvwxyz', 1, 10),
  fc.integer({ min: 0, max: 100000 }).map(String),
  fc.constantFrom(
    'GET',
    '/api/cart',
    'HTTP/1.1',
    '200',
    'INFO',
    'level=info',
    'msg="checkout done"',
    '->',
    '|',
  ),
  fc.constantFrom(
    'author=bob',
    'evicted_keys:0',
    'keyspace_hits=10',
    'passed=3',
    'tokenizer=bpe',
    'monkey',
    'keyboard',
  ),
);
const filler = fc.array(word, { maxLength: 12 }).map((ws) => ws.join(' '));

describe('redaction properties (fast-check, fixed seed)', () => {
  it('never lets a planted secret of any kind survive, whatever the text around it', () => {
    fc.assert(
      fc.property(filler, planted, filler, (before, p, after) => {
        const r = new Redactor();
        const out = r.text(`${before} ${p.text} ${after}`);
        expect(out).not.toContain(p.secret);
        expect(Object.keys(r.counts())).toContain(p.kind);
      }),
      RUNS,
    );
  });

  it('never lets a secret survive in a value tree: under a secret key, an env pair or in a string', () => {
    fc.assert(
      fc.property(secretKeys, chars(ALNUM, 6, 30), planted, (key, secret, p) => {
        const tree = {
          env: [{ name: key, value: secret }],
          nested: { [key]: { deeper: [secret] } },
          text: `x ${p.text} y`,
        };
        const out = JSON.stringify(new Redactor().value(tree));
        expect(out).not.toContain(secret);
        expect(out).not.toContain(p.secret);
      }),
      RUNS,
    );
  });

  it('is idempotent: redacting redacted text changes nothing and counts nothing', () => {
    fc.assert(
      fc.property(filler, fc.array(planted, { maxLength: 3 }), filler, (before, ps, after) => {
        const r = new Redactor();
        const once = r.text([before, ...ps.map((p) => p.text), after].join(' '));
        const counted = r.counts();
        expect(r.text(once)).toBe(once);
        expect(r.counts()).toEqual(counted);
      }),
      RUNS,
    );
  });

  it('redacts the value of every key isSecretKey accepts, in every case style, and no other', () => {
    const piece = fc.constantFrom(
      'password',
      'pass',
      'pwd',
      'secret',
      'token',
      'key',
      'api',
      'auth',
      'cred',
      'session',
      'id',
      'redis',
      'db',
      'pg',
      'client',
      'access',
      'author',
      'keyspace',
      'evicted',
      'keys',
      'passed',
      'max',
    );
    const key = fc
      .tuple(
        fc.array(piece, { minLength: 1, maxLength: 3 }),
        fc.constantFrom('_', '-', '.', '', 'camel', 'UPPER'),
      )
      .map(([ps, style]) => {
        if (style === 'camel')
          return ps.map((p, i) => (i === 0 ? p : p[0]?.toUpperCase() + p.slice(1))).join('');
        if (style === 'UPPER') return ps.join('_').toUpperCase();
        return ps.join(style);
      });
    fc.assert(
      fc.property(key, fc.constantFrom('=', ': ', '="'), (k, sep) => {
        const text = `${k}${sep}Val9xq${sep.endsWith('"') ? '"' : ''} next`;
        const out = redactText(text);
        expect(out.includes('Val9xq'), `${text} -> ${out}`).toBe(!isSecretKey(k));
      }),
      RUNS,
    );
  });

  it('leaves text without secrets unchanged', () => {
    fc.assert(
      fc.property(filler, (text) => {
        expect(redactText(text)).toBe(text);
      }),
      RUNS,
    );
  });
});
