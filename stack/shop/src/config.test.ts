import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

const base = { REDIS_MASTER_URL: 'redis://127.0.0.1:6379', SESSION_SECRET: 'a-secret-of-16-chars-or-more' };

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const r = loadConfig(base);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.port).toBe(8080);
    expect(r.config.session).toMatchObject({
      readFrom: 'master',
      readYourWrites: true,
      ttlSeconds: 1800,
      rolling: false,
    });
    expect(r.config.redis).toMatchObject({ replicaUrls: [], commandTimeoutMs: 500, password: '' });
    expect(r.config.postgres).toMatchObject({
      poolMax: 10,
      connectTimeoutMs: 2000,
      statementTimeoutMs: 5000,
      idleInTransactionTimeoutMs: 10000,
      readinessGraceMs: 10000,
    });
    expect(r.config.checkout).toEqual({
      stuckAfterSeconds: 300,
      sweepIntervalSeconds: 30,
      paymentLatencyMs: 50,
    });
  });

  it('names every missing or bad variable in one error', () => {
    const r = loadConfig({ SESSION_READ_YOUR_WRITES: 'maybe', PORT: 'eighty' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe('SHOP_CONFIG_INVALID');
    expect(r.issues.map((i) => i.variable).sort()).toEqual([
      'PORT',
      'REDIS_MASTER_URL',
      'SESSION_READ_YOUR_WRITES',
      'SESSION_SECRET',
    ]);
    expect(r.message).toContain('REDIS_MASTER_URL: is required');
    expect(r.message).toContain('SESSION_READ_YOUR_WRITES: expected true or false');
  });

  it('refuses reads from replicas when no replica is configured', () => {
    const r = loadConfig({ ...base, SESSION_READ_FROM: 'replicas' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]?.variable).toBe('REDIS_REPLICA_URLS');
  });

  it('parses replica lists and booleans as the chart writes them', () => {
    const r = loadConfig({
      ...base,
      REDIS_REPLICA_URLS: 'redis://a:6379, redis://b:6380',
      SESSION_READ_FROM: 'replicas',
      SESSION_READ_YOUR_WRITES: 'false',
      SESSION_ROLLING: 'true',
      PGPORT: '',
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.redis.replicaUrls).toEqual(['redis://a:6379', 'redis://b:6380']);
    expect(r.config.session.readYourWrites).toBe(false);
    expect(r.config.session.rolling).toBe(true);
    expect(r.config.postgres.port).toBeUndefined();
  });
});
