import { register } from 'node:module';
import type { Tracer } from '@opentelemetry/api';

/** Tracing that was started: flushes what is pending and stops. */
export interface Tracing {
  shutdown(): Promise<void>;
}

// Requests that are not the shop's work: probes and scrapes every few seconds from every pod would
// outnumber the users' requests in the traces.
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
// How long a stopping shop waits for its last spans to be exported.
const FLUSH_TIMEOUT_MS = 2000;

// The shop's own tracer, once tracing started: `traced` spans go nowhere without it.
let tracer: Tracer | undefined;
// SpanKind.CLIENT and SpanStatusCode.ERROR of @opentelemetry/api, which is not loaded when tracing is off.
const CLIENT = 2;
const ERROR = 2;

/**
 * Runs `work` as a client span named `name` (a call to something the instrumentations do not see,
 * such as the payment provider) under the request's span; with tracing off, just runs it.
 */
export async function traced<T>(name: string, work: () => Promise<T>): Promise<T> {
  if (!tracer) return work();
  return tracer.startActiveSpan(name, { kind: CLIENT }, async (span) => {
    try {
      return await work();
    } catch (err) {
      span.setStatus({ code: ERROR, message: errorText(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** One JSON line on stderr, in the shop's log shape (level 40 is pino's warn). */
function warn(message: string, ...args: unknown[]): void {
  // The SDK's error handler passes an error as its JSON: its message is what says what failed.
  if (message.startsWith('{')) message = errorText(safeParse(message));
  const detail = args.length > 0 ? ` ${args.map(errorText).join(' ')}` : '';
  process.stderr.write(
    `${JSON.stringify({ level: 40, time: new Date().toISOString(), event: 'tracing', msg: `${message}${detail}` })}\n`,
  );
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function errorText(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string')
    return err.message;
  if (err instanceof Error) return err.message;
  if (Array.isArray(err)) return err.map(errorText).join('; ');
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

/**
 * Starts OpenTelemetry tracing when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set,
 * and does nothing (loading no tracing code) otherwise. Spans of incoming HTTP requests (not the
 * probes' and scrapes'), Fastify's routes and hooks, and the ioredis commands and pg queries made
 * while serving them are exported as OTLP/HTTP JSON to the endpoint
 * (the SDK reads it and the other `OTEL_EXPORTER_OTLP_*` variables itself). The resource is
 * `service.name` (`OTEL_SERVICE_NAME`, else `shop`), `k8s.pod.name` (`POD_NAME`, which the chart
 * sets from the pod's name) and `OTEL_RESOURCE_ATTRIBUTES`.
 *
 * Must run before fastify, ioredis and pg are imported: the instrumentations patch them as they
 * load, through the ESM loader hook registered here. Pending spans are flushed when the process
 * has nothing left to do, after a graceful shutdown, for at most 2 s; the process then exits with
 * the code main() set (so call it only in the shop's own process).
 */
export async function startTracing(env: Record<string, string | undefined>): Promise<Tracing | undefined> {
  if (!env['OTEL_EXPORTER_OTLP_ENDPOINT'] && !env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) return undefined;
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const [
    { diag, DiagLogLevel },
    { NodeTracerProvider },
    { BatchSpanProcessor },
    { OTLPTraceExporter },
    { detectResources, envDetector, resourceFromAttributes },
    { registerInstrumentations },
    { HttpInstrumentation },
    { IORedisInstrumentation },
    { PgInstrumentation },
    { FastifyOtelInstrumentation },
  ] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/instrumentation'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-ioredis'),
    import('@opentelemetry/instrumentation-pg'),
    import('@fastify/otel'),
  ]);
  const podName = env['POD_NAME'];
  const resource = detectResources({ detectors: [envDetector] }).merge(
    resourceFromAttributes({
      'service.name': env['OTEL_SERVICE_NAME'] || 'shop',
      ...(podName ? { 'k8s.pod.name': podName } : {}),
    }),
  );
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  tracer = provider.getTracer('shop');
  // An export that fails is said on stderr, as the shop's own failures are, never dropped silently.
  // A span ended twice is the instrumentation's bookkeeping, not a lost span: ioredis' ends a
  // command's span when the shop's command timeout fires and again when the reply comes (seen in the
  // lab under load, a line per late reply, beside the shop's own "Command timed out" errors).
  const sdkWarn = (message: string, ...args: unknown[]): void => {
    if (!message.includes('You can only call end() on a span once')) warn(message, ...args);
  };
  diag.setLogger(
    { error: warn, warn: sdkWarn, info: () => undefined, debug: () => undefined, verbose: () => undefined },
    DiagLogLevel.WARN,
  );
  registerInstrumentations({
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0] ?? ''),
      }),
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        ignorePaths: (route) => UNTRACED_PATHS.has(route.url),
      }),
      // Only the commands and queries of a traced request: the probes' PINGs and SELECT 1s (every
      // period, from every pod) and the sweeper's passes would otherwise be traces of their own, and
      // outnumber the users' requests where a trace store is read for a bounded number of traces.
      new IORedisInstrumentation({ requireParentSpan: true }),
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  let stopped: Promise<void> | undefined;
  const tracing: Tracing = { shutdown: () => (stopped ??= provider.shutdown()) };
  // main() returns its exit code instead of exiting, so the loop empties once the shop has closed:
  // the spans still pending are flushed then, for at most FLUSH_TIMEOUT_MS (the exporter retries a
  // refused endpoint for 18 s), and the process ends with main's code.
  process.once('beforeExit', () => {
    const timer = setTimeout(() => {
      warn('spans not exported within the flush timeout after shutdown were dropped');
      process.exit();
    }, FLUSH_TIMEOUT_MS);
    tracing
      .shutdown()
      .catch((err: unknown) => warn(`spans could not be exported: ${errorText(err)}`))
      .finally(() => {
        clearTimeout(timer);
        process.exit();
      });
  });
  return tracing;
}
