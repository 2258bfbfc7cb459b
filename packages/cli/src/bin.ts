#!/usr/bin/env node
import { run } from './main.js';

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
