import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { errorCatalogue } from './index.js';

describe('error catalogue', () => {
  it('documents every code in docs/errors.md, and documents no code that does not exist', async () => {
    const doc = await readFile(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/`(HINDSIGHT_[A-Z_]+)`/g)].map((m) => m[1]);
    expect(new Set(documented)).toEqual(new Set(Object.keys(errorCatalogue)));
  });
});
