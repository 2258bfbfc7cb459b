// How analyzers show what they saw: grid values as chart points, a series as evidence, a number in
// a title. Shared by every analyzer and check, so none imports another analyzer for them.
import type { PreparedSeries } from './data.js';
import type { AnalyzerContext, SeriesEvidence } from './types.js';

/** Bucket values as chart points. */
export function gridPoints(ctx: AnalyzerContext, values: ArrayLike<number>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isFinite(v)) out.push([ctx.data.timeOf(i), Math.round(v * 1e6) / 1e6]);
  }
  return out;
}

/** Series evidence for a prepared series. */
export function seriesEvidence(
  ctx: AnalyzerContext,
  s: PreparedSeries,
  before?: number,
  after?: number,
): SeriesEvidence {
  return {
    type: 'series',
    name: s.name,
    labels: s.labels,
    unit: s.unit,
    points: gridPoints(ctx, s.values),
    ...(before === undefined ? {} : { before }),
    ...(after === undefined ? {} : { after }),
  };
}

/** A number shown briefly. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 100 || Number.isInteger(v)) return String(Math.round(v));
  if (a >= 1) return v.toFixed(1);
  return v.toPrecision(2);
}
