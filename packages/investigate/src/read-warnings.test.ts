import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { investigate, storyScenario, writeSyntheticBundle, type Report } from './index.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-read-warnings-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** The story's bundle with one of its files replaced by a folder of the same name. */
async function storyWithFolderAt(name: string, pick: (files: string[]) => string): Promise<string> {
  const dir = path.join(tmp, name);
  await writeSyntheticBundle(dir, storyScenario());
  const files = (await readdir(dir, { recursive: true })).map((f) => f.split(path.sep).join('/'));
  const rel = pick(files);
  await rm(path.join(dir, rel));
  await mkdir(path.join(dir, rel));
  return rel;
}

function ranksTheStory(r: Report): void {
  const cause = r.hypotheses[0]?.cause;
  expect(cause?.type === 'change' ? cause.paths : []).toEqual(['redis.replica.replicaCount']);
}

describe('a bundle file that cannot be read', () => {
  it('warns that the span of the data was not read when a log is a folder, and still ranks', async () => {
    const rel = await storyWithFolderAt('log-folder', (fs) => fs.find((f) => f.endsWith('/shop.log')) ?? '');
    const report = await investigate(path.join(tmp, 'log-folder'), { now: new Date(0) });
    // Before, the failed read of the data's span (EISDIR on the folder) passed as "no data".
    expect(report.warnings).toContainEqual(
      expect.objectContaining({
        stage: 'read',
        name: 'data extent',
        code: 'HINDSIGHT_BUNDLE_SCHEMA',
        where: 'logs/, series/',
        message: expect.stringMatching(/the span the logs and series cover could not be read.*EISDIR/),
      }),
    );
    expect(report.warnings).toContainEqual(
      expect.objectContaining({ stage: 'read', where: rel, message: expect.stringMatching(/a folder/) }),
    );
    ranksTheStory(report);
  });

  it('names events.jsonl when it is a folder, and still ranks', async () => {
    await storyWithFolderAt('events-folder', () => 'events.jsonl');
    const report = await investigate(path.join(tmp, 'events-folder'), { now: new Date(0) });
    expect(report.warnings).toContainEqual(
      expect.objectContaining({ stage: 'read', name: 'events.jsonl', where: 'events.jsonl' }),
    );
    expect(report.stats.events).toBe(0);
    ranksTheStory(report);
  });
});
