import { isSpanContextValid, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { startTracing } from './otel.js';

// The export itself (spans of requests, Redis and PostgreSQL, read back by `hindsight import otlp`)
// is proven end to end with a real shop process in test/e2e/import.test.ts.
describe('startTracing', () => {
  it('leaves tracing off without an OTLP endpoint: no provider is registered, spans record nothing', async () => {
    expect(await startTracing({ POD_NAME: 'shop-0', OTEL_SERVICE_NAME: 'shop' })).toBeUndefined();
    const span = trace.getTracer('shop-test').startSpan('GET /products');
    expect(span.isRecording()).toBe(false);
    expect(isSpanContextValid(span.spanContext())).toBe(false);
    span.end();
  });
});
