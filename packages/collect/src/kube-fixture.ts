// A Kubernetes API over HTTP for this package's tests: recorded responses (fixtures/kube-api), Helm
// release Secrets made with encodeRelease, and pod logs filtered by sinceTime as the API does.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeRelease, releaseRecordLabels, releaseRecordName, type HelmRelease } from '@hindsight/core';
import { httpServer, sendJson, type TestHttpServer } from './test-support.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/kube-api/', import.meta.url));

/** The window the fixtures were recorded in. */
export const FIXTURE_WINDOW = {
  from: new Date('2026-11-25T10:00:00Z'),
  to: new Date('2026-11-25T11:00:00Z'),
};

/** Secrets planted in the release values and the manifest: none may reach a bundle. */
export const PLANTED = ['planted-secret-1', 'planted-secret-2', 'planted-token-xyz'];

function manifest(replicas: number, shopImage: string, password: string): string {
  return `---
# Source: shop/templates/secret.yaml
apiVersion: v1
kind: Secret
metadata:
  name: shop-shop
type: Opaque
data:
  redis-password: ${Buffer.from(password).toString('base64')}
stringData:
  postgres-password: ${password}
---
# Source: shop/templates/shop-deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop-shop
  labels:
    app.kubernetes.io/component: shop
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: shop
          image: ${shopImage}
---
# Source: shop/templates/redis-replica-statefulset.yaml
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: shop-redis-replica
  labels:
    app.kubernetes.io/component: redis
spec:
  replicas: ${replicas}
  template:
    spec:
      containers:
        - name: redis
          image: redis:7.2
`;
}

function release(
  version: number,
  deployed: string,
  config: Record<string, unknown>,
  m: string,
  status: string,
): HelmRelease {
  return {
    name: 'shop',
    namespace: 'shop',
    version,
    info: {
      first_deployed: '2026-11-25T08:58:40Z',
      last_deployed: deployed,
      status,
      description: version === 1 ? 'Install complete' : 'Upgrade complete',
    },
    chart: {
      metadata: { name: 'shop', version: '0.1.0', appVersion: '1.4.0' },
      values: { redis: { auth: { password: '' } } },
    },
    config,
    manifest: m,
  };
}

/** Revision 1 before the window, 2 raises the replicas (and the image), 3 changes a password. */
export const RELEASES: HelmRelease[] = [
  release(
    1,
    '2026-11-25T08:58:40Z',
    { redis: { auth: { password: 'planted-secret-1' }, replica: { replicaCount: 2 } } },
    manifest(2, 'shop:1.3.0', 'planted-secret-1'),
    'superseded',
  ),
  release(
    2,
    '2026-11-25T10:20:00Z',
    {
      redis: { auth: { password: 'planted-secret-1' }, replica: { replicaCount: 6 } },
      shop: { image: { tag: '1.4.0' } },
    },
    manifest(6, 'shop:1.4.0', 'planted-secret-1'),
    'superseded',
  ),
  release(
    3,
    '2026-11-25T10:40:00Z',
    {
      redis: { auth: { password: 'planted-secret-2' }, replica: { replicaCount: 6 } },
      shop: { image: { tag: '1.4.0' } },
    },
    manifest(6, 'shop:1.4.0', 'planted-secret-2'),
    'deployed',
  ),
];

function secret(name: string, labels: Record<string, string>, releaseField: string): unknown {
  return {
    metadata: {
      name,
      namespace: 'shop',
      uid: `uid-${name}`,
      resourceVersion: '48000',
      creationTimestamp: '2026-11-25T08:58:40Z',
      labels,
    },
    type: 'helm.sh/release.v1',
    // The API shows a Secret's data base64-encoded; Helm's field is itself base64 of gzip of JSON.
    data: { release: Buffer.from(releaseField).toString('base64') },
  };
}

function helmSecrets(broken = true): {
  kind: string;
  apiVersion: string;
  metadata: unknown;
  items: Array<{ metadata: { name: string; labels: Record<string, string> } }>;
} {
  const items = RELEASES.map((r) =>
    secret(releaseRecordName(r.name, r.version), releaseRecordLabels(r), encodeRelease(r)),
  ) as Array<{ metadata: { name: string; labels: Record<string, string> } }>;
  if (broken)
    items.push(
      secret(
        releaseRecordName('shop', 4),
        { name: 'shop', owner: 'helm', status: 'failed', version: '4' },
        'H4sIAAAAAAAA/not-really-gzip',
      ) as (typeof items)[number],
    );
  return { kind: 'SecretList', apiVersion: 'v1', metadata: { resourceVersion: '48213' }, items };
}

async function fixture(name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path.join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
}

function matchesSelector(labels: Record<string, string>, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return k !== undefined && labels[k] === v;
  });
}

