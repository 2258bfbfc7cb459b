// What the lab's read-only Kubernetes API shows: pods, workloads with their status, events,
// Services, ConfigMaps and Secrets, and the log file of a container's current or previous run.
import { join } from 'node:path';
import type { ClusterView, KubeObject, ResourceName } from '../kube-api.js';
import type { Cluster } from './cluster.js';
import { podTemplateHash } from './controllers.js';
import type { Events } from './events.js';
import { nowSeconds, podReady, running, type LabPod, type Workload } from './pod.js';
import type { Services } from './services.js';

/** A pod as the API shows it. */
export function podJson(pod: LabPod, namespace: string): KubeObject {
  const ready = podReady(pod);
  const t = pod.createdAt;
  const phase = pod.containers.some((c) => 'running' in c.state) ? 'Running' : 'Pending';
  const condition = (type: string, status: boolean) => ({
    type,
    status: status ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: t,
  });
  const ownerKind = pod.workload.kind === 'Deployment' ? 'ReplicaSet' : 'StatefulSet';
  const ownerName =
    pod.workload.kind === 'Deployment' ? `${pod.workload.name}-${pod.hash}` : pod.workload.name;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pod.name,
      namespace,
      uid: pod.uid,
      resourceVersion: String(Date.now()),
      creationTimestamp: pod.createdAt,
      labels: pod.labels,
      annotations: pod.annotations,
      ...(pod.deleting ? { deletionTimestamp: nowSeconds(), deletionGracePeriodSeconds: 30 } : {}),
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: ownerKind,
          name: ownerName,
          uid: `${ownerName}-uid`,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    // Every lab pod shares the machine's network, as a hostNetwork pod does: its podIP is the
    // host's and its containers listen on the ports the lab gave them, so podIP:containerPort
    // is where a client (hindsight naming a Redis node's pod) really reaches it.
    // A container the lab left out (an exporter without monitoring, a binary not installed) is not
    // in the pod it serves: a client would ask for its log and find none.
    spec: {
      ...pod.spec,
      containers: pod.spec.containers
        .filter((c) => !pod.leftOut?.some((l) => l.container === c.name))
        .map((c) => ({
          ...c,
          ...(c.ports
            ? {
                ports: c.ports.map((p) => ({
                  ...p,
                  containerPort: pod.ports.get(p.containerPort) ?? p.containerPort,
                })),
              }
            : {}),
        })),
      hostNetwork: true,
      nodeName: 'lab',
      restartPolicy: 'Always',
    },
    status: {
      phase,
      conditions: [
        condition('PodReadyToStartContainers', true),
        condition('Initialized', true),
        condition('Ready', ready),
        condition('ContainersReady', ready),
        condition('PodScheduled', true),
      ],
      hostIP: '127.0.0.1',
      podIP: '127.0.0.1',
      podIPs: [{ ip: '127.0.0.1' }],
      startTime: pod.createdAt,
      qosClass: 'Burstable',
      containerStatuses: pod.containers.map((c) => ({
        name: c.spec.name,
        image: c.spec.image,
        imageID: `lab://${c.proc?.command ?? ''}`,
        containerID: `lab://${c.child?.pid ?? 0}`,
        ready: c.ready,
        started: 'running' in c.state,
        restartCount: c.restartCount,
        state: c.state,
        lastState: c.lastState,
      })),
    },
  };
}

