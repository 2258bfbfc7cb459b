// The exporter sidecars as local programs: the pod's loopback ports rewritten to the lab's, and a
// binary that is not installed named, so the lab leaves the sidecar out instead of failing the pod.
import { describe, expect, it } from 'vitest';
import type { ContainerSpec, PodContext } from './container.js';
import { exporter, redisExporter, rewriteLoopback } from './exporters.js';
import { missingProgram } from './index.js';

const ctx = {
  pod: 'shop-redis-master-0',
  ports: new Map([
    [6379, 41001],
    [9121, 41002],
  ]),
} as PodContext;

describe('exporter programs', () => {
  it('points the exporter at its pod Redis and listens on the pod local port, loopback only', () => {
    const c: ContainerSpec = {
      name: 'metrics',
      image: 'oliver006/redis_exporter:v1.45.0',
      args: ['--redis.addr=redis://127.0.0.1:6379', '--web.listen-address=:9121'],
    };
    const p = redisExporter.process(ctx, c, { DATA: 'localhost:6379/x', OTHER: '127.0.0.1:5432' }, '/tmp');
    expect(p.command).toBe('/usr/bin/prometheus-redis-exporter');
    expect(p.args).toEqual(['--redis.addr=redis://127.0.0.1:41001', '--web.listen-address=127.0.0.1:41002']);
    // A port the pod does not declare is left as written.
    expect(p.env).toEqual({ DATA: '127.0.0.1:41001/x', OTHER: '127.0.0.1:5432' });
    expect(rewriteLoopback(ctx, ':9121')).toBe('127.0.0.1:41002');
  });

  it('says which package is missing, and finds the chart images installed here', () => {
    expect(exporter(['x'], 'no-such-exporter', 'prometheus-no-such-exporter').missing?.()).toBe(
      '/usr/bin/no-such-exporter is not installed (apt-get install prometheus-no-such-exporter, or scripts/setup.sh)',
    );
    for (const image of [
      'oliver006/redis_exporter:v1.45.0',
      'quay.io/prometheuscommunity/postgres-exporter:v0.11.1',
      'nginx/nginx-prometheus-exporter:0.11.0',
      'redis:7.0.15-bookworm',
    ])
      expect(missingProgram({ name: 'c', image })).toBeUndefined();
  });
});
