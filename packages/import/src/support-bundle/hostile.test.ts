import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openBundle, validateBundle } from '@hindsight/core';
import { importSupportBundle } from '../index.js';

const temps: string[] = [];
async function temp(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'hs-import-sb-hostile-'));
  temps.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

type Obj = Record<string, unknown>;
const pod = (name: string): Obj => ({
  metadata: { name, namespace: 'shop', labels: { app: 'web' }, uid: `uid-${name}` },
  spec: { nodeName: 'node-a', containers: [{ name: 'web', image: 'example/web:1' }] },
  status: {
    phase: 'Running',
    containerStatuses: [{ name: 'web', image: 'example/web:1', ready: true, restartCount: 0 }],
  },
});
const event = (uid: string, minute: number): Obj => ({
  metadata: { uid, namespace: 'shop' },
  involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'shop' },
  reason: 'BackOff',
  message: 'Back-off restarting failed container',
  type: 'Warning',
  count: 3,
  lastTimestamp: new Date(Date.UTC(2026, 0, 1, 10, minute)).toISOString(),
});

/** A support bundle folder with the pods and events given, in cluster-resources/{pods,events}/shop.json. */
async function supportBundle(pods: Obj[], events: Obj[]): Promise<string> {
  const dir = path.join(await temp(), 'sb');
  for (const [sub, items] of [
    ['pods', pods],
    ['events', events],
  ] as const) {
    await mkdir(path.join(dir, 'cluster-resources', sub), { recursive: true });
    await writeFile(path.join(dir, 'cluster-resources', sub, 'shop.json'), JSON.stringify({ items }));
  }
  return dir;
}

const set = (o: Obj, dotted: string, value: unknown): Obj => {
  const copy = structuredClone(o);
  const keys = dotted.split('.');
  let at: Obj = copy;
  for (const k of keys.slice(0, -1)) at = at[k] as Obj;
  at[keys.at(-1) as string] = value;
  return copy;
};

// The wrongly typed fields of the issue (#16): each aborted the import with HINDSIGHT_INTERNAL.
const cases: Array<{ what: string; pod?: [string, unknown]; event?: [string, unknown]; field: string }> = [
  { what: 'an event message that is a number', event: ['message', 42], field: 'message' },
  { what: 'an event message that is an object', event: ['message', { a: 1 }], field: 'message' },
  { what: 'a count of 2.5', event: ['count', 2.5], field: 'count' },
  { what: 'a numeric reason', event: ['reason', 7], field: 'reason' },
  { what: 'a numeric involved object name', event: ['involvedObject.name', 7], field: 'object.name' },
  {
    what: 'a restartCount of -1',
    pod: ['status.containerStatuses.0.restartCount', -1],
    field: 'containers.0.restartCount',
  },
  { what: 'a numeric image', pod: ['status.containerStatuses.0.image', 5], field: 'containers.0.image' },
  { what: 'a numeric pod name', pod: ['metadata.name', 42], field: 'metadata.name' },
  { what: 'containerStatuses that is a string', pod: ['status.containerStatuses', 'x'], field: '' },
];

describe('importSupportBundle with wrongly typed fields', () => {
  for (const c of cases) {
    it(`skips a record with ${c.what}, names its file and field, and imports the rest`, async () => {
      const bad = c.pod ? set(pod('web-2'), c.pod[0], c.pod[1]) : pod('web-2');
      const badEvent = c.event ? set(event('e2', 2), c.event[0], c.event[1]) : event('e2', 2);
      const dir = await supportBundle([pod('web-1'), bad], [event('e1', 1), badEvent]);
      const out = path.join(dir, '..', 'bundle');
      const result = await importSupportBundle(dir, out);
      expect(await validateBundle(out)).toEqual([]);
      const bundle = await openBundle(out);
      const [pods, events] = [await bundle.pods(), await bundle.events()];
      await bundle.close();
      expect(pods.map((p) => p.name)).toContain('web-1');
      expect(events.map((e) => e.time)).toContain('2026-01-01T10:01:00.000Z');
      if (c.field === '') {
        // Not an error: a pod whose status lists no containers keeps those of its spec.
        expect(pods).toHaveLength(2);
        return;
      }
      expect(pods.length + events.length).toBe(3);
      const file = c.pod ? 'cluster-resources/pods/shop.json' : 'cluster-resources/events/shop.json';
      const w = result.warnings.find((x) => x.where === file);
      expect(w?.code).toBe('HINDSIGHT_IMPORT');
      expect(w?.message).toMatch(new RegExp(`field ${c.field.replace(/\./g, '\\.')}: .*; skipped$`));
    });
  }

  it('reads 200,000 events (their earliest time was a spread that overflowed the stack)', async () => {
    const events = Array.from({ length: 200_000 }, (_, i) => event(`e${i}`, i % 50));
    const dir = await supportBundle([pod('web-1')], events);
    const result = await importSupportBundle(dir, path.join(dir, '..', 'bundle'));
    expect(result.counts['events']).toBe(200_000);
    expect(result.manifest.window.from).toBe('2026-01-01T10:00:00.000Z');
  }, 120_000);

  it('leaves nothing at the output path when the import stops before it ends', async () => {
    const dir = await supportBundle([pod('web-1')], [event('e1', 1)]);
    await mkdir(path.join(dir, 'cluster-resources', 'pods', 'logs', 'shop', 'web-1'), { recursive: true });
    await writeFile(
      path.join(dir, 'cluster-resources', 'pods', 'logs', 'shop', 'web-1', 'web.log'),
      'hello\n',
    );
    const out = path.join(dir, '..', 'bundle');
    const controller = new AbortController();
    controller.abort();
    await expect(importSupportBundle(dir, out, { signal: controller.signal })).rejects.toThrow();
    expect(existsSync(out)).toBe(false);
    // Nor a hidden work folder beside it.
    expect((await import('node:fs/promises').then((fs) => fs.readdir(path.dirname(out)))).sort()).toEqual([
      'sb',
    ]);
  });
});
