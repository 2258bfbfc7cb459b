import { levelWeight } from '../log-line.js';
import { detectShifts } from '../stats.js';
import type { LogGroup, TemplateStats } from '../log-model.js';
import type { Analyzer, AnalyzerContext, Evidence, Finding } from '../types.js';
import { fmt, gridPoints } from '../evidence.js';

// Words that say a user lost something even when the level is not an error.
const SYMPTOM =
  /\b(missing|lost|fail\w*|error\w*|timeout|timed out|refused|denied|expired|unavailable|stale|rejected|killed)\b/i;

const MIN_HISTORY_BUCKETS = 6;
// A bursty group: a few busy buckets before suffice when the template's absence there is unlikely.
const MIN_BURST_BUCKETS = 3;
// exp(-4.6) = 0.01: a template this common would have shown before with 99% probability.
const MIN_EXPECTED_BEFORE = 4.6;

/**
 * Traffic for a group: lines of the group at info level or above, so that a switch to debug
 * logging, which adds lines, does not look like every other template falling.
 */
function denominator(g: LogGroup, buckets: number): Float64Array {
  const d = new Float64Array(buckets);
  for (const t of g.templates.values()) {
    if (t.level === 'debug' || t.level === 'trace') continue;
    for (let i = 0; i < buckets; i++) d[i] = (d[i] as number) + (t.counts[i] as number);
  }
  return d;
}

function evidence(ctx: AnalyzerContext, t: TemplateStats, share: Float64Array): Evidence[] {
  const perSecond = Array.from(t.counts, (c) => c / (ctx.bucketMs / 1000));
  return [
    {
      type: 'series',
      name: `log template: ${t.template.slice(0, 80)}`,
      labels: { group: t.group, template: t.id, component: t.component },
      unit: 'lines/s',
      points: gridPoints(ctx, perSecond),
    },
    {
      type: 'series',
      name: `share of traffic: ${t.template.slice(0, 80)}`,
      labels: { group: t.group, template: t.id, component: t.component },
      unit: 'share',
      points: gridPoints(ctx, share),
    },
    { type: 'lines', template: t.template, lines: t.samples },
  ];
}

function podsText(t: TemplateStats): string {
  const pods = [...t.pods.keys()].sort();
  return pods.length <= 3 ? pods.join(', ') : `${pods.slice(0, 3).join(', ')} and ${pods.length - 3} more`;
}

/**
 * Log templates per workload and container (Drain), their rates per time bucket normalised by
 * traffic, and the templates that appear, vanish or change share at a point in time.
 */
export const logPatterns: Analyzer = {
  name: 'log-patterns',
  family: 'logs',
  needs: ['logs'],
  async analyze(_bundle, ctx) {
    const model = await ctx.data.logs();
    const n = ctx.data.buckets;
    const out: Finding[] = [];
    for (const g of model.groups) {
      const den = denominator(g, n);
      // Cumulative lines of the group, to know whether it was already logging before a template.
      const cum = new Float64Array(n + 1);
      const covered = new Float64Array(n + 1);
      for (let i = 0; i < n; i++) {
        cum[i + 1] = (cum[i] as number) + (g.totals[i] as number);
        covered[i + 1] = (covered[i] as number) + ((g.totals[i] as number) > 0 ? 1 : 0);
      }
      for (const t of [...g.templates.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
        if (t.count < 3) continue;
        const share = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          const d = den[i] as number;
          share[i] = d > 0 ? (t.counts[i] as number) / d : Number.NaN;
        }
        const weight = levelWeight(t.level);
        const symptom = SYMPTOM.test(t.template) || weight === 1;
        const first = Math.floor((t.firstTime - ctx.window.from) / ctx.bucketMs);
        const linesBefore = cum[Math.max(0, first)] as number;
        const label = `${g.name}: "${t.template.slice(0, 100)}"`;
        // New only against a history: the group logged in several buckets before (logs that start
        // late, or come back after a gap in collection, make every template look new). Buckets in
        // which the group wrote nothing are missing, not zero: logs collected in bursts (Nezha's
        // Train Ticket data keeps three minutes around each fault) have a history of a few busy
        // buckets. What decides is whether the template's absence before is itself unlikely: at the
        // share it has since it began, the group's earlier lines would have held it
        // `expectedBefore` times; the chance of none is exp(-expectedBefore) (Poisson).
        const history = covered[Math.max(0, first)] as number;
        const linesSince = (cum[n] as number) - linesBefore;
        const expectedBefore = linesSince > 0 ? (t.count / linesSince) * linesBefore : 0;
        const seasoned = linesBefore >= 20 && history >= MIN_HISTORY_BUCKETS;
        const unlikelyAbsent = history >= MIN_BURST_BUCKETS && expectedBefore >= MIN_EXPECTED_BEFORE;
        // A template the bundle's baseline (a period known to be normal) holds is not new, however
        // the window's own past looks: on Nezha's bursts of logs, normal lines of the next burst
        // looked new. (Calling new, and firm, what the baseline would have held but did not made
        // errors already under way when the window's logs begin outrank a later onset: top-1 on
        // Nezha's faults 0.8 -> 0.7, bench/RESULTS.md `## rca`.)
        if (t.baselineCount === 0 && first >= 2 && (seasoned || unlikelyAbsent)) {
          // A template the group never wrote before: how often it recurs after, not one burst.
          let hitBuckets = 0;
          for (let i = first; i < n; i++) if ((t.counts[i] as number) > 0) hitBuckets++;
          const recurrence = Math.min(1, hitBuckets / 5);
          const volume = Math.min(1, Math.log10(1 + t.count) / 2);
          const strength = Math.min(1, weight * volume * recurrence * (symptom ? 1 : 0.7));
          if (strength < 0.05) continue;
          out.push({
            id: `log:${g.name}:${t.id}`,
            analyzer: 'log-patterns',
            kind: 'anomaly',
            component: t.component,
            signal: `log:${g.name}:${t.id}`,
            title: `new log template in ${label}: ${t.count} lines (${t.level}) on ${podsText(t)}`,
            time: t.firstTime,
            end: t.lastTime,
            strength,
            direction: 'appeared',
            userFacing: symptom,
            evidence: evidence(ctx, t, share),
          });
          continue;
        }
        for (const sh of detectShifts(share, { minZ: 5, minRelative: 0.3 })) {
          const vanished = sh.direction === 'down' && sh.after === 0;
          // Warnings or errors that stop or fall are a recovery (an earlier failure ending), not an onset.
          const recovery = sh.direction === 'down' && symptom;
          const strength =
            sh.strength *
            (vanished ? Math.max(weight, 0.5) : weight) *
            (symptom ? 1 : 0.7) *
            (recovery ? 0.3 : 1);
          if (strength < 0.05) continue;
          const time = ctx.data.timeOf(sh.onset);
          const how = vanished
            ? 'vanished'
            : `${sh.direction === 'up' ? 'rose' : 'fell'} relative to traffic (share ${fmt(sh.before)} -> ${fmt(sh.after)})`;
          out.push({
            id: `log:${g.name}:${t.id}@${time}`,
            analyzer: 'log-patterns',
            kind: 'anomaly',
            component: t.component,
            signal: `log:${g.name}:${t.id}`,
            title: `log template ${how} in ${label} (${t.level})`,
            time,
            strength,
            direction: vanished ? 'vanished' : sh.direction,
            userFacing: symptom && sh.direction === 'up',
            evidence: evidence(ctx, t, share),
          });
        }
      }
    }
    return out;
  },
};
