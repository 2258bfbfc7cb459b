// The local program of each image the chart renders, one file per image, in one list.
import { join } from 'node:path';
import { HindsightError } from '@hindsight/core';
import {
  containerEnv,
  imageName,
  mapPath,
  type ContainerSpec,
  type PodContext,
  type ProcessSpec,
  type Program,
} from './container.js';
import { nginxExporter, postgresExporter, redisExporter } from './exporters.js';
import { nginx } from './nginx.js';
import { postgres } from './postgres.js';
import { redis } from './redis.js';
import { shop } from './shop.js';

export { containerEnv, mapPath, parseQuantity, rewriteText } from './container.js';
export type {
  ContainerSpec,
  LifecycleHandler,
  PodContext,
  ProbeSpec,
  ProcessSpec,
  Program,
} from './container.js';

/** Every image the lab runs. Add a program here and nowhere else. */
export const programs: readonly Program[] = [
  redis,
  postgres,
  nginx,
  shop,
  redisExporter,
  postgresExporter,
  nginxExporter,
];

/**
 * Why the lab does not run container `c` (an exporter in a lab without monitoring, or its program's
 * binary is missing on this machine), or undefined.
 */
export function missingProgram(c: ContainerSpec, monitoring = true): string | undefined {
  const program = programs.find((p) => p.matches(imageName(c.image)));
  if (program?.monitoring && !monitoring)
    return 'monitoring is off (`hindsight lab up --monitoring` runs it)';
  return program?.missing?.();
}

/**
 * Maps a container to a local program by its image: redis -> /usr/bin/redis-server, postgres ->
 * the PostgreSQL 15 binaries (initdb on first start, as the image's entrypoint), nginx ->
 * /usr/sbin/nginx, the shop image -> `node stack/shop/dist/main.js`. Command, args, env and config
 * files are the rendered ones, with ports, hosts and paths rewritten to the lab's.
 */
export function processSpec(ctx: PodContext, c: ContainerSpec): ProcessSpec {
  const image = imageName(c.image);
  const env = containerEnv(ctx, c);
  const cwd = c.workingDir ? mapPath(ctx, c.workingDir) : join(ctx.mounts.at(-1)?.local ?? '/tmp');
  const program = programs.find((p) => p.matches(image));
  if (program) return program.process(ctx, c, env, cwd);
  throw new HindsightError(
    'HINDSIGHT_LAB',
    `the lab maps no local program to image ${c.image}`,
    `pod ${ctx.pod} container ${c.name}`,
  );
}

/** Rewrites an exec probe's command to the pod's local ports (`-p 6379` -> `-p <pod port>`). */
export function probeCommand(ctx: PodContext, cmd: string[]): string[] {
  return cmd.map((part) =>
    part.replace(/\b(\d{2,5})\b/g, (w, n: string) => {
      const local = ctx.ports.get(Number(n));
      return local === undefined ? w : String(local);
    }),
  );
}
