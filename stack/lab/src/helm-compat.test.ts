// The lab's release records, served by its Kubernetes API, read by every real helm this machine has:
// helm 4 (PATH or .tools/bin/helm) and helm 3 (.tools/bin/helm3, from scripts/install-helm.sh). Teams run
// both; `hindsight collect` and the lab must look to each like a cluster Helm itself wrote.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HelmRelease } from '@hindsight/core';
import { findHelm } from './helm.js';
import { createKubeApi, type KubeObject } from './kube-api.js';
import { kubeconfigText } from './kubeconfig.js';
import { repoRoot } from './paths.js';
import { ReleaseStore } from './release-store.js';

const execFileP = promisify(execFile);

function release(version: number, replicaCount: number, description: string): HelmRelease {
  return {
    name: 'shop',
    namespace: 'default',
    version,
    info: {
      status: 'pending-upgrade',
      description,
      last_deployed: new Date(Date.UTC(2026, 0, 1, 0, version)).toISOString(),
    },
    chart: { metadata: { name: 'shop', version: '0.1.0', appVersion: '0.1.0' } },
    config: { redis: { replica: { replicaCount } } },
    manifest: `---\n# Source: shop/templates/configmap.yaml\nkind: ConfigMap\n# rev ${version}\n`,
  };
}

const helm3 = join(repoRoot, '.tools/bin/helm3');
const binaries = [findHelm(), helm3];

describe('helm reads the lab release records', () => {
  let dir: string;
  let server: Server;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lab-helm-compat-'));
    const store = new ReleaseStore(join(dir, 'releases'), 'default');
    const history: Array<[number, string]> = [
      [2, 'Install complete'],
      [6, 'Upgrade complete'],
      [2, 'Rollback to 1'],
    ];
    for (const [i, [replicas, description]] of history.entries()) {
      await store.create(release(i + 1, replicas, description));
      await store.setStatus('shop', i + 1, 'deployed');
    }
    server = createKubeApi({
      list: async (r) => (r === 'secrets' ? ((await store.secrets()) as unknown as KubeObject[]) : []),
      logFile: async () => ({ status: 404, message: 'no logs here' }),
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      kubeconfigText(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'default'),
    );
    env = {
      ...process.env,
      KUBECONFIG: kubeconfig,
      HELM_CACHE_HOME: join(dir, 'cache'),
      HELM_CONFIG_HOME: join(dir, 'config'),
    };
  });
  afterAll(async () => {
    await new Promise<void>((r) => server?.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  it('has helm 3 beside helm 4 (npm run setup puts it in .tools/bin)', () => {
    expect(existsSync(helm3)).toBe(true);
  });

  for (const helm of binaries) {
    describe(helm, () => {
      it('lists the history with statuses and descriptions', async () => {
        const { stdout } = await execFileP(helm, ['history', 'shop', '-o', 'json'], { env });
        const rows = JSON.parse(stdout) as Array<{
          revision: number;
          status: string;
          description: string;
          chart: string;
        }>;
        expect(rows.map((r) => [r.revision, r.status, r.description, r.chart])).toEqual([
          [1, 'superseded', 'Install complete', 'shop-0.1.0'],
          [2, 'superseded', 'Upgrade complete', 'shop-0.1.0'],
          [3, 'deployed', 'Rollback to 1', 'shop-0.1.0'],
        ]);
      });

      it('reads the values of any revision', async () => {
        const values = async (revision: number): Promise<unknown> =>
          JSON.parse(
            (
              await execFileP(helm, ['get', 'values', 'shop', '--revision', String(revision), '-o', 'json'], {
                env,
              })
            ).stdout,
          );
        expect(await values(2)).toEqual({ redis: { replica: { replicaCount: 6 } } });
        expect(await values(3)).toEqual({ redis: { replica: { replicaCount: 2 } } });
      });

      it('reads the rendered manifest of the deployed revision', async () => {
        const { stdout } = await execFileP(helm, ['get', 'manifest', 'shop'], { env });
        expect(stdout).toContain('# rev 3');
      });
    });
  }
});
