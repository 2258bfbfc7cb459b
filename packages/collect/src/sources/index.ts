import type { CommonOptions, Source } from '../source.js';
import { kubernetesSource } from './kubernetes.js';
import { helmSource } from './helm.js';
import { gitSource } from './git.js';
import { redisSource } from './redis.js';
import { postgresSource } from './postgres.js';
import { nginxSource } from './nginx.js';
import { prometheusSource } from './prometheus.js';
import { lokiSource } from './loki.js';
import { jaegerSource } from './jaeger.js';
import { tempoSource } from './tempo.js';

/**
 * Every source, in the order the progress display lists them. Add a source here and nowhere
 * else: `hindsight collect`'s flags and {@link CollectOptions} are derived from this list.
 */
const registry = [
  kubernetesSource,
  helmSource,
  gitSource,
  redisSource,
  postgresSource,
  nginxSource,
  prometheusSource,
  lokiSource,
  jaegerSource,
  tempoSource,
] as const;

/** Every source, in the order the progress display lists them. */
export const sources: readonly Source[] = registry;

type SettingsOf<S> = S extends Source<infer Settings> ? Settings : never;
type Intersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** Every source's settings together (`redis`, `postgres`, `nginxLog`, `promql`...). */
export type SourceSettings = Intersection<SettingsOf<(typeof registry)[number]>>;

/** Everything a collection can be told: the common options and each source's settings. */
export type CollectOptions = CommonOptions & SourceSettings;
