#!/usr/bin/env node
import { run } from './main.js';

// A reader that stops early (`hindsight ... | head`) closes the pipe: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const controller = new AbortController();
let interrupted = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    interrupted += 1;
    // A second Ctrl-C means "stop now": the first one lets commands clean up (stop the lab, finish a bundle).
    if (interrupted > 1) process.exit(130);
    controller.abort();
  });
}
process.exitCode = await run(process.argv.slice(2), { signal: controller.signal });
