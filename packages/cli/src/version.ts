import { readFileSync } from 'node:fs';

// Read from this package's package.json so --version never drifts from the published version.
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** The version of hindsight. */
export const VERSION: string = pkg.version;
