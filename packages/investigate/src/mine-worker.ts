// A worker thread that mines some of a bundle's log files (see mineInParallel in mine.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage, openBundle } from '@hindsight/core';
import { mineLogs, type WorkerInput, type WorkerMessage } from './mine.js';

const input = workerData as WorkerInput;
const post = (m: WorkerMessage): void => parentPort?.postMessage(m);
try {
  const bundle = await openBundle(input.root);
  const r = await mineLogs(
    bundle,
    input.tasks,
    input.grid,
    (i, t) =>
      post({
        type: 'progress',
        text: `mining logs ${i + 1}/${input.tasks.length}: ${t.ref.pod}/${t.ref.container}`,
      }),
    input.window,
  );
  post({ type: 'done', ...r, warnings: bundle.warnings });
} catch (err) {
  post({ type: 'error', message: errorMessage(err) });
}
