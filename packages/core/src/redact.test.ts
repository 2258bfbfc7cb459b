import { describe, expect, it } from 'vitest';
import { REDACTED, isSecretKey, redactAtPath, redactText, redactValue } from './index.js';

const planted = ['hunter2', 's3cr3t-token', 'pg-pass-123', 'AKIAEXAMPLE', 'cookie-signing-key', 'rpass'];

function leaks(output: unknown): string[] {
  const text = JSON.stringify(output);
  return planted.filter((s) => text.includes(s));
}

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

  it('removes secret values from Kubernetes env lists by their name', () => {
    const env = [
      { name: 'REDIS_PASSWORD', value: 'rpass' },
      { name: 'SESSION_SECRET', value: 'cookie-signing-key' },
      { name: 'DATABASE_URL', value: 'postgresql://u:hunter2@pg/shop?sslmode=disable' },
      { name: 'SESSION_READ_FROM', value: 'replicas' },
      { name: 'PGPASSWORD', valueFrom: { secretKeyRef: { name: 'shop', key: 'postgres-password' } } },
    ];
    const out = redactValue(env);
    expect(leaks(out)).toEqual([]);
    expect(out[3]).toEqual({ name: 'SESSION_READ_FROM', value: 'replicas' });
  });

  it('removes credentials inside URLs and free text', () => {
    expect(redactText('connecting to redis://:rpass@10.0.0.1:6379/0')).toBe(
      `connecting to redis://:${REDACTED}@10.0.0.1:6379/0`,
    );
    expect(redactText('GET /cb?user=a&token=s3cr3t-token&x=1')).toBe(`GET /cb?user=a&token=${REDACTED}&x=1`);
    expect(leaks(redactText('password=hunter2 api_key: AKIAEXAMPLE'))).toEqual([]);
    expect(redactText('https://ghp_s3cr3t-token@github.example/x')).not.toContain('s3cr3t-token');
  });

  it('redacts a diff value by its path', () => {
    expect(redactAtPath('redis.auth.password', 'rpass')).toBe(REDACTED);
    expect(redactAtPath('redis.replica.replicaCount', 6)).toBe(6);
  });

  it('does not mistake ordinary keys for secrets', () => {
    for (const k of ['author', 'keyspace', 'evicted_keys', 'replicaCount', 'monkey', 'tokenizer']) {
      expect(isSecretKey(k), k).toBe(false);
    }
    for (const k of [
      'password',
      'REDIS_PASSWORD',
      'apiKey',
      'api-key',
      'auth',
      'sessionSecret',
      'dsn',
      'Authorization',
    ]) {
      expect(isSecretKey(k), k).toBe(true);
    }
  });
});
