// Property: whatever a support bundle or an RCA dataset holds, importing it never fails with
// anything but a catalogued HindsightError (never HINDSIGHT_INTERNAL, never a raw ZodError), and what
// it writes validates. Fixed seed and bounded runs so CI stays fast; a counterexample printed here
// belongs in test/fixtures/hostile.
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HindsightError,
  encodeRelease,
  errorCatalogue,
  validateBundle,
  type HelmRelease,
} from '@hindsight/core';
import { mutation, mutate } from '../../../test/fixtures/hostile/mutate.mjs';
import { importRcaDataset, importSupportBundle } from './index.js';

const RUNS = { seed: 16, numRuns: 60 };

let tmp: string;
let n = 0;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-import-property-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function put(file: string, body: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, body);
}

async function filesOf(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** Imports into a new folder; a throw must be catalogued, a bundle written must validate. */
async function importsCleanly(run: (out: string) => Promise<unknown>): Promise<void> {
  const out = path.join(tmp, `out-${n++}`);
  try {
    await run(out);
  } catch (err) {
    expect(err).toBeInstanceOf(HindsightError);
    const code = (err as HindsightError).code;
    expect(Object.keys(errorCatalogue)).toContain(code);
    expect(code).not.toBe('HINDSIGHT_INTERNAL');
    // A failed import leaves nothing behind.
    expect(existsSync(out)).toBe(false);
    return;
  }
  const problems = await validateBundle(out);
  expect(problems.filter((p) => p.severity === 'error' || p.code === 'HINDSIGHT_INTERNAL')).toEqual([]);
  await rm(out, { recursive: true, force: true });
}

const T = '2026-01-01T10:0';
const release = (version: number, replicas: number): HelmRelease => ({
  name: 'shop',
  namespace: 'shop',
  version,
  info: { status: 'deployed', last_deployed: `${T}${version}:00Z` },
  chart: { metadata: { name: 'shop', version: '1.0.0' } },
  config: { redis: { replica: { replicaCount: replicas } } },
  manifest: '',
});

async function supportBundle(dir: string): Promise<void> {
  const cr = path.join(dir, 'cluster-resources');
  const meta = (name: string, extra: object = {}) => ({
    name,
    namespace: 'shop',
    uid: `u-${name}`,
    ...extra,
  });
  await put(
    path.join(cr, 'pods/shop.json'),
    JSON.stringify({
      items: [
        {
          metadata: meta('web-7d4f-abcde', {
            labels: { app: 'web', 'pod-template-hash': '7d4f' },
            ownerReferences: [{ kind: 'ReplicaSet', name: 'web-7d4f' }],
          }),
          spec: { nodeName: 'n1', containers: [{ name: 'web', image: 'web:1' }] },
          status: {
            phase: 'Running',
            startTime: `${T}0:00Z`,
            containerStatuses: [
              {
                name: 'web',
                image: 'web:1',
                ready: true,
                restartCount: 2,
                state: { running: { startedAt: `${T}1:00Z` } },
                lastState: {
                  terminated: {
                    reason: 'Error',
                    exitCode: 1,
                    startedAt: `${T}0:00Z`,
                    finishedAt: `${T}0:30Z`,
                  },
                },
              },
            ],
          },
        },
      ],
    }),
  );
  await put(
    path.join(cr, 'events/shop.json'),
    JSON.stringify({
      items: [
        {
          metadata: meta('e1'),
          involvedObject: { kind: 'Pod', name: 'web-7d4f-abcde', namespace: 'shop' },
          reason: 'BackOff',
          message: 'Back-off restarting failed container',
          type: 'Warning',
          count: 3,
          lastTimestamp: `${T}2:00Z`,
        },
      ],
    }),
  );
  const rs = (rev: number, image: string) => ({
    metadata: meta(`web-${rev}`, {
      creationTimestamp: `${T}${rev}:00Z`,
      annotations: { 'deployment.kubernetes.io/revision': String(rev) },
      ownerReferences: [{ kind: 'Deployment', name: 'web' }],
    }),
    spec: {
      replicas: 1,
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } },
    },
  });
  await put(
    path.join(cr, 'replicasets/shop.json'),
    JSON.stringify({ items: [rs(1, 'web:1'), rs(2, 'web:2')] }),
  );
  await put(
    path.join(cr, 'deployments/shop.json'),
    JSON.stringify({
      items: [{ metadata: meta('web'), spec: { replicas: 2 }, status: { readyReplicas: 1 } }],
    }),
  );
  const secret = (r: HelmRelease) => ({
    metadata: { name: `sh.helm.release.v1.shop.v${r.version}`, namespace: 'shop' },
    data: { release: Buffer.from(encodeRelease(r)).toString('base64') },
  });
  await put(
    path.join(cr, 'secrets/shop.json'),
    JSON.stringify({ items: [secret(release(1, 2)), secret(release(2, 6))] }),
  );
  await put(
    path.join(cr, 'pods/logs/shop/web-7d4f-abcde/web.log'),
    `${T}1:00.000Z started\nno time here\n${T}1:30.000Z GET / 200\n`,
  );
}

