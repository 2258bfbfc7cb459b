import { z } from 'zod';
import { parseRfc3339, subMillisecondNanos } from './time.js';

const spanTime = z
  .string()
  .refine((s) => !Number.isNaN(parseRfc3339(s)), { message: 'not an RFC 3339 time' });

/**
 * One span of a trace (spans.jsonl, docs/bundle.md): one unit of work of one component, with the
 * span that caused it. A span whose parent belongs to another component is the server side of a
 * call; its parent is the caller's client span, so the call graph and its latencies are read from
 * parent links alone, whatever the tracer called the span's kind.
 */
export const spanSchema = z.object({
  trace: z.string().min(1),
  span: z.string().min(1),
  /** The span that caused this one; absent on a trace's root. */
  parent: z.string().min(1).optional(),
  /** The service (Deployment, workload) that did the work. */
  component: z.string().min(1),
  pod: z.string().min(1).optional(),
  /** What was done: an RPC method, an HTTP route, a database statement's kind. */
  operation: z.string(),
  /** When it began: RFC 3339 with up to nanoseconds (the steps of one request share milliseconds). */
  start: spanTime,
  /** How long it took, in milliseconds (fractions kept: microseconds matter for a fast call). */
  durationMs: z.number().finite().nonnegative(),
  kind: z.enum(['server', 'client', 'internal', 'producer', 'consumer']).optional(),
  status: z.enum(['ok', 'error']).optional(),
});

/** A span as the bundle stores it. */
export type Span = z.infer<typeof spanSchema>;

/** A span's start in unix milliseconds, with the fraction below the millisecond kept. */
export function spanStartMs(span: Pick<Span, 'start'>): number {
  return parseRfc3339(span.start) + subMillisecondNanos(span.start) / 1e6;
}

/**
 * Formats a time in unix nanoseconds (a decimal string, as OTLP and most span exports write it:
 * too large for a double to keep every digit) as RFC 3339 with nanoseconds; undefined when it is not one.
 */
export function formatUnixNanos(nanos: string): string | undefined {
  const s = nanos.trim();
  if (!/^\d{7,}$/.test(s)) return undefined;
  const ms = Number(s.slice(0, -6));
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return undefined;
  return date.toISOString().replace(/Z$/, `${s.slice(-6)}Z`);
}
