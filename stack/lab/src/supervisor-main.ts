// Entry of the supervisor process: `node supervisor-main.js STATE_DIR` (started by `lab up`).
import { runSupervisor } from './supervisor.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: supervisor-main.js STATE_DIR\n');
  process.exitCode = 2;
} else {
  runSupervisor(dir).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
