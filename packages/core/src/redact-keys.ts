// Which key names name a secret: one rule, used for object keys, env var names, header names,
// `{name, value}` pairs, diff paths and the `key=value` pairs found in free text.

// A word that is a secret by itself, once a key is split into words (camelCase, snake_case,
// kebab-case, dots). Whole words only: `keys` (evicted_keys), `author`, `passed`, `tokenizer` are
// not secrets.
const SECRET_WORDS = new Set([
  'password',
  'passwords',
  'passwd',
  'pass',
  'pwd',
  'pw',
  'passphrase',
  'secret',
  'secrets',
  'token',
  'tokens',
  'key',
  'credential',
  'credentials',
  'cred',
  'creds',
  'auth',
  'authorization',
  'dsn',
  'cookie',
  'cookies',
  'sig',
  'signature',
  'cert',
  'certificate',
]);

// Stems that make a secret wherever they occur inside a word: the run-together spellings that
// cannot be split (PGPASSWORD, SECRETKEY, htpasswd, clientsecret). They are long enough that no
// ordinary word holds them by chance.
const SECRET_STEMS = ['password', 'passwd', 'passphrase', 'secret', 'credential'];

// Run-together compounds ending in a weak word: `key` and `token` are secrets as words but too
// short to match inside one (monkey, keyboard, turkey), so their compounds are listed.
const SECRET_SUFFIXES = ['token', 'tokens'];
const SECRET_COMPOUNDS = new Set([
  'apikey',
  'accesskey',
  'accountkey',
  'authkey',
  'privatekey',
  'signingkey',
  'encryptionkey',
  'masterkey',
  'licensekey',
  'sshkey',
  'sessionid',
  'sessionkey',
  'connectionstring',
  // Redis's own names for its password and the one a replica gives its master.
  'requirepass',
  'masterauth',
]);

// A key whose last word names where or what a secret is, not the secret itself: `auth_url`,
// `secretName` (a Kubernetes reference), `ts-auth-service` (a component named in a `name: text`
// line), `token_ttl`, `password_file`. Its value is an address, a name, a setting or a path.
const HARMLESS_HEADS = new Set([
  'service',
  'services',
  'svc',
  'server',
  'host',
  'hostname',
  'url',
  'uri',
  'endpoint',
  'port',
  'type',
  'method',
  'mode',
  'enabled',
  'provider',
  'name',
  'ref',
  'file',
  'path',
  'ttl',
  'timeout',
]);

/** Splits a key into lower-case words: `dbPassword` -> db, password; `AWSSecretKey` -> aws, secret, key. */
function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

function secretWord(w: string): boolean {
  if (SECRET_WORDS.has(w) || SECRET_COMPOUNDS.has(w)) return true;
  if (SECRET_STEMS.some((s) => w.includes(s))) return true;
  // `xsrftoken`, `authtoken`, but not `tokenizer`.
  return w.length > 5 && SECRET_SUFFIXES.some((s) => w.endsWith(s));
}

/**
 * True when a key (an object key, an env var name, a header, a dotted path segment) names a
 * secret, in any case style: `REDIS_PASS`, `PGPASSWORD`, `SECRETKEY`, `htpasswd`, `dbPassword`,
 * `client_secret`, `aws_secret_access_key`, `x-api-key`. Harmless keys stay harmless: `author`,
 * `keyspace`, `evicted_keys`, `passed`, `tokenizer`, `monkey`, `keyboard`.
 */
export function isSecretKey(key: string): boolean {
  let known = keyVerdicts.get(key);
  if (known === undefined) {
    // Object keys repeat (every finding has an `id`, a `title`...): a report of 100,000 findings
    // spent most of its redaction splitting the same few keys into words.
    if (keyVerdicts.size >= MAX_KEY_VERDICTS) keyVerdicts.clear();
    keyVerdicts.set(key, (known = judgeKey(key)));
  }
  return known;
}

const MAX_KEY_VERDICTS = 10_000;
const keyVerdicts = new Map<string, boolean>();

function judgeKey(key: string): boolean {
  const ws = words(key);
  if (ws.length > 1 && HARMLESS_HEADS.has(ws[ws.length - 1]!) && !secretWord(ws[ws.length - 1]!)) {
    return false;
  }
  if (ws.some(secretWord)) return true;
  // "api_key" splits as api, key (already a secret); "session_id" joins to the compound sessionid.
  return ws.length > 1 && SECRET_COMPOUNDS.has(ws.join(''));
}

/**
 * Stems one of which every key {@link isSecretKey} accepts holds (case aside): the cheap tests of
 * the redactor look for these before anything dearer. A regular-expression alternation.
 */
export const SECRET_KEY_STEMS = 'pass|pw|secret|token|key|cred|auth|dsn|cookie|sig|cert|session|connection';
