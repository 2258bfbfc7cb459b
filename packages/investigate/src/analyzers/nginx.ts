import { counterIncrease, shiftCheck, startsLate } from '../checks.js';
import type { Analyzer, Finding } from '../types.js';
import { accessLogFindings } from './nginx-access.js';

// The statuses the collected nginx series follow on their own (nginx_status_5xx, _499, _502, _504).
const SERIES_STATUS = (status: number): boolean => status >= 500 || status === 499;

/**
 * Nginx from its access log as per-second series: 5xx, 499 (the client gave up), 504 (upstream
 * timed out), and the 99th percentile of request and upstream time; and from the access log's
 * lines, each error status as a share of all requests and each busy route's errors and time (see
 * accessLogFindings).
 */
export const nginxChecks: Analyzer = {
  name: 'nginx',
  needs: ['series', 'logs'],
  async analyze(bundle, ctx) {
    const all = (await ctx.data.series()).filter((s) => s.name.startsWith('nginx_'));
    const out: Finding[] = [];
    const spec = (what: string, strength: number) => ({
      analyzer: 'nginx',
      what,
      strength,
      userFacing: true,
    });
    for (const s of all) {
      // Errors from none: zero at first, or a pod a rollout created (its old pod's log is gone).
      const zeroBefore =
        startsLate(ctx, s) || s.points.slice(0, Math.max(3, s.points.length >> 3)).every(([, v]) => v === 0);
      switch (s.name) {
        case 'nginx_status_5xx':
        case 'nginx_status_504':
        case 'nginx_status_502':
        case 'nginx_status_499': {
          const what = `nginx: ${s.name.slice('nginx_status_'.length)} responses`;
          // Errors from none: any of them is news; from a steady trickle: only a shift counts.
          const f = shiftCheck(ctx, s, spec(what, 0.8), { direction: 'up' });
          if (f.length > 0) out.push(...f);
          else if (zeroBefore)
            out.push(
              ...counterIncrease(ctx, s, spec(what, 0.5)).map((x) => ({ ...x, kind: 'health' as const })),
            );
          break;
        }
        case 'nginx_request_time_p99':
        case 'nginx_upstream_time_p99':
          out.push(
            ...shiftCheck(
              ctx,
              s,
              spec(`nginx: ${s.name.includes('upstream') ? 'upstream' : 'request'} time p99`, 0.7),
              { direction: 'up' },
            ),
          );
          break;
        default:
          break;
      }
    }
    const withSeries = new Set(all.filter((s) => s.name.startsWith('nginx_status_')).map((s) => s.component));
    const covered = (c: string, status: number): boolean => withSeries.has(c) && SERIES_STATUS(status);
    out.push(...(await accessLogFindings(ctx, covered, bundle.baselineMs)));
    return out;
  },
};
