/**
 * Keeps at most `max` lines of one log, spread evenly over it: every line while they fit, then
 * every 2nd, every 4th... (the stride doubles each time the kept lines pass `max`). An even
 * stride keeps the shape of the log's rate over time, which the analyzers compare, where keeping
 * the first or last lines would not. Memory holds at most `max` lines.
 */
export class LineThinner {
  private readonly kept: Array<{ index: number; time: string; text: string }> = [];
  private stride = 1;
  /** Lines offered so far. */
  seen = 0;

  constructor(private readonly max: number) {}

  add(time: string, text: string): void {
    const index = this.seen++;
    if (index % this.stride !== 0) return;
    this.kept.push({ index, time, text });
    if (this.kept.length > this.max) {
      this.stride *= 2;
      const keep = this.kept.filter((l) => l.index % this.stride === 0);
      this.kept.length = 0;
      this.kept.push(...keep);
    }
  }

  /** The lines kept, in the order they came. */
  lines(): ReadonlyArray<{ time: string; text: string }> {
    return this.kept;
  }

  /** Every how many lines one was kept. */
  get every(): number {
    return this.stride;
  }
}

/** One log the budget cut: which, how many lines it held, how many were kept. */
export interface SkippedLog {
  log: string;
  seen: number;
  kept: number;
}

/** One line for the manifest's notes and the warnings: the budget, what it cut, the first logs named. */
export function describeSkipped(flag: string, max: number, skipped: readonly SkippedLog[]): string {
  const lines = skipped.reduce((n, s) => n + s.seen - s.kept, 0);
  const named = [...skipped]
    .sort((a, b) => b.seen - b.kept - (a.seen - a.kept) || (a.log < b.log ? -1 : 1))
    .slice(0, 10)
    .map((s) => `${s.log} kept ${s.kept} of ${s.seen}`);
  const more = skipped.length > named.length ? `, and ${skipped.length - named.length} more` : '';
  return `${flag} ${max}: ${lines} lines skipped in ${skipped.length} logs, the rest sampled evenly (${named.join('; ')}${more})`;
}
