import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openBundle } from '@hindsight/core';
import { importerNamed, importers } from './index.js';

const temps: string[] = [];
async function temp(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'hs-importers-'));
  temps.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

describe('the importer registry', () => {
  it('names each importer once, each with its input and flags, so the CLI can derive its subcommands', () => {
    const names = importers.map((i) => i.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['support-bundle', 'rca-dataset']));
    for (const i of importers) {
      expect(i.input.name).toMatch(/^[a-z-]+$/);
      for (const f of i.flags) expect(f.flags).toMatch(/^--[a-z-]+( <[a-z-]+>)?$/);
    }
  });

  it('refuses an unknown importer, listing the valid ones', () => {
    expect(() => importerNamed('splunk')).toThrow(
      /unknown importer "splunk"; valid: support-bundle, rca-dataset/,
    );
  });

  it('refuses a flag value its schema does not accept, naming the flag, before reading anything', async () => {
    const out = path.join(await temp(), 'b');
    await expect(
      importerNamed('rca-dataset').run('/nonexistent', { from: 17 }, { output: out, overwrite: false }),
    ).rejects.toMatchObject({ code: 'HINDSIGHT_USAGE', message: expect.stringMatching(/from/) });
  });

  it('imports through the registry with the flags it declares (rca-dataset --namespace)', async () => {
    const dir = await temp();
    await writeFile(
      path.join(dir, 'logs.csv'),
      'timestamp,pod,log\n2023-01-29T10:00:00Z,cart-7d4f9c-abcde,started\n2023-01-29T10:00:01Z,cart-7d4f9c-abcde,ok\n',
    );
    const out = path.join(dir, 'bundle');
    const result = await importerNamed('rca-dataset').run(
      dir,
      { namespace: 'tt', ignored: 'x' },
      { output: out, overwrite: false },
    );
    expect(result.bundle).toBe(out);
    const bundle = await openBundle(out);
    try {
      expect((await bundle.logs()).map((l) => l.namespace)).toEqual(['tt']);
    } finally {
      await bundle.close();
    }
  });
});
