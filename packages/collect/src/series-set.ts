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

  /**
   * Gives each series the labels `fn` returns for it (unchanged when undefined); series that come to
   * share their name and labels are merged into one.
   */
  relabel(fn: (labels: Record<string, string>) => Record<string, string> | undefined): void {
    const all = [...this.series.values()];
    this.series.clear();
    for (const s of all) {
      const labels = fn(s.labels) ?? s.labels;
      for (const [t, v] of s.points) this.add(s.name, labels, s.kind, t, v, s.unit);
    }
  }

  /** True when the labels of some series satisfy `test`. */
  some(test: (labels: Record<string, string>) => boolean): boolean {
    for (const s of this.series.values()) if (test(s.labels)) return true;
    return false;
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
