// Values typed by `--set` reach the chart exactly as they reach it from the real `helm --set`: the
// lab's render of parseSetValues(sets) is compared with helm's own render of the same --set flags.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parse as parseYamlAll } from 'yaml';
import { describe, expect, it } from 'vitest';
import { findHelm, parseSetValues, renderChart, defaultChartDir, typedSetValue } from './index.js';

const execFileP = promisify(execFile);

// Strings that YAML 1.1 (Helm's reader) would re-type when written bare, and the edges of --set typing.
const TRICKY = [
  'y',
  'n',
  'yes',
  'No',
  'on',
  'OFF',
  '1.5',
  '010',
  '0x1F',
  '1e3',
  '~',
  '2026-01-01',
  'a b',
  '12345678901234567890',
];

interface Workload {
  kind?: string;
  metadata?: { name?: string };
  spec: { template: { metadata: { annotations: Record<string, unknown> } } };
}

function shopPodAnnotations(manifest: string): Record<string, unknown> {
  for (const doc of manifest.split(/^---$/m)) {
    const o = parseYamlAll(doc) as Workload | null;
    if (o?.kind === 'Deployment' && o.metadata?.name === 'shop-shop')
      return o.spec.template.metadata.annotations;
  }
  throw new Error('no shop Deployment in the manifest');
}

describe('values for Helm', () => {
  it('types --set values as helm does: ints, true/false, null; everything else a string', () => {
    expect(TRICKY.map(typedSetValue)).toEqual(TRICKY);
    expect(['0', '42', '-7', 'true', 'FALSE', 'null'].map(typedSetValue)).toEqual([
      0,
      42,
      -7,
      true,
      false,
      null,
    ]);
  });

  it('renders `--set shop.podAnnotations.x=y` as the string "y", exactly as helm --set does', async () => {
    const sets = TRICKY.map((v, i) => `shop.podAnnotations.k${i}=${v.replace(/,/g, '\\,')}`);
    const lab = await renderChart({
      chartDir: defaultChartDir,
      release: 'shop',
      namespace: 'default',
      values: parseSetValues(sets),
    });
    const annotations = shopPodAnnotations(lab.manifest);
    TRICKY.forEach((v, i) => expect(annotations[`k${i}`]).toBe(v));
    const { stdout } = await execFileP(
      findHelm(),
      ['template', 'shop', defaultChartDir, '--namespace', 'default', ...sets.flatMap((s) => ['--set', s])],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    expect(shopPodAnnotations(stdout)).toEqual(annotations);
  });
});
