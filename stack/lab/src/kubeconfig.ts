import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

/** The context name the lab's kubeconfig defines. */
export const LAB_CONTEXT = 'hindsight-lab';

/** A kubeconfig for the lab's API server: plain HTTP on loopback, no credentials needed. */
export function kubeconfigText(server: string, namespace: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    // @kubernetes/client-node refuses plain http unless the cluster says insecure-skip-tls-verify.
    clusters: [{ name: LAB_CONTEXT, cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: LAB_CONTEXT, user: { token: 'hindsight-lab' } }],
    contexts: [{ name: LAB_CONTEXT, context: { cluster: LAB_CONTEXT, user: LAB_CONTEXT, namespace } }],
    'current-context': LAB_CONTEXT,
    preferences: {},
  });
}

/** Writes the kubeconfig, readable by its owner only (as ~/.kube/config should be). */
export async function writeKubeconfig(file: string, server: string, namespace: string): Promise<void> {
  await writeFile(file, kubeconfigText(server, namespace), { mode: 0o600 });
}
