import type { BundleWriter, Series } from '@hindsight/core';

/** Gathers points of many series by name and labels, then writes them in a stable order. */
export class SeriesSet {
  private readonly series = new Map<string, Series>();

  add(
    name: string,
    labels: Record<string, string>,
    kind: Series['kind'],
    time: number,
    value: number,
    unit?: string,
  ): void {
    if (!Number.isFinite(value)) return;
    const key = `${name}\u0000${Object.entries(labels)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('\u0000')}`;
    let s = this.series.get(key);
    if (!s) {
      s = { name, labels, kind, points: [], ...(unit ? { unit } : {}) };
      this.series.set(key, s);
    }
    s.points.push([time, value]);
  }

  get size(): number {
    return this.series.size;
  }

  /** Writes every series, sorted by key, with points in time order; returns how many. */
  async writeTo(writer: BundleWriter): Promise<number> {
    const keys = [...this.series.keys()].sort();
    for (const k of keys) {
      const s = this.series.get(k) as Series;
      s.points.sort((a, b) => a[0] - b[0]);
      await writer.addSeries(s);
    }
    return keys.length;
  }
}
