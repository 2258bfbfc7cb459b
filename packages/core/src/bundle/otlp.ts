import { formatUnixNanos, type Span } from './spans.js';

/** What {@link otlpSpans} read from one OTLP trace document. */
export interface OtlpSpans {
  /** The spans, in the document's order. */
  spans: Span[];
  /** One reason per span that could not be read (no ids, no times, an end before its start). */
  skipped: string[];
  /** Resource blocks holding metrics or logs rather than spans (a collector file of mixed signals). */
  otherSignals: number;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

// OTLP's enums (opentelemetry/proto/trace/v1/trace.proto): OTLP/JSON writes them as integers, and
// protobuf's own JSON mapping (Tempo's answers) as their names.
const KINDS: Record<string, Span['kind']> = {
  '1': 'internal',
  '2': 'server',
  '3': 'client',
  '4': 'producer',
  '5': 'consumer',
  SPAN_KIND_INTERNAL: 'internal',
  SPAN_KIND_SERVER: 'server',
  SPAN_KIND_CLIENT: 'client',
  SPAN_KIND_PRODUCER: 'producer',
  SPAN_KIND_CONSUMER: 'consumer',
};
const STATUSES: Record<string, Span['status']> = {
  '1': 'ok',
  '2': 'error',
  STATUS_CODE_OK: 'ok',
  STATUS_CODE_ERROR: 'error',
};

/**
 * A trace or span id as lower-case hex. OTLP/JSON writes ids in hex; protobuf's JSON mapping, which
 * Tempo's /api/traces answers follow (grafana/tempo#5437), in base64: 16 or 8 bytes in base64 are
 * 24 or 12 characters, a length no hex id has, so the two cannot be confused. An all-zero id is none.
 */
export function otlpId(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  let hex = value;
  if (!/^[0-9a-fA-F]+$/.test(value) || value.length % 2 === 1) {
    const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(value) ? Buffer.from(value, 'base64') : undefined;
    hex = bytes && (bytes.length === 16 || bytes.length === 8) ? bytes.toString('hex') : value;
  }
  return /^0+$/.test(hex) ? undefined : hex.toLowerCase();
}

/** An OTLP AnyValue as text: string, int (a string in OTLP/JSON), double or bool. */
function anyValueText(v: unknown): string | undefined {
  if (!isObject(v)) return undefined;
  for (const key of ['stringValue', 'intValue', 'doubleValue', 'boolValue']) {
    const x = v[key];
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') return String(x);
  }
  return undefined;
}

function attribute(attributes: unknown, key: string): string | undefined {
  for (const kv of list(attributes)) {
    if (isObject(kv) && kv['key'] === key) return anyValueText(kv['value']);
  }
  return undefined;
}

// Unix nanoseconds: a string in OTLP/JSON (64-bit integers), a number from some writers.
function nanos(v: unknown): bigint | undefined {
  // At most 20 digits: a fixed64 holds no more, and so every time stays before year 9999 (which RFC
  // 3339 needs) and every duration a finite number.
  if (typeof v === 'string' && /^\d{1,20}$/.test(v.trim())) return BigInt(v.trim());
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  return undefined;
}

/** The resource blocks of any document shape the trace APIs answer with. */
function resourceBlocks(doc: Json): unknown[] {
  if (Array.isArray(doc['resourceSpans'])) return doc['resourceSpans'];
  // Tempo's GET /api/traces/<id>; its /api/v2/traces/<id> wraps the OTLP document in `trace`.
  if (Array.isArray(doc['batches'])) return doc['batches'];
  if (isObject(doc['trace'])) return resourceBlocks(doc['trace']);
  return [];
}

function convertSpan(raw: unknown, component: string, pod: string | undefined): Span | string {
  if (!isObject(raw)) return 'a span that is not an object';
  const name = typeof raw['name'] === 'string' ? raw['name'] : '';
  const label = `span ${typeof raw['spanId'] === 'string' ? raw['spanId'] : '?'} (${name})`;
  const trace = otlpId(raw['traceId']);
  const span = otlpId(raw['spanId']);
  if (!trace || !span) return `${label}: no traceId or spanId`;
  const start = nanos(raw['startTimeUnixNano']);
  const end = nanos(raw['endTimeUnixNano']);
  const startText = start === undefined ? undefined : formatUnixNanos(start.toString());
  if (start === undefined || end === undefined || !startText)
    return `${label}: startTimeUnixNano and endTimeUnixNano must be unix nanoseconds`;
  if (end < start) return `${label}: ends before it starts`;
  const parent = otlpId(raw['parentSpanId']);
  const kind = KINDS[String(raw['kind'])];
  const status = isObject(raw['status']) ? STATUSES[String(raw['status']['code'])] : undefined;
  // Built field by field from checked values, so it meets spanSchema without a second check (which
  // cost a third of an import's time, and the writer checks each span again).
  return {
    trace,
    span,
    ...(parent ? { parent } : {}),
    component,
    ...(pod ? { pod } : {}),
    operation: name,
    start: startText,
    // Exact to the nanosecond before the division: a double holds a day in ns to about 1 us.
    durationMs: Number(end - start) / 1e6,
    ...(kind ? { kind } : {}),
    ...(status ? { status } : {}),
  };
}

/**
 * Converts one OTLP trace document (an ExportTraceServiceRequest / TracesData in OTLP/JSON, as the
 * OpenTelemetry Collector's file exporter writes one a line; Tempo's `{batches}` and `{trace}`
 * answers too) into bundle spans. The component is the resource's `service.name` (the SDKs'
 * `unknown_service` when absent), the pod its `k8s.pod.name`; the operation is the span's name;
 * kind and status are kept when set. A span that cannot be read is named in `skipped`, the rest kept.
 */
export function otlpSpans(doc: unknown): OtlpSpans {
  const out: OtlpSpans = { spans: [], skipped: [], otherSignals: 0 };
  if (!isObject(doc)) {
    out.skipped.push('not a JSON object');
    return out;
  }
  if (Array.isArray(doc['resourceMetrics']) || Array.isArray(doc['resourceLogs'])) out.otherSignals += 1;
  for (const block of resourceBlocks(doc)) {
    if (!isObject(block)) continue;
    const attrs = isObject(block['resource']) ? block['resource']['attributes'] : undefined;
    const component = attribute(attrs, 'service.name') || 'unknown_service';
    const pod = attribute(attrs, 'k8s.pod.name') || undefined;
    // `instrumentationLibrarySpans`: OTLP before 0.15 (2022), still written by old agents.
    const scopes = [...list(block['scopeSpans']), ...list(block['instrumentationLibrarySpans'])];
    for (const scope of scopes) {
      if (!isObject(scope)) continue;
      for (const raw of list(scope['spans'])) {
        const r = convertSpan(raw, component, pod);
        if (typeof r === 'string') out.skipped.push(r);
        else out.spans.push(r);
      }
    }
  }
  return out;
}
