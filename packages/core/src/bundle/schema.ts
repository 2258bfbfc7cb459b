import { z } from 'zod';

/** The bundle format version this code writes and reads. */
export const BUNDLE_FORMAT_VERSION = 1;

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'not an RFC 3339 time' });

/** manifest.json: what was collected, for which window, and what failed. */
export const manifestSchema = z.object({
  format: z.literal('hindsight-bundle'),
  version: z.number().int(),
  createdAt: isoTime,
  window: z.object({ from: isoTime, to: isoTime }),
  /**
   * A period known to be normal, which analysis compares the window against. Its records may lie
   * outside `window` (a fault-free reference recorded earlier). Optional: older bundles lack it.
   */
  baseline: z.object({ from: isoTime, to: isoTime, note: z.string().optional() }).optional(),
  cluster: z.string().optional(),
  /** The kubeconfig context it was collected with, when one was named (`--context`). */
  context: z.string().optional(),
  namespace: z.string().optional(),
  sources: z.array(
    z.object({
      name: z.string().min(1),
      status: z.enum(['ok', 'partial', 'failed']),
      error: z.string().optional(),
      items: z.number().int().nonnegative().optional(),
    }),
  ),
  tool: z.object({ name: z.string(), version: z.string() }).optional(),
  notes: z.array(z.string()).optional(),
  /** How many values were redacted while the bundle was written, per kind (`jwt`, `secret-key`, ...). */
  redactions: z.record(z.string(), z.number().int().nonnegative()).optional(),
});

/** One metric series: a name, labels, and points as [unix_ms, value]. Counters are cumulative. */
export const seriesSchema = z.object({
  name: z.string().min(1),
  labels: z.record(z.string(), z.string()),
  kind: z.enum(['gauge', 'counter']),
  unit: z.string().optional(),
  points: z.array(z.tuple([z.number().finite(), z.number()])),
});

const scalarOrTree: z.ZodType<unknown> = z.unknown();

/** One changed path in a change's structured diff; `from`/`to` absent means added/removed. */
export const diffEntrySchema = z.object({
  path: z.string().min(1),
  from: scalarOrTree.optional(),
  to: scalarOrTree.optional(),
});

/** A change to the system: a Helm revision, an image or replica change, a ConfigMap, a Git commit. */
export const changeSchema = z.object({
  id: z.string().optional(),
  time: isoTime,
  kind: z.enum(['helm', 'deployment', 'configmap', 'image', 'scale', 'git']),
  target: z.string().min(1),
  namespace: z.string().optional(),
  release: z.string().optional(),
  fromRevision: z.number().int().optional(),
  toRevision: z.number().int().optional(),
  author: z.string().optional(),
  message: z.string().optional(),
  components: z.array(z.string()).optional(),
  /** A Helm revision's chart, from the release record's chart metadata. */
  chart: z.object({ name: z.string().min(1), version: z.string().optional() }).optional(),
  diff: z.array(diffEntrySchema),
});

/** A Kubernetes event or a pod state transition, normalised. */
export const eventSchema = z.object({
  time: isoTime,
  object: z.object({ kind: z.string(), name: z.string(), namespace: z.string().optional() }),
  reason: z.string(),
  message: z.string(),
  type: z.enum(['Normal', 'Warning']),
  count: z.number().int().positive().default(1),
  component: z.string().optional(),
});

/** A pod as it was at collection: its component, its containers, restarts and last termination. */
export const podSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  component: z.string().optional(),
  workload: z.string().optional(),
  labels: z.record(z.string(), z.string()).default({}),
  phase: z.string().optional(),
  node: z.string().optional(),
  startTime: isoTime.optional(),
  /** The pod's IPs (`status.podIPs`, else `status.podIP`): with a container port, who an address is. */
  ips: z.array(z.string()).optional(),
  containers: z
    .array(
      z.object({
        name: z.string(),
        image: z.string().optional(),
        ports: z
          .array(
            z.object({
              containerPort: z.number().int().positive(),
              name: z.string().optional(),
              protocol: z.string().optional(),
            }),
          )
          .optional(),
        /** The HTTP probes the kubelet sends (`httpGet`): their requests are not users'. */
        probes: z
          .array(
            z.object({
              kind: z.enum(['liveness', 'readiness', 'startup']),
              path: z.string(),
              /** The port number, a named port resolved through the container's ports. */
              port: z.number().int().positive().optional(),
            }),
          )
          .optional(),
        ready: z.boolean().optional(),
        restartCount: z.number().int().nonnegative().default(0),
        lastTermination: z
          .object({
            reason: z.string().optional(),
            exitCode: z.number().int().optional(),
            finishedAt: isoTime.optional(),
          })
          .optional(),
      }),
    )
    .default([]),
});

/** Which component calls which (nginx -> shop -> redis, postgresql), read from the release. */
export const topologySchema = z.object({
  components: z.array(z.object({ name: z.string(), dependsOn: z.array(z.string()).default([]) })),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type Series = z.infer<typeof seriesSchema>;
export type DiffEntry = z.infer<typeof diffEntrySchema>;
export type Change = z.infer<typeof changeSchema>;
export type BundleEvent = z.infer<typeof eventSchema>;
export type Pod = z.infer<typeof podSchema>;
export type Topology = z.infer<typeof topologySchema>;
export type SourceStatus = Manifest['sources'][number];
