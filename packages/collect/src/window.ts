import { HindsightError } from '@hindsight/core';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration such as `90s`, `5m`, `1h30m` or `2d` to milliseconds. */
export function parseDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
  let total = 0;
  let consumed = 0;
  for (const m of text.trim().matchAll(re)) {
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== text.trim().length) {
    throw new HindsightError(
      'HINDSIGHT_USAGE',
      `not a duration: ${JSON.stringify(text)} (use 30s, 5m, 1h, 2d)`,
    );
  }
  return total;
}

/** Parses the time given to an option (RFC 3339); a usage error naming the option otherwise. */
export function parseTime(text: string, flag: string): number {
  const t = Date.parse(text);
  if (Number.isNaN(t)) {
    throw new HindsightError(
      'HINDSIGHT_USAGE',
      `${flag} is not a time: ${JSON.stringify(text)} (use RFC 3339)`,
    );
  }
  return t;
}

/**
 * The collection window from `--since D` or `--from T --to T`. A watch extends the end to the
 * end of the watch, so that the samples it takes lie inside the window.
 */
export function resolveWindow(
  flags: { since?: string; from?: string; to?: string; watchMs?: number },
  now: number = Date.now(),
): { from: Date; to: Date } {
  if (flags.since !== undefined && flags.from !== undefined) {
    throw new HindsightError('HINDSIGHT_USAGE', 'give --since or --from, not both');
  }
  const to = flags.to !== undefined ? parseTime(flags.to, '--to') : undefined;
  const end = to ?? now + (flags.watchMs ?? 0);
  // --since counts back from --to when given (`--to T --since 1h` is the hour before T), else from now.
  const start =
    flags.from !== undefined
      ? parseTime(flags.from, '--from')
      : (to ?? now) - parseDuration(flags.since ?? '1h');
  if (start >= end) throw new HindsightError('HINDSIGHT_USAGE', 'the window ends before it starts');
  return { from: new Date(start), to: new Date(end) };
}
