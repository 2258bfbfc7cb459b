import type { Analyzer } from '../types.js';
import { configChanges } from './config-changes.js';
import { kubernetesHealth } from './kubernetes-health.js';
import { latency } from './latency.js';
import { logPatterns } from './log-patterns.js';
import { metricChanges } from './metric-changes.js';
import { nginxChecks } from './nginx.js';
import { postgresChecks } from './postgres.js';
import { redisChecks } from './redis.js';
import { tracePaths } from './trace-paths.js';

/** Every analyzer, in the order they run. Add an analyzer here and nowhere else. */
export const analyzers: readonly Analyzer[] = [
  configChanges,
  kubernetesHealth,
  logPatterns,
  tracePaths,
  latency,
  metricChanges,
  redisChecks,
  postgresChecks,
  nginxChecks,
];