/** A Deployment or StatefulSet as the API shows it, with its status from the pods. */
export function workloadJson(w: Workload, cluster: Cluster): KubeObject {
  const pods = cluster.podsOf(w);
  const hash = podTemplateHash(w.spec.template);
  const ready = pods.filter((p) => podReady(p)).length;
  return {
    ...w,
    metadata: {
      ...w.metadata,
      namespace: cluster.o.namespace,
      generation: cluster.revision,
      uid: `${w.metadata.name}-uid`,
      creationTimestamp: w.metadata.creationTimestamp ?? nowSeconds(),
      annotations: {
        ...(w.metadata.annotations ?? {}),
        ...(w.kind === 'Deployment' ? { 'deployment.kubernetes.io/revision': String(cluster.revision) } : {}),
      },
    },
    status: {
      observedGeneration: cluster.revision,
      replicas: pods.length,
      readyReplicas: ready,
      availableReplicas: ready,
      updatedReplicas: pods.filter((p) => p.hash === hash).length,
      ...(w.kind === 'StatefulSet'
        ? {
            currentReplicas: pods.length,
            currentRevision: `${w.metadata.name}-${hash}`,
            updateRevision: `${w.metadata.name}-${hash}`,
          }
        : {}),
    },
  };
}

/** A summary of every pod and Service, for `lab status` and the status file. */
export function snapshot(cluster: Cluster, services: Services) {
  return {
    revision: cluster.revision,
    pods: [...cluster.pods.values()].map((p) => ({
      name: p.name,
      component: p.labels['app.kubernetes.io/component'] ?? '',
      workload: `${p.workload.kind}/${p.workload.name}`,
      ready: podReady(p),
      phase: p.deleting
        ? 'Terminating'
        : p.containers.some((c) => 'running' in c.state)
          ? 'Running'
          : 'Pending',
      restarts: p.containers.reduce((a, c) => a + c.restartCount, 0),
      ...(p.leftOut ? { leftOut: p.leftOut.map((l) => `${l.container}: ${l.why}`) } : {}),
      ports: Object.fromEntries(p.ports),
      pids: p.containers.filter(running).map((c) => c.child!.pid!),
    })),
    services: services.list().map((s) => ({
      name: s.service,
      port: s.servicePort,
      localPort: s.localPort,
      endpoints: s.getEndpoints().map((e) => e.pod),
    })),
  };
}

/** The read-only cluster the API server shows; `secrets` adds the release records. */
export function clusterView(
  cluster: Cluster,
  events: Events,
  secrets: () => Promise<KubeObject[]>,
): ClusterView {
  const containerOf = (podName: string, container: string | undefined) => {
    const pod = cluster.pods.get(podName);
    return {
      pod,
      c: container ? pod?.containers.find((x) => x.spec.name === container) : pod?.containers[0],
    };
  };
  return {
    list: async (resource: ResourceName) => {
      switch (resource) {
        case 'pods':
          return [...cluster.pods.values()].map((p) => podJson(p, cluster.o.namespace));
        case 'events':
          return events.list();
        case 'secrets':
          return [...cluster.objects.filter((o) => o.kind === 'Secret'), ...(await secrets())];
        case 'services':
        case 'configmaps':
          return cluster.objects.filter((o) => o.kind.toLowerCase() === resource.slice(0, -1));
        case 'deployments':
        case 'statefulsets':
          return cluster.workloads
            .filter((w) => w.kind.toLowerCase() === resource.slice(0, -1))
            .map((w) => workloadJson(w, cluster));
        default:
          return [];
      }
    },
    logFile: async (_ns, podName, container, previous) => {
      const { pod, c } = containerOf(podName, container);
      if (!pod || !c)
        return { status: 404, message: `container ${container ?? ''} is not valid for pod ${podName}` };
      const dir = join(cluster.o.paths.logs, podName, c.spec.name);
      if (previous) {
        if (c.restartCount === 0)
          return {
            status: 400,
            message: `previous terminated container "${c.spec.name}" in pod "${podName}" not found`,
          };
        return join(dir, `${c.restartCount - 1}.log`);
      }
      return join(dir, `${c.restartCount}.log`);
    },
    // The file's instance is done once its writer says so, or once another instance (a restart)
    // or none (the pod deleted, the container waiting to start) writes the container's log.
    logEnded: (_ns, podName, container, file) => {
      const { c } = containerOf(podName, container);
      return !c?.log || c.log.file !== file || c.log.ended;
    },
  };
}
