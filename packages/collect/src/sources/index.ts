import type { Source } from '../source.js';
import { kubernetesSource } from './kubernetes.js';
import { helmSource } from './helm.js';
import { gitSource } from './git.js';
import { redisSource } from './redis.js';
import { postgresSource } from './postgres.js';
import { nginxSource } from './nginx.js';
import { prometheusSource } from './prometheus.js';
import { lokiSource } from './loki.js';

/** Every source, in the order the progress display lists them. Add a source here and nowhere else. */
export const sources: readonly Source[] = [
  kubernetesSource,
  helmSource,
  gitSource,
  redisSource,
  postgresSource,
  nginxSource,
  prometheusSource,
  lokiSource,
];
