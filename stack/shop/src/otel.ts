import { register } from 'node:module';

/** Tracing that was started: flushes what is pending and stops. */
export interface Tracing {
  shutdown(): Promise<void>;
}

// Requests that are not the shop's work: probes and scrapes every few seconds from every pod would
// outnumber the users' requests in the traces.
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Starts OpenTelemetry tracing when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set,
 * and does nothing (loading no tracing code) otherwise. Spans of incoming HTTP requests, Fastify's
 * routes and hooks, ioredis commands and pg queries are exported as OTLP/HTTP JSON to the endpoint
 * (the SDK reads it and the other `OTEL_EXPORTER_OTLP_*` variables itself). The resource is
 * `service.name` (`OTEL_SERVICE_NAME`, else `shop`), `k8s.pod.name` (`POD_NAME`, which the chart
 * sets from the pod's name) and `OTEL_RESOURCE_ATTRIBUTES`.
 *
 * Must run before fastify, ioredis and pg are imported: the instrumentations patch them as they
 * load, through the ESM loader hook registered here. Pending spans are flushed when the process
 * has nothing left to do, after a graceful shutdown.
 */
export async function startTracing(env: Record<string, string | undefined>): Promise<Tracing | undefined> {
  if (!env['OTEL_EXPORTER_OTLP_ENDPOINT'] && !env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) return undefined;
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const [
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
  registerInstrumentations({
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0] ?? ''),
      }),
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        ignorePaths: (route) => UNTRACED_PATHS.has(route.url),
      }),
      new IORedisInstrumentation(),
      new PgInstrumentation(),
    ],
  });
  let stopped: Promise<void> | undefined;
  const tracing: Tracing = { shutdown: () => (stopped ??= provider.shutdown()) };
  // main() returns its exit code instead of exiting, so the loop empties once the shop has closed.
  process.once('beforeExit', () => {
    void tracing.shutdown();
  });
  return tracing;
}
