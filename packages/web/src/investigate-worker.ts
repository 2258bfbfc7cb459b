import { parentPort, workerData } from 'node:worker_threads';
import { HindsightError, errorMessage } from '@hindsight/core';
import { investigate } from '@hindsight/investigate';

// Runs the investigation on a second core while the server reads the bundle for its views: on a
// 2.7 M-line bundle (the synthetic story, 60 minutes, 10 shop pods) each took about 16 s and one
// after the other 31 s; in a worker they overlap instead of queueing on one thread.
const { bundle } = workerData as { bundle: string };
try {
  parentPort?.postMessage({ ok: true, report: await investigate(bundle) });
} catch (err) {
  parentPort?.postMessage({
    ok: false,
    error:
      err instanceof HindsightError
        ? { code: err.code, message: err.message }
        : { code: 'HINDSIGHT_ANALYZER_FAILED', message: errorMessage(err) },
  });
}
