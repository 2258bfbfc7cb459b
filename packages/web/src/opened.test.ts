import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openBundle } from '@hindsight/core';
import { startServer } from '@hindsight/web';

const archive = fileURLToPath(
  new URL('../../../test/fixtures/redis-replicas-2-to-6.tar.gz', import.meta.url),
);

describe('serving a bundle its caller opened', () => {
  it('reads the archive its caller unpacked, names the archive in the report, and leaves the folder to the caller', async () => {
    const opened = await openBundle(archive);
    try {
      const server = await startServer({ bundle: archive, opened });
      const state = await server.ready;
      await server.close();
      if (state.state !== 'ready') throw new Error(`not ready: ${JSON.stringify(state)}`);
      expect(state.report?.bundle).toBe(archive);
      expect(state.counts.changes).toBeGreaterThan(0);
      // The server did not remove what it did not open.
      expect(existsSync(opened.root)).toBe(true);
    } finally {
      await opened.close();
    }
    expect(existsSync(opened.root)).toBe(false);
  });
});
