// Writes docs/cli.md's reference from the command registry (run after `npx tsc -b`);
// `--check` exits 1 when the committed file differs, as the CLI's tests do.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateCliDoc } from 'hindsight';

const file = fileURLToPath(new URL('../docs/cli.md', import.meta.url));
const current = readFileSync(file, 'utf8');
const next = generateCliDoc(current);
if (process.argv.includes('--check')) {
  if (next !== current) {
    console.error('docs/cli.md is out of date: run node scripts/gen-cli-docs.mjs');
    process.exit(1);
  }
} else if (next !== current) {
  writeFileSync(file, next);
  console.log('wrote docs/cli.md');
}
