import type { Pod } from '@hindsight/core';
import type { AccessFile } from '../log-model.js';
import { isProbeRequest } from '../probes.js';

/**
 * The access log without the kubelet's probes of the proxy's own pod (its liveness and readiness
 * paths, from pods.jsonl): they are no user's requests, and a proxy that answers its readiness probe
 * with 503 while it drains would otherwise read as users refused. A file whose pod probes none of
 * its logged routes is returned as it is.
 */
export function withoutProbes(f: AccessFile, pod: Pod | undefined): AccessFile {
  const probed = f.routes.map((r) => isProbeRequest(pod, r));
  if (!probed.includes(true)) return f;
  const out: AccessFile = {
    ...f,
    time: [],
    status: [],
    route: [],
    seconds: [],
    firstTry: [],
    tryUpstream: [],
    trySeconds: [],
    tryConnect: [],
    tryStatus: [],
    upstreamName: [],
  };
  for (let k = 0; k < f.time.length; k++) {
    if (probed[f.route[k] as number]) continue;
    out.time.push(f.time[k] as number);
    out.status.push(f.status[k] as number);
    out.route.push(f.route[k] as number);
    out.seconds.push(f.seconds[k] as number);
    out.upstreamName.push(f.upstreamName[k] as number);
    out.firstTry.push(out.tryUpstream.length);
    // A request's tries run to the next request's first (the last request's to the columns' end).
    const end = k + 1 < f.time.length ? (f.firstTry[k + 1] as number) : f.tryUpstream.length;
    for (let j = f.firstTry[k] as number; j < end; j++) {
      out.tryUpstream.push(f.tryUpstream[j] as number);
      out.trySeconds.push(f.trySeconds[j] as number);
      out.tryConnect.push(f.tryConnect[j] as number);
      out.tryStatus.push(f.tryStatus[j] as number);
    }
  }
  return out;
}
