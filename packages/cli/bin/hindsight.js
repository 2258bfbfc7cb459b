#!/usr/bin/env node
// The installed `hindsight` command. It is committed, not built, so that npm links it when it
// installs the workspace, before the build creates dist/ (a fresh clone's `npm ci` runs first).
import { existsSync } from 'node:fs';

const built = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write(
    'hindsight is not built yet: run `bash scripts/setup.sh` (or `npx tsc -b`) in the repository\n',
  );
  process.exit(3);
}
await import(built.href);
