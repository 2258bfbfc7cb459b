import type { HelmRelease } from '@hindsight/core';
import { describe, expect, it } from 'vitest';
import { revisionChanges } from '../index.js';

// Two renderings of one small release, as a Helm release record holds them.
const manifest = (o: { timeout: string; memory: string; maxConn: number; secret: string; delay: number }) => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: r-api
  labels: { app.kubernetes.io/component: api }
spec:
  replicas: 2
  template:
    spec:
      terminationGracePeriodSeconds: 30
      containers:
        - name: api
          image: api:1
          env:
            - { name: DB_STATEMENT_TIMEOUT_MS, value: "${o.timeout}" }
            - name: API_TOKEN
              valueFrom: { secretKeyRef: { name: r-secret, key: token } }
          resources: { limits: { memory: ${o.memory} } }
          readinessProbe: { httpGet: { path: /ready, port: 80 }, periodSeconds: 5, initialDelaySeconds: ${o.delay} }
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: r-db
  labels: { app.kubernetes.io/component: db }
spec:
  template:
    spec:
      containers:
        - name: db
          image: db:15
          args: ["-c", "max_connections=${o.maxConn}", "--port", "5432"]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: r-proxy
  labels: { app.kubernetes.io/component: proxy }
data:
  proxy.conf: |
    # comment
    proxy_read_timeout ${o.timeout === '5000' ? '30s' : '1s'};
    proxy_set_header Host $host;
    proxy_set_header X-Real-IP $remote_addr;
---
apiVersion: v1
kind: Secret
metadata:
  name: r-secret
data:
  token: ${Buffer.from(o.secret).toString('base64')}
  other: ${Buffer.from('same').toString('base64')}
`;

const release = (version: number, m: string): HelmRelease => ({
  name: 'r',
  namespace: 'ns',
  version,
  info: { status: 'deployed', last_deployed: '2026-03-02T09:00:00Z' },
  chart: { metadata: { name: 'c', version: '1.0.0' } },
  config: { api: { dbTimeout: version } },
  manifest: m,
});

describe('a revision read from the objects it rendered', () => {
  const before = release(
    1,
    manifest({ timeout: '5000', memory: '256Mi', maxConn: 100, secret: 'old-token-value', delay: 3 }),
  );
  const after = release(
    2,
    manifest({ timeout: '2', memory: '200Mi', maxConn: 10, secret: 'new-token-value', delay: 3 }),
  );
  const changes = revisionChanges(before, after, '2026-03-02T09:05:00Z');
  const rendered = (target: string) => changes.find((c) => c.target === target);

  it("records each container's env, resources and args, a config file's directives and a Secret's keys as the software names them", () => {
    expect(rendered('Deployment/r-api')).toMatchObject({
      kind: 'deployment',
      toRevision: 2,
      components: ['api'],
      diff: [
        { path: 'containers.api.env.DB_STATEMENT_TIMEOUT_MS', from: '5000', to: '2' },
        { path: 'containers.api.resources.limits.memory', from: '256Mi', to: '200Mi' },
      ],
    });
    expect(rendered('StatefulSet/r-db')?.diff).toEqual([
      { path: 'containers.db.args.max_connections', from: '100', to: '10' },
    ]);
    expect(rendered('ConfigMap/r-proxy')?.diff).toEqual([
      { path: 'data.proxy.conf.proxy_read_timeout', from: '30s', to: '1s' },
    ]);
  });

  it("says a Secret's key changed without writing its value", () => {
    expect(rendered('Secret/r-secret')?.diff).toEqual([
      { path: 'data.token', from: '(old value)', to: '(new value)' },
    ]);
    expect(JSON.stringify(changes)).not.toContain('token-value');
  });

  it('records nothing for an object rendered the same', () => {
    const same = revisionChanges(before, { ...before, version: 2 }, '2026-03-02T09:05:00Z');
    expect(same.map((c) => c.kind)).toEqual(['helm']);
  });
});
