import { describe, expect, it } from 'vitest';
import {
  HindsightError,
  REDACTED,
  Redactor,
  compileRedactPatterns,
  isSecretKey,
  redactAtPath,
  redactText,
  redactValue,
} from './index.js';

const planted = ['hunter2', 's3cr3t-token', 'pg-pass-123', 'AKIAEXAMPLE', 'cookie-signing-key', 'rpass'];

function leaks(output: unknown): string[] {
  const text = JSON.stringify(output);
  return planted.filter((s) => text.includes(s));
}

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';

describe('redaction', () => {
  it('removes every secret planted in Helm-style values, at any depth', () => {
    const values = {
      redis: { auth: { password: 'rpass', enabled: true }, replica: { replicaCount: 6 } },
      postgresql: { auth: { username: 'shop', postgresPassword: 'pg-pass-123' } },
      shop: { sessionSecret: 'cookie-signing-key', session: { readFrom: 'replicas' } },
      aws: { accessKeyId: 'AKIAEXAMPLE', apiKey: 's3cr3t-token' },
      database: { url: 'postgres://shop:hunter2@db:5432/shop' },
    };
    const out = redactValue(values);
    expect(leaks(out)).toEqual([]);
    expect(out.redis.replica.replicaCount).toBe(6);
    expect(out.redis.auth.enabled).toBe(true);
    expect(out.shop.session.readFrom).toBe('replicas');
    // Everything under a secret key goes, even a user name: erring on the safe side.
    expect(out.postgresql.auth.username).toBe(REDACTED);
    expect(out.database.url).toBe(`postgres://shop:${REDACTED}@db:5432/shop`);
  });

  it('removes secret values from Kubernetes env lists by their name, in any case style', () => {
    const env = [
      { name: 'REDIS_PASSWORD', value: 'rpass' },
      { name: 'PGPASSWORD', value: 'pg-pass-123' },
      { name: 'REDIS_PASS', value: 'hunter2' },
      { name: 'SESSION_SECRET', value: 'cookie-signing-key' },
      { name: 'DATABASE_URL', value: 'postgresql://u:hunter2@pg/shop?sslmode=disable' },
      { name: 'SESSION_READ_FROM', value: 'replicas' },
      { name: 'PGPASSWORD', valueFrom: { secretKeyRef: { name: 'shop', key: 'postgres-password' } } },
    ];
    const out = redactValue(env);
    expect(leaks(out)).toEqual([]);
    expect(out[5]).toEqual({ name: 'SESSION_READ_FROM', value: 'replicas' });
  });

  it('redacts the credential of an Authorization header, not only the scheme word', () => {
    expect(redactText(`Authorization: Bearer ${JWT}`)).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(redactText('authorization: Basic dXNlcjpodW50ZXIy')).toBe(`authorization: Basic ${REDACTED}`);
    expect(redactText('"Authorization":"Token abcdef123456"')).toBe(`"Authorization":"Token ${REDACTED}"`);
    expect(redactText('Authorization: abc123xyz')).toBe(`Authorization: ${REDACTED}`);
    expect(redactText('sent bearer 0123456789abcdefXYZ to upstream')).toBe(
      `sent bearer ${REDACTED} to upstream`,
    );
  });

  it('redacts env-style, JSON, query and flag assignments whose key names a secret', () => {
    const cases: Array<[string, string]> = [
      ['REDIS_PASSWORD=hunter2 next', `REDIS_PASSWORD=${REDACTED} next`],
      ['PGPASSWORD=hunter2', `PGPASSWORD=${REDACTED}`],
      ['{"dbPassword": "hunter2", "user": "bob"}', `{"dbPassword": "${REDACTED}", "user": "bob"}`],
      [
        'client_secret=hunter2&grant_type=client_credentials',
        `client_secret=${REDACTED}&grant_type=client_credentials`,
      ],
      ['aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY', `aws_secret_access_key = ${REDACTED}`],
      ['password = "a b c" then', `password = "${REDACTED}" then`],
      ["password: 'a b c'", `password: '${REDACTED}'`],
      ['{\\"password\\":\\"a b\\"}', `{\\"password\\":\\"${REDACTED}\\"}`],
      ['--db-password=hunter2 --verbose', `--db-password=${REDACTED} --verbose`],
      ['GET /cb?user=a&token=hunter2&x=1', `GET /cb?user=a&token=${REDACTED}&x=1`],
      ['x-api-key: hunter2', `x-api-key: ${REDACTED}`],
      [
        'redis-server --requirepass hunter2 --port 6380',
        `redis-server --requirepass ${REDACTED} --port 6380`,
      ],
      ['masterauth hunter2', `masterauth ${REDACTED}`],
      ['pg_dump --password hunter2 --verbose', `pg_dump --password ${REDACTED} --verbose`],
      ["ALTER ROLE shop WITH PASSWORD 'hunter2'", `ALTER ROLE shop WITH PASSWORD '${REDACTED}'`],
      ["CREATE USER u IDENTIFIED BY 'hunter2';", `CREATE USER u IDENTIFIED BY '${REDACTED}';`],
      ['--no-auth --verbose --token-count 3', `--no-auth --verbose --token-count ${REDACTED}`],
    ];
    for (const [input, expected] of cases) expect(redactText(input), input).toBe(expected);
  });

  it('redacts cookies, connection strings and URL passwords whole', () => {
    expect(redactText('Cookie: session=abc123; theme=dark')).toBe(`Cookie: ${REDACTED}`);
    expect(redactText('Set-Cookie: sid=xyz; Path=/; HttpOnly')).toBe(`Set-Cookie: ${REDACTED}`);
    expect(redactText('connecting to redis://:rpass@10.0.0.1:6379/0')).toBe(
      `connecting to redis://:${REDACTED}@10.0.0.1:6379/0`,
    );
    // A password holding an @ is cut at the last @ before the host, not the first.
    expect(redactText('postgres://shop:p@ss@db/shop')).toBe(`postgres://shop:${REDACTED}@db/shop`);
    expect(redactText('https://ghp_s3cr3t-token@github.example/x')).not.toContain('s3cr3t-token');
    expect(
      redactText(
        'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=ab+c/d==;EndpointSuffix=core.windows.net',
      ),
    ).toBe(
      `DefaultEndpointsProtocol=https;AccountName=a;AccountKey=${REDACTED};EndpointSuffix=core.windows.net`,
    );
  });

  it('finds tokens by their documented formats anywhere in text, and counts each kind', () => {
    const r = new Redactor();
    const text = [
      'key AKIAIOSFODNN7EXAMPLE in use',
      `jwt ${JWT}`,
      'gh ghp_0123456789abcdefghijklmnopqrstuvwxyz',
      'gl glpat-0123456789abcdefghij',
      'slack xoxb-123456789012-abcdefghijkl',
      'stripe sk_live_0123456789abcdefghij',
      'google AIzaSyA1234567890abcdefghijklmnopqrstuv',
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----',
    ].join('\n');
    const out = r.text(text);
    for (const secret of [
      'AKIAIOSFODNN7EXAMPLE',
      JWT,
      'ghp_',
      'glpat-',
      'xoxb-',
      'sk_live_',
      'AIzaSy',
      'b3BlbnNz',
    ])
      expect(out, secret).not.toContain(secret);
    expect(out).toContain('-----END OPENSSH PRIVATE KEY-----');
    expect(r.counts()).toEqual({
      'aws-access-key': 1,
      'gcp-api-key': 1,
      'github-token': 1,
      'gitlab-token': 1,
      jwt: 1,
      'private-key': 1,
      'slack-token': 1,
      'stripe-key': 1,
    });
    // Idempotent: a second pass changes nothing and counts nothing.
    expect(r.text(out)).toBe(out);
    expect(Object.values(r.counts()).reduce((a, b) => a + b, 0)).toBe(8);
  });

  it('leaves text without secrets as it is', () => {
    for (const line of [
      'evicted_keys:0 keyspace_hits:10 author: bob passed: 3',
      'GET /index.html HTTP/1.1 200 1234 "Mozilla/5.0"',
      'tokenizer=bpe keyboard=us monkey=1',
      'redis://10.0.0.1:6379/0 is up',
    ])
      expect(redactText(line), line).toBe(line);
  });

  it('scrubs copies of a secret found by its key, but not the ordinary words under such a key', () => {
    const r = new Redactor();
    const diff = r.value([
      { path: 'redis.auth.password', to: 'Hunter2-pass' },
      { path: 'postgresql.auth.username', to: 'shop' },
    ]);
    const title = r.scrub('helm shop revision 6: redis.auth.password: (none) -> Hunter2-pass');
    expect(JSON.stringify(diff)).not.toContain('Hunter2-pass');
    expect(title).toBe(`helm shop revision 6: redis.auth.password: (none) -> ${REDACTED}`);
  });

  it('redacts a diff value by its path', () => {
    expect(redactAtPath('redis.auth.password', 'rpass')).toBe(REDACTED);
    expect(redactAtPath('shop.env[3].PGPASSWORD', 'x')).toBe(REDACTED);
    expect(redactAtPath('redis.replica.replicaCount', 6)).toBe(6);
  });

  it('tells secret key names in every case style from harmless ones', () => {
    for (const k of [
      'password',
      'REDIS_PASSWORD',
      'REDIS_PASS',
      'DB_PASS',
      'SECRETKEY',
      'htpasswd',
      'PGPASSWORD',
      'dbPassword',
      'client_secret',
      'aws_secret_access_key',
      'AWSSecretAccessKey',
      'x-api-key',
      'apiKey',
      'api-key',
      'auth',
      'sessionSecret',
      'session_id',
      'dsn',
      'Authorization',
      'GITHUB_TOKEN',
      'csrftoken',
    ]) {
      expect(isSecretKey(k), k).toBe(true);
    }
    // `tokenizer` names a text splitter, not a token: a word is judged whole.
    for (const k of [
      'author',
      'keyspace',
      'evicted_keys',
      'replicaCount',
      'monkey',
      'keyboard',
      'tokenizer',
      'passed',
      'bypass',
      // The last word says what the value is: an address, a name, a setting, not the secret.
      'ts-auth-service',
      'auth_url',
      'secretName',
      'token_ttl',
      'PASSWORD_FILE',
    ]) {
      expect(isSecretKey(k), k).toBe(false);
    }
    // A component named in a `name: text` line keeps its text (it read "[REDACTED] into ...").
    expect(redactText('ts-gateway-service: calls into ts-auth-service slowed')).toBe(
      'ts-gateway-service: calls into ts-auth-service slowed',
    );
    expect(redactText('ts-auth-service: calls into ts-user-service slowed')).toBe(
      'ts-auth-service: calls into ts-user-service slowed',
    );
  });

  it("applies a user's patterns, a capturing group narrowing what is replaced", () => {
    const r = new Redactor({ patterns: compileRedactPatterns(['acct-[0-9]{6}', '/employee=(\\w+)/i']) });
    expect(r.text('user acct-123456 EMPLOYEE=alice ok')).toBe(`user ${REDACTED} EMPLOYEE=${REDACTED} ok`);
    expect(r.counts()).toEqual({ custom: 2 });
    // A pattern never cuts into a marker already placed.
    const red = new Redactor({ patterns: compileRedactPatterns(['RED']) });
    expect(red.text('password=x RED')).toBe(`password=${REDACTED} ${REDACTED}`);
  });

  it('refuses an invalid pattern, or one that matches nothing at all, naming it', () => {
    const fails = (src: string): HindsightError => {
      try {
        compileRedactPatterns([src]);
      } catch (err) {
        return err as HindsightError;
      }
      throw new Error(`accepted ${src}`);
    };
    expect(fails('a(b').code).toBe('HINDSIGHT_REDACT_PATTERN');
    expect(fails('a(b').message).toMatch(/"a\(b" is not a valid regular expression/);
    expect(fails('x*').message).toMatch(/matches the empty string/);
    expect(fails('/x/g').message).toMatch(/only i, m, s, u and v/);
  });
});