async function rcaDataset(dir: string): Promise<void> {
  await put(
    path.join(dir, 'log.csv'),
    [
      'Timestamp,PodName,TraceID,SpanID,Log',
      '2026-02-01T10:00:00Z,api-5d8f7c6b9a-qwert,0123,ab,started',
      '2026-02-01T10:01:00Z,api-5d8f7c6b9a-qwert,0123,ab,GET / 200',
      '',
    ].join('\n'),
  );
  await put(
    path.join(dir, 'trace/trace.csv'),
    [
      'TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration',
      'aa11,s1,root,web-5d8f7c6b9a-qwert,GET /,1769940000000000100,1769940000010000300,10000',
      'aa11,s2,s1,cart-6c7d8e9f0a-asdfg,Get,1769940000001500000,1769940000003500000,2000',
      '',
    ].join('\n'),
  );
  await put(
    path.join(dir, 'metric/web-5d8f7c6b9a-qwert_metric.csv'),
    ['Time,TimeStamp,PodName,CpuUsage(m)', '2026-02-01 10:00:00,1769940000,web-5d8f7c6b9a-qwert,5', ''].join(
      '\n',
    ),
  );
}

/** A CSV cell given a value it should not hold. */
const cellMutation = fc.record({
  line: fc.nat(),
  column: fc.nat(),
  value: fc.constantFrom(
    '',
    '-1',
    '2.5',
    '1e300',
    '-1e300',
    'NaN',
    'x',
    '99999999999999999999999',
    '"',
    '1970-01-01T00:00:00Z',
  ),
});

function mutateCell(text: string, m: { line: number; column: number; value: string }): string {
  const lines = text.split('\n');
  const i = m.line % lines.length;
  const cells = (lines[i] ?? '').split(',');
  cells[m.column % cells.length] = m.value;
  lines[i] = cells.join(',');
  return lines.join('\n');
}

describe('importers on mutated inputs', () => {
  it('import support-bundle throws only catalogued errors and writes bundles that validate', async () => {
    const valid = path.join(tmp, 'sb');
    await supportBundle(valid);
    const files = await filesOf(valid);
    await fc.assert(
      fc.asyncProperty(fc.nat(), mutation, async (which, m) => {
        const dir = path.join(tmp, `sb-${n++}`);
        await cp(valid, dir, { recursive: true });
        const rel = files[which % files.length] as string;
        await writeFile(path.join(dir, rel), mutate(await readFile(path.join(dir, rel)), m));
        await importsCleanly((out) => importSupportBundle(dir, out));
        await rm(dir, { recursive: true, force: true });
      }),
      RUNS,
    );
  });

  it('import support-bundle leaves nothing at the output path when it fails', async () => {
    const dir = path.join(tmp, 'not-a-support-bundle');
    await mkdir(dir, { recursive: true });
    const out = path.join(tmp, 'never');
    await expect(importSupportBundle(dir, out)).rejects.toBeInstanceOf(HindsightError);
    expect(existsSync(out)).toBe(false);
  });

  it('import rca-dataset throws only catalogued errors and writes bundles that validate', async () => {
    const valid = path.join(tmp, 'rca');
    await rcaDataset(valid);
    const files = await filesOf(valid);
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.oneof(
          mutation.map((m) => ({ bytes: m })),
          cellMutation.map((c) => ({ cell: c })),
        ),
        async (which, m) => {
          const dir = path.join(tmp, `rca-${n++}`);
          await cp(valid, dir, { recursive: true });
          const file = path.join(dir, files[which % files.length] as string);
          const before = await readFile(file);
          await writeFile(
            file,
            'bytes' in m ? mutate(before, m.bytes) : mutateCell(before.toString('utf8'), m.cell),
          );
          await importsCleanly((out) => importRcaDataset(dir, out));
          await rm(dir, { recursive: true, force: true });
        },
      ),
      RUNS,
    );
  });
});
