import type { Finding, Hypothesis } from '../types.js';

// The pod a kubernetes finding is about, from the ids kubernetes-health gives its findings
// (`k8s:Pod/NAME:Reason`, `k8s:pod/NAME/container:restarts`).
const POD_IN_ID = /^k8s:pod\/([^/:@]+)/i;
// The objects a node finding's events name (`Pod/NAME`).
const POD_OBJECT = /^pod\/(.+)$/i;

/** The pods a node-level finding says stopped with the node. */
function podsOf(node: Finding): Set<string> {
  const pods = new Set<string>();
  for (const e of node.evidence) {
    const m = e.type === 'event' ? POD_OBJECT.exec(e.object) : null;
    if (m?.[1]) pods.add(m[1]);
  }
  return pods;
}

/**
 * One node restart is one hypothesis: a component hypothesis whose every finding is a pod that a
 * higher-ranked node hypothesis says stopped with the node is folded into it (its findings added
 * to what the node explains, its component named in the node's reasons), and the rest renumbered.
 */
export function foldIntoNodes(hypotheses: Hypothesis[], findings: readonly Finding[]): Hypothesis[] {
  const byId = new Map(findings.map((f) => [f.id, f]));
  const out: Hypothesis[] = [];
  const nodes: Array<{ h: Hypothesis; pods: Set<string>; folded: string[] }> = [];
  for (const h of hypotheses) {
    if (h.cause.type === 'component' && h.cause.component.startsWith('node/')) {
      const pods = new Set<string>();
      for (const id of h.explains)
        for (const p of podsOf(byId.get(id) ?? ({ evidence: [] } as unknown as Finding))) pods.add(p);
      const copy = { ...h, explains: [...h.explains], reasons: [...h.reasons] };
      nodes.push({ h: copy, pods, folded: [] });
      out.push(copy);
      continue;
    }
    const pods = h.chain.map((s) => POD_IN_ID.exec(s.findingId)?.[1]);
    const home =
      h.cause.type === 'component' && pods.length > 0
        ? nodes.find((n) => pods.every((p) => p !== undefined && n.pods.has(p)))
        : undefined;
    if (!home) {
      out.push(h);
      continue;
    }
    home.h.explains.push(...h.explains.filter((id) => !home.h.explains.includes(id)));
    home.folded.push(h.cause.type === 'component' ? h.cause.component : h.title);
  }
  for (const n of nodes) {
    if (n.folded.length > 0)
      n.h.reasons.push(`the restarts of ${n.folded.join(', ')} are this node's, not causes of their own`);
  }
  return out.map((h, i) => ({ ...h, rank: i + 1 }));
}
