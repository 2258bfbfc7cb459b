// The Prometheus exporters the chart runs as sidecars -> Debian's binaries (prometheus-redis-exporter,
// prometheus-postgres-exporter, prometheus-nginx-exporter), with the pod's loopback ports rewritten to
// the lab's.
import { accessSync, constants } from 'node:fs';
import type { PodContext, Program } from './container.js';

/** `127.0.0.1:P` and `localhost:P` -> the pod's local port of container port P; `:P` (listen) -> loopback. */
export function rewriteLoopback(ctx: PodContext, text: string): string {
  return text
    .replace(/\b(?:127\.0\.0\.1|localhost):(\d{2,5})\b/g, (whole, port: string) => {
      const local = ctx.ports.get(Number(port));
      return local === undefined ? whole : `127.0.0.1:${local}`;
    })
    .replace(/(^|=)(?:0\.0\.0\.0)?:(\d{2,5})$/, (whole, pre: string, port: string) => {
      const local = ctx.ports.get(Number(port));
      return local === undefined ? whole : `${pre}127.0.0.1:${local}`;
    });
}

function installed(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** An exporter image run by a Debian package's binary, its args and env given as rendered. */
export function exporter(images: string[], binary: string, pkg: string): Program {
  const path = `/usr/bin/${binary}`;
  return {
    matches: (image) => images.includes(image),
    monitoring: true,
    missing: () =>
      installed(path) ? undefined : `${path} is not installed (apt-get install ${pkg}, or scripts/setup.sh)`,
    process(ctx, c, env, cwd) {
      const local: Record<string, string> = {};
      for (const [k, v] of Object.entries(env)) local[k] = rewriteLoopback(ctx, v);
      return {
        command: path,
        args: [...(c.command ?? []).slice(1), ...(c.args ?? [])].map((a) => rewriteLoopback(ctx, a)),
        env: local,
        cwd,
        stopSignal: 'SIGTERM',
      };
    },
  };
}

/** oliver006/redis_exporter. */
export const redisExporter = exporter(
  ['redis_exporter'],
  'prometheus-redis-exporter',
  'prometheus-redis-exporter',
);
/** quay.io/prometheuscommunity/postgres-exporter (and the older wrouesnel/postgres_exporter). */
export const postgresExporter = exporter(
  ['postgres-exporter', 'postgres_exporter'],
  'prometheus-postgres-exporter',
  'prometheus-postgres-exporter',
);
/** nginx/nginx-prometheus-exporter. */
export const nginxExporter = exporter(
  ['nginx-prometheus-exporter'],
  'prometheus-nginx-exporter',
  'prometheus-nginx-exporter',
);
