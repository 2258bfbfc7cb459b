import { describe, expect, it } from 'vitest';
import type { Pod } from '@hindsight/core';
import { isProbeRequest, probeRoutes } from './index.js';

function pod(name: string, containers: Pod['containers']): Pod {
  return { namespace: 'shop', name, labels: {}, containers };
}

const SHOP = pod('shop-7f9c8d6b5-aaaaa', [
  {
    name: 'shop',
    restartCount: 0,
    ports: [{ containerPort: 3000, name: 'http' }],
    probes: [
      { kind: 'liveness', path: '/healthz', port: 3000 },
      { kind: 'readiness', path: '/readyz?full=1', port: 3000 },
    ],
  },
  {
    name: 'metrics',
    restartCount: 0,
    probes: [{ kind: 'startup', path: '/ready' }],
  },
]);
const NGINX = pod('shop-nginx-5d8f7c6b9d-abcde', [
  // A probe on `/`: users ask for it too.
  { name: 'nginx', restartCount: 0, probes: [{ kind: 'liveness', path: '/', port: 8080 }] },
]);
// Collected before pods recorded their probes.
const OLD = pod('shop-7f9c8d6b5-bbbbb', [{ name: 'shop', restartCount: 0 }]);

describe('probes: which requests are the kubelet’s', () => {
  it('lists the paths probed per pod and over several, the query dropped and `/` left out', () => {
    expect([...probeRoutes([SHOP])].sort()).toEqual(['/healthz', '/ready', '/readyz']);
    expect([...probeRoutes([NGINX, OLD])]).toEqual([]);
    expect([...probeRoutes([SHOP, NGINX, OLD])].sort()).toEqual(['/healthz', '/ready', '/readyz']);
  });

  it('tells a probed path in a route, a path or a URL, on the probe’s port', () => {
    expect(isProbeRequest(SHOP, 'GET /healthz')).toBe(true);
    expect(isProbeRequest(SHOP, '/readyz?full=0')).toBe(true);
    expect(isProbeRequest(SHOP, 'http://10.1.2.3:3000/healthz')).toBe(true);
    expect(isProbeRequest(SHOP, '/healthz', 3000)).toBe(true);
    // A probe with no port recorded matches on any.
    expect(isProbeRequest(SHOP, '/ready', 9121)).toBe(true);
    expect(isProbeRequest(SHOP, '/healthz', 8080)).toBe(false);
  });

  it('leaves users’ requests: other paths, other methods, `/`, other pods, unknown pods', () => {
    expect(isProbeRequest(SHOP, 'GET /products')).toBe(false);
    expect(isProbeRequest(SHOP, 'POST /healthz')).toBe(false);
    expect(isProbeRequest(SHOP, '/healthz/deep')).toBe(false);
    expect(isProbeRequest(NGINX, 'GET /')).toBe(false);
    expect(isProbeRequest(OLD, 'GET /healthz')).toBe(false);
    expect(isProbeRequest(undefined, 'GET /healthz')).toBe(false);
    // A component's pods together: any one's probe counts.
    expect(isProbeRequest([OLD, SHOP], 'GET /readyz')).toBe(true);
    expect(isProbeRequest([], 'GET /readyz')).toBe(false);
  });
});
