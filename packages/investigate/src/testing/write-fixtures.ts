// Writes the synthetic fixture bundles the end-to-end tests read (test/fixtures), each named after
// the failure it holds. Deterministic: the same seed writes the same data. Lab recordings will
// replace them. Run from the repository root after a build:
//   node packages/investigate/dist/testing/write-fixtures.js test/fixtures
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { packBundle } from '@hindsight/core';
import {
  quietScenario,
  storyScenario,
  writeSyntheticBundle,
  type SyntheticScenario,
} from './synthetic-bundle.js';

const fixtures: Record<string, SyntheticScenario> = {
  // The story: shop.logLevel info -> debug, then redis.replica.replicaCount 2 -> 6, then a label.
  'redis-replicas-2-to-6': storyScenario({ rps: 2 }),
  // No change and nothing wrong: steady traffic for 40 minutes.
  'quiet-no-change': quietScenario({ rps: 2 }),
  // The story with damaged parts: bad log lines, a broken series record, a bad change, a cut
  // event, an invalid topology.json.
  'redis-replicas-2-to-6-corrupt': storyScenario({ rps: 2, corrupt: true }),
};

const out = path.resolve(process.argv[2] ?? 'test/fixtures');
const tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-fixtures-'));
try {
  for (const [name, scenario] of Object.entries(fixtures)) {
    const dir = path.join(tmp, name);
    const { lines } = await writeSyntheticBundle(dir, scenario);
    const archive = path.join(out, `${name}.tar.gz`);
    await rm(archive, { force: true });
    await packBundle(dir, archive);
    process.stdout.write(`${archive}: ${lines} log lines\n`);
  }
} finally {
  await rm(tmp, { recursive: true, force: true });
}
