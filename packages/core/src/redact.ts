/** The fixed marker that replaces every secret hindsight writes. */
export const REDACTED = '[REDACTED]';

// Words that mark a key as secret. Keys are split into words (camelCase, snake_case, kebab, dots), so
// `redisPassword` and `session-secret` match while `author`, `keyspace` and `evicted_keys` do not.
const SECRET_WORDS = new Set([
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'secrets',
  'token',
  'tokens',
  'key',
  'apikey',
  'credential',
  'credentials',
  'auth',
  'authorization',
  'dsn',
  'cookie',
  'privatekey',
  'cert',
  'certificate',
]);

function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/** True when a key (an object key, an env var name, a header) names a secret. */
export function isSecretKey(key: string): boolean {
  const ws = words(key);
  if (ws.some((w) => SECRET_WORDS.has(w))) return true;
  // "apiKey", "privateKey" split as ["api","key"]; also the joined spelling "apikey".
  return SECRET_WORDS.has(ws.join(''));
}

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/:@]*):([^\s/@]*)@/gi;
const URL_USER_ONLY = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/:@]+)@/gi;
const INLINE_SECRET =
  /\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|authorization)(["']?\s*[=:]\s*["']?)(?!\[REDACTED\])([^\s"',;&]+)/gi;
const QUERY_SECRET =
  /([?&](?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|auth)=)([^&\s#]+)/gi;

/**
 * Redacts credentials inside free text: the password of `scheme://user:pass@host` (and a bare
 * `scheme://token@host`), secret query parameters and `password=...` / `token: ...` pairs.
 */
export function redactText(text: string): string {
  if (text.length === 0) return text;
  let out = text;
  if (out.includes('://')) {
    out = out.replace(URL_CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`);
    out = out.replace(URL_USER_ONLY, (_m, scheme: string) => `${scheme}${REDACTED}@`);
  }
  if (out.includes('=') || out.includes(':')) {
    out = out.replace(QUERY_SECRET, (_m, head: string) => `${head}${REDACTED}`);
    out = out.replace(INLINE_SECRET, (_m, key: string, sep: string) => `${key}${sep}${REDACTED}`);
  }
  return out;
}

function redactAll(value: unknown): unknown {
  if (value === null || value === undefined || typeof value === 'boolean') return value;
  if (typeof value === 'string') return value === '' ? value : REDACTED;
  if (typeof value === 'number' || typeof value === 'bigint') return REDACTED;
  if (Array.isArray(value)) return value.map(redactAll);
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redactAll(v)]),
    );
  }
  return REDACTED;
}

/**
 * Returns a deep copy of `value` in which every value under a secret-looking key (at any depth),
 * every `{name, value}` pair whose name looks secret (Kubernetes env lists), and every credential
 * inside a string is replaced by {@link REDACTED}. Booleans and empty strings are kept: they
 * reveal nothing and tell whether a secret was set.
 */
export function redactValue<T>(value: T): T {
  return redact(value) as T;
}

function redact(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const namedSecret = typeof obj['name'] === 'string' && isSecretKey(obj['name']);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (isSecretKey(k)) out[k] = redactAll(v);
    else if (namedSecret && k === 'value') out[k] = redactAll(v);
    else out[k] = redact(v);
  }
  return out;
}

/** Redacts the value at a dotted path (`redis.auth.password`) when any segment of it names a secret. */
export function redactAtPath(path: string, value: unknown): unknown {
  if (path.split(/[.[\]]/).some((seg) => seg.length > 0 && isSecretKey(seg))) return redactAll(value);
  return redact(value);
}