/** Starts the fake API server; `kubeconfig` is written to `dir`. */
export async function startKubeApi(
  dir: string,
  options: { failEvents?: boolean; breakLogOf?: string; wellFormedHelm?: boolean } = {},
): Promise<{ server: TestHttpServer; kubeconfig: string }> {
  const server = await httpServer(async (url, _req, res) => {
    const p = url.pathname;
    const ns = '/api/v1/namespaces/shop';
    if (p === `${ns}/pods`) {
      const list = await fixture('pods.json');
      const items = (list['items'] as Array<{ metadata: { labels: Record<string, string> } }>).filter((i) =>
        matchesSelector(i.metadata.labels, url.searchParams.get('labelSelector')),
      );
      return sendJson(res, 200, { ...list, items });
    }
    const log = /^\/api\/v1\/namespaces\/shop\/pods\/([^/]+)\/log$/.exec(p);
    if (log) {
      const previous = url.searchParams.get('previous') === 'true';
      const file = path.join(
        FIXTURES,
        'logs',
        `${log[1]}.${url.searchParams.get('container')}${previous ? '.previous' : ''}.log`,
      );
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text === undefined) {
        return sendJson(res, 400, {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message: `previous terminated container "${url.searchParams.get('container')}" in pod "${log[1]}" not found`,
          reason: 'BadRequest',
          code: 400,
        });
      }
      const since = Date.parse(url.searchParams.get('sinceTime') ?? '1970-01-01T00:00:00Z');
      const ts = url.searchParams.get('timestamps') === 'true';
      const lines = text
        .split('\n')
        .filter((l) => l.length > 0 && Date.parse(l.slice(0, l.indexOf(' '))) >= since);
      res.writeHead(200, { 'content-type': 'text/plain' });
      if (log[1] === options.breakLogOf) {
        // The connection drops mid-log, as when the kubelet or a proxy goes away.
        res.write(`${lines[0] ?? ''}\n`);
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      return res.end(lines.map((l) => (ts ? l : l.slice(l.indexOf(' ') + 1))).join('\n') + '\n');
    }
    const one = /^\/api\/v1\/namespaces\/shop\/pods\/([^/]+)$/.exec(p);
    if (one) {
      const list = await fixture('pods.json');
      const pod = (list['items'] as Array<{ metadata: { name: string } }>).find(
        (i) => i.metadata.name === one[1],
      );
      return pod
        ? sendJson(res, 200, { kind: 'Pod', apiVersion: 'v1', ...pod })
        : sendJson(res, 404, { kind: 'Status', code: 404, message: `pods "${one[1]}" not found` });
    }
    if (p === `${ns}/events`) {
      if (options.failEvents)
        return sendJson(res, 403, { kind: 'Status', code: 403, message: 'events is forbidden' });
      return sendJson(res, 200, await fixture('events.json'));
    }
    if (p === `${ns}/secrets` && url.searchParams.get('labelSelector') === 'owner=helm')
      return sendJson(res, 200, helmSecrets(!options.wellFormedHelm));
    // helm asks the server's version before anything else.
    if (p === '/version' && options.wellFormedHelm)
      return sendJson(res, 200, { major: '1', minor: '34', gitVersion: 'v1.34.0', platform: 'linux/amd64' });
    // helm itself (history, get) lists a release's records by name and owner, and gets one by name.
    if (p === `${ns}/secrets` && options.wellFormedHelm) {
      const list = helmSecrets(false);
      const selector = url.searchParams.get('labelSelector');
      return sendJson(res, 200, {
        ...list,
        items: list.items.filter((i) => matchesSelector(i.metadata.labels, selector)),
      });
    }
    const oneSecret = /^\/api\/v1\/namespaces\/shop\/secrets\/([^/]+)$/.exec(p);
    if (oneSecret && options.wellFormedHelm) {
      const found = helmSecrets(false).items.find((i) => i.metadata.name === oneSecret[1]);
      if (found) return sendJson(res, 200, { kind: 'Secret', apiVersion: 'v1', ...found });
    }
    const apps = /^\/apis\/apps\/v1\/namespaces\/shop\/(deployments|statefulsets|daemonsets)$/.exec(p);
    if (apps) return sendJson(res, 200, await fixture(`${apps[1]}.json`));
    return sendJson(res, 404, {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      code: 404,
      message: `the server could not find the requested resource (${p})`,
    });
  });
  const kubeconfig = path.join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
- name: recorded
  cluster:
    server: ${server.url}
    # @kubernetes/client-node refuses plain HTTP unless this is set.
    insecure-skip-tls-verify: true
contexts:
- name: recorded
  context:
    cluster: recorded
    user: reader
    namespace: shop
current-context: recorded
users:
- name: reader
  user:
    token: planted-token-xyz
`,
  );
  return { server, kubeconfig };
}
