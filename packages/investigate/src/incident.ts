import type { Finding } from './types.js';

/**
 * How far an incident's given time (an alert, a user's report) may lag its onset: an anomaly that
 * ended up to this long before it may still be its start.
 */
export const INCIDENT_SLACK_MS = 60_000;

/**
 * Whether an anomaly had ended before an incident known to be under way at `at` began: what
 * recovered before the incident did not cause it. Anomalies without an end (level shifts) never did.
 */
export function endedBefore(f: Pick<Finding, 'kind' | 'end'>, at: number): boolean {
  return f.kind === 'anomaly' && f.end !== undefined && f.end < at - INCIDENT_SLACK_MS;
}
