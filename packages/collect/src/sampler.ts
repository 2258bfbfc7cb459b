import type { SourceContext } from './source.js';
import { sleep } from './limit.js';

/**
 * Calls `sample` once, or every `intervalMs` until `watchMs` has passed or the run is aborted.
 * A failed sample is a warning; the loop goes on. Returns how many samples succeeded and failed.
 */
export async function sampleOverTime(
  ctx: SourceContext,
  sample: (time: number) => Promise<void>,
): Promise<{ ok: number; failed: number; lastError?: unknown }> {
  const watch = ctx.options.watchMs ?? 0;
  const interval = Math.max(100, ctx.options.intervalMs ?? 5000);
  const end = Date.now() + watch;
  let ok = 0;
  let failed = 0;
  let lastError: unknown;
  for (;;) {
    const started = Date.now();
    try {
      await sample(started);
      ok += 1;
    } catch (err) {
      failed += 1;
      lastError = err;
    }
    ctx.progress(ok, watch > 0 ? `sample ${ok + failed}` : undefined);
    if (ctx.signal.aborted || watch <= 0) break;
    const next = started + interval;
    if (next > end) break;
    await sleep(next - Date.now(), ctx.signal);
    if (ctx.signal.aborted) break;
  }
  return { ok, failed, ...(failed > 0 ? { lastError } : {}) };
}
