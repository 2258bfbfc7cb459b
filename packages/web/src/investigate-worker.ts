import { parentPort, workerData } from 'node:worker_threads';
import { HindsightError, errorMessage } from '@hindsight/core';
import { investigate, type BundleRecords, type MinedLogs } from '@hindsight/investigate';

// Runs the investigation on a second core while the server answers; the records it read and the
// logs it mined go back with the report (plain data: Maps and typed arrays clone as they are), so
// the views never read the bundle or mine its logs a second time.
const { bundle, unpacked, incidentAt, redactPatterns } = workerData as {
  bundle: string;
  unpacked?: string;
  incidentAt?: number;
  redactPatterns?: RegExp[];
};
try {
  let logs: MinedLogs | undefined;
  let records: BundleRecords | undefined;
  const report = await investigate(bundle, {
    onLogs: (l) => (logs = l),
    onRecords: (r) => (records = r),
    ...(unpacked ? { unpacked } : {}),
    ...(redactPatterns ? { redactPatterns } : {}),
    ...(incidentAt !== undefined ? { incidentAt } : {}),
  });
  parentPort?.postMessage({ ok: true, report, logs, records });
} catch (err) {
  parentPort?.postMessage({
    ok: false,
    error:
      err instanceof HindsightError
        ? { code: err.code, message: err.message }
        : { code: 'HINDSIGHT_ANALYZER_FAILED', message: errorMessage(err) },
  });
}
