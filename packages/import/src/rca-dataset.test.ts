import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openBundle, validateBundle, type Series, type Span } from '@hindsight/core';
import { importRcaDataset } from './index.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const nezha = path.resolve(repo, '../shared/data/nezha-tt-dev');
const rcaeval = path.resolve(repo, '../shared/data/rcaeval-sample');
if (!existsSync(nezha)) console.warn(`skipping Nezha imports: ${nezha} is absent`);
if (!existsSync(rcaeval)) console.warn(`skipping RCAEval imports: ${rcaeval} is absent`);

const temps: string[] = [];
async function temp(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'hs-import-rca-'));
  temps.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

async function* lines(file: string): AsyncGenerator<string> {
  yield* createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
}

async function bundleCounts(out: string) {
  const bundle = await openBundle(out);
  try {
    const logLines = new Map<string, number>();
    for (const ref of await bundle.logs()) {
      let n = 0;
      for await (const _ of bundle.readLog(ref)) n += 1;
      logLines.set(ref.pod, n);
    }
    const points = new Map<string, number>();
    for await (const s of bundle.series()) {
      const key = `${s.labels['pod'] ?? s.labels['component']}|${s.name}`;
      points.set(key, (points.get(key) ?? 0) + s.points.length);
    }
    return { logLines, points, warnings: bundle.warnings };
  } finally {
    await bundle.close();
  }
}

describe.skipIf(!existsSync(rcaeval))('importRcaDataset on the RCAEval sample (one wide metric CSV)', () => {
  it('keeps all 72 columns as series with every numeric cell, split into service and metric', async () => {
    const out = path.join(await temp(), 'bundle');
    const result = await importRcaDataset(rcaeval, out);
    expect(await validateBundle(out)).toEqual([]);
    // Independent count: cells of each column that hold a number (the README lists 4 empty cells).
    const text = await readFile(path.join(rcaeval, 'simple_metrics.csv'), 'utf8');
    const [head, ...rows] = text.trim().split('\n');
    const header = (head as string).split(',');
    const want = new Map<string, number>();
    for (const row of rows) {
      row.split(',').forEach((cell, i) => {
        if (i === 0 || cell.trim() === '' || Number.isNaN(Number(cell))) return;
        const col = header[i] as string;
        const cut = col.lastIndexOf('_');
        const key = `${col.slice(0, cut)}|${col.slice(cut + 1)}`;
        want.set(key, (want.get(key) ?? 0) + 1);
      });
    }
    expect(want.size).toBe(72);
    const got = await bundleCounts(out);
    expect(got.points).toEqual(want);
    expect(got.points.get('frontend|latency-90')).toBe(1441);
    expect(result.counts['missingCells']).toBe(4);
    expect(result.warnings).toEqual([]);
  });

  it('reports a malformed row with its file and line, skips it and imports the rest', async () => {
    const dir = await temp();
    const src = (await readFile(path.join(rcaeval, 'simple_metrics.csv'), 'utf8')).split('\n').slice(0, 11);
    // Line 4: a field short; line 7: a time that is not one; line 11 (the last): an unclosed quote.
    src[3] = (src[3] as string).split(',').slice(0, -1).join(',');
    src[6] = `yesterday,${(src[6] as string).split(',').slice(1).join(',')}`;
    src[10] = `${(src[10] as string).split(',')[0]},"0.5,${(src[10] as string).split(',').slice(2).join(',')}`;
    await writeFile(path.join(dir, 'bad_metrics.csv'), `${src.join('\n')}\n`);
    const out = path.join(dir, 'bundle');
    const result = await importRcaDataset(dir, out);
    const where = result.warnings.map((w) => w.where);
    expect(where).toContain('bad_metrics.csv:4');
    expect(where).toContain('bad_metrics.csv:7');
    expect(where).toContain('bad_metrics.csv:11');
    expect(result.warnings.every((w) => w.code === 'HINDSIGHT_IMPORT')).toBe(true);
    expect(await validateBundle(out)).toEqual([]);
    const got = await bundleCounts(out);
    // 10 data rows, 3 of them malformed: every column keeps the other 7.
    expect(new Set(got.points.values())).toEqual(new Set([7]));
    expect(got.points.size).toBe(72);
    expect(result.counts['skippedRows']).toBe(3);
  });
});

describe.skipIf(!existsSync(nezha))(
  'importRcaDataset on Nezha Train Ticket (per-pod metric and log CSVs)',
  () => {
    const from = Date.parse('2023-01-29T10:03:00Z');
    const to = Date.parse('2023-01-29T10:07:00Z');

    it('imports a window, and the fault-free reference whole as the baseline, with every log line and metric point', async () => {
      const out = path.join(await temp(), 'bundle');
      const result = await importRcaDataset(nezha, out, {
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
      });
      expect(await validateBundle(out)).toEqual([]);
      const got = await bundleCounts(out);

      // Logs, counted line by line: the fields before the last (quoted) one hold no comma, so the
      // timestamp and pod are the 1st and 4th. Rows the importer reported as malformed are left out.
      const skipped = new Set(result.warnings.filter((w) => /:\d+$/.test(w.where ?? '')).map((w) => w.where));
      const wantLogs = new Map<string, number>();
      const baseline = { from: Infinity, to: -Infinity };
      for (const folder of ['construct_data/2023-01-29/log', 'rca_data/2023-01-29/log']) {
        const isBaseline = folder.startsWith('construct_data');
        for (const name of (await readdir(path.join(nezha, folder))).sort()) {
          let n = 0;
          for await (const line of lines(path.join(nezha, folder, name))) {
            n += 1;
            if (n === 1) continue;
            const f = line.split(',', 4);
            const t = Date.parse((f[0] as string).endsWith('Z') ? (f[0] as string) : `${f[0]}Z`);
            if (isBaseline) {
              baseline.from = Math.min(baseline.from, t);
              baseline.to = Math.max(baseline.to, t);
            } else if (!(t >= from && t <= to)) continue;
            if (skipped.has(`${folder}/${name}:${n}`)) continue;
            wantLogs.set(f[3] as string, (wantLogs.get(f[3] as string) ?? 0) + 1);
          }
        }
      }
      expect(got.logLines).toEqual(wantLogs);
      // Spans: the reference's whole (its extent joins the baseline's) and the window's, each span
      // counted once in its pod's span_count series.
      let spans = 0;
      for (const folder of ['construct_data/2023-01-29/trace', 'rca_data/2023-01-29/trace']) {
        const isBaseline = folder.startsWith('construct_data');
        for (const name of (await readdir(path.join(nezha, folder))).sort()) {
          let first = true;
          for await (const line of lines(path.join(nezha, folder, name))) {
            if (first || line === '') {
              first = false;
              continue;
            }
            const t = Number(line.split(',')[5]) / 1e6;
            if (isBaseline) {
              baseline.from = Math.min(baseline.from, t);
              baseline.to = Math.max(baseline.to, t);
            } else if (!(t >= from && t <= to)) continue;
            spans += 1;
          }
        }
      }
      let spanCount = 0;
      for (const [key, n] of got.points) if (key.endsWith('|span_count')) spanCount += n;
      expect(spanCount).toBeGreaterThan(0);
      expect(result.counts['spans']).toBe(spans);
      // ... and each one is in spans.jsonl, streamed back with its call's parent and component.
      const spanBundle = await openBundle(out);
      let written = 0;
      let linked = 0;
      for await (const s of spanBundle.spans()) {
        written += 1;
        if (s.parent !== undefined && s.component.startsWith('ts-')) linked += 1;
      }
      await spanBundle.close();
      expect(written).toBe(spans);
      expect(linked).toBeGreaterThan(spans / 2);
      expect(result.manifest.baseline?.from).toBe(new Date(Math.floor(baseline.from)).toISOString());
      expect(Date.parse(result.manifest.baseline?.to ?? '')).toBe(Math.floor(baseline.to));
      expect([...wantLogs.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(3000);
      // The real 10_06 file holds a broken row (two records run together at line 631): reported, skipped.
      expect(skipped).toContain('rca_data/2023-01-29/log/10_06_log.csv:631');

      // Metrics: every column but Time, TimeStamp and PodName, numeric cells in the window.
      const metricDir = path.join(nezha, 'rca_data/2023-01-29/metric');
      const wantPoints = new Map<string, number>();
      for (const name of await readdir(metricDir)) {
        const [head, ...rows] = (await readFile(path.join(metricDir, name), 'utf8')).trim().split('\n');
        const header = (head as string).split(',');
        const idCol = header.findIndex((h) => h === 'PodName' || h === 'ServiceName');
        for (const row of rows) {
          const f = row.split(',');
          const t = Number(f[1]) * 1000;
          if (!(t >= from && t <= to)) continue;
          f.forEach((cell, i) => {
            if (i < 2 || i === idCol || cell === '' || Number.isNaN(Number(cell))) return;
            const key = `${f[idCol]}|${header[i]}`;
            wantPoints.set(key, (wantPoints.get(key) ?? 0) + 1);
          });
        }
      }
      const metricPoints = new Map([...got.points].filter(([k]) => !/\|span_/.test(k)));
      expect(metricPoints).toEqual(wantPoints);
      // The service is the pod's Deployment: the pod name without its last two parts.
      const bundle = await openBundle(out);
      const pods = await bundle.pods();
      await bundle.close();
      expect(pods).toHaveLength(46);
      expect(pods.find((p) => p.name === 'ts-travel-service-64469b5b48-25zj6')?.component).toBe(
        'ts-travel-service',
      );
    });
  },
);

describe('importRcaDataset with a fault-free reference folder', () => {
  const header = 'Timestamp,PodName,TraceID,SpanID,Log';
  const row = (t: string, msg: string): string =>
    `${t},api-5d8f7c6b9a-qwert,0123456789abcdef0123456789abcdef,0123456789abcdef,${msg}`;

  async function dataset(): Promise<string> {
    const dir = await temp();
    await mkdir(path.join(dir, 'reference'), { recursive: true });
    await mkdir(path.join(dir, 'incident'), { recursive: true });
    await writeFile(
      path.join(dir, 'reference/log.csv'),
      [
        header,
        row('2026-02-01T08:00:00.000000300Z', 'b'),
        row('2026-02-01T08:00:00.000000100Z', 'a'),
        '',
      ].join('\n'),
    );
    await writeFile(
      path.join(dir, 'incident/log.csv'),
      [header, row('2026-02-01T10:00:00Z', 'c'), row('2026-02-01T10:05:00Z', 'd'), ''].join('\n'),
    );
    return dir;
  }

  it('imports the reference whole as the baseline, outside the window, in nanosecond order', async () => {
    const dir = await dataset();
    const out = path.join(dir, 'bundle');
    const result = await importRcaDataset(dir, out, { baseline: 'reference' });
    // Without --from/--to the window is the data's extent, the reference left out.
    expect(result.manifest.window).toEqual({
      from: '2026-02-01T10:00:00.000Z',
      to: '2026-02-01T10:05:00.000Z',
    });
    expect(result.manifest.baseline).toMatchObject({
      from: '2026-02-01T08:00:00.000Z',
      to: '2026-02-01T08:00:00.000Z',
    });
    expect(await validateBundle(out)).toEqual([]);
    const bundle = await openBundle(out);
    const [ref] = await bundle.logs();
    const got: string[] = [];
    for await (const l of bundle.readLog(ref!)) got.push(`${l.subMs} ${l.text.split(' ')[0]}`);
    await bundle.close();
    expect(got).toEqual(['100 a', '300 b', '0 c', '0 d']);
  });

  it('leaves the reference out when told, and names a baseline folder that is not there', async () => {
    const dir = await dataset();
    const none = await importRcaDataset(dir, path.join(dir, 'b1'), { baseline: false });
    expect(none.manifest.baseline).toBeUndefined();
    expect(none.manifest.window.from).toBe('2026-02-01T08:00:00.000Z');
    await expect(importRcaDataset(dir, path.join(dir, 'b2'), { baseline: 'normal' })).rejects.toMatchObject({
      code: 'HINDSIGHT_INPUT_MISSING',
    });
  });

  it('names a dataset folder that is not there', async () => {
    const dir = await dataset();
    const missing = path.join(dir, 'no-such-dataset');
    await expect(importRcaDataset(missing, path.join(dir, 'b3'))).rejects.toMatchObject({
      code: 'HINDSIGHT_INPUT_MISSING',
      message: `dataset folder not found (${missing})`,
    });
  });
});

describe('importRcaDataset on span files and call-edge latency files', () => {
  it('writes each span with its parent, pod, operation and nanosecond times, and labels each edge by caller and callee and a service as its pods spell it', async () => {
    const dir = await temp();
    await mkdir(path.join(dir, 'trace'), { recursive: true });
    await mkdir(path.join(dir, 'metric'), { recursive: true });
    await writeFile(
      path.join(dir, 'trace/10_00_trace.csv'),
      [
        'TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration',
        'aa11,s1,root,web-5d8f7c6b9a-qwert,GET /,1769940000000000100,1769940000010000300,10000',
        'aa11,s2,s1,web-5d8f7c6b9a-qwert,cart/Get,1769940000001000000,1769940000004000003,3000',
        'aa11,s3,s2,cart-6c7d8e9f0a-asdfg,Get,1769940000001500000,1769940000003500000,2000',
        '',
      ].join('\n'),
    );
    await writeFile(
      path.join(dir, 'metric/source_50.csv'),
      [
        'time,timestamp,web_cart,web_checkout,checkout_cart',
        '2026-02-01 10:00:00,1769940000,0.003,0.5,0.004',
        '',
      ].join('\n'),
    );
    await writeFile(
      path.join(dir, 'metric/front_service.csv'),
      ['Time,TimeStamp,ServiceName,LatencyP50(s)', '2026-02-01 10:00:00,1769940000,Web,0.1', ''].join('\n'),
    );
    await writeFile(
      path.join(dir, 'metric/web-5d8f7c6b9a-qwert_metric.csv'),
      [
        'Time,TimeStamp,PodName,CpuUsage(m)',
        '2026-02-01 10:00:00,1769940000,web-5d8f7c6b9a-qwert,5',
        '',
      ].join('\n'),
    );
    await writeFile(
      path.join(dir, 'metric/wide.csv'),
      ['time,web_cpu,cart_latency-90', '2026-02-01T10:00:00Z,0.5,0.02', ''].join('\n'),
    );
    const out = path.join(dir, 'bundle');
    await importRcaDataset(dir, out);
    expect(await validateBundle(out)).toEqual([]);
    const bundle = await openBundle(out);
    const spans: Span[] = [];
    for await (const s of bundle.spans()) spans.push(s);
    const series: Series[] = [];
    for await (const s of bundle.series()) series.push(s);
    const topology = await bundle.topology();
    await bundle.close();
    expect(spans).toEqual([
      {
        trace: 'aa11',
        span: 's1',
        component: 'web',
        pod: 'web-5d8f7c6b9a-qwert',
        operation: 'GET /',
        start: '2026-02-01T10:00:00.000000100Z',
        durationMs: 10.0002,
      },
      {
        trace: 'aa11',
        span: 's2',
        parent: 's1',
        component: 'web',
        pod: 'web-5d8f7c6b9a-qwert',
        operation: 'cart/Get',
        start: '2026-02-01T10:00:00.001000000Z',
        durationMs: 3.000003,
      },
      {
        trace: 'aa11',
        span: 's3',
        parent: 's2',
        component: 'cart',
        pod: 'cart-6c7d8e9f0a-asdfg',
        operation: 'Get',
        start: '2026-02-01T10:00:00.001500000Z',
        durationMs: 2,
      },
    ]);
    expect(topology?.components).toEqual([{ name: 'web', dependsOn: ['cart'] }]);
    const labelsOf = (name: string): Array<Record<string, string>> =>
      series.filter((s) => s.name === name).map((s) => s.labels);
    expect(labelsOf('source_50')).toEqual([
      { source: 'rca-metrics', component: 'cart', caller: 'web', callee: 'cart' },
      { source: 'rca-metrics', component: 'checkout', caller: 'web', callee: 'checkout' },
      { source: 'rca-metrics', component: 'cart', caller: 'checkout', callee: 'cart' },
    ]);
    // A service column's `Web` is the service of the pods named `web-...`.
    expect(labelsOf('LatencyP50(s)')).toEqual([{ source: 'rca-metrics', component: 'web' }]);
    // RCAEval's `<service>_<metric>` columns stay what they were: no metric is also a service.
    expect(labelsOf('latency-90')).toEqual([{ source: 'rca-metrics', component: 'cart' }]);
  });
});
