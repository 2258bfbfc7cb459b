// The spans the lab received, kept as the OpenTelemetry Collector's file exporter keeps them (one
// OTLP/JSON export request a line), with an index of the traces in memory to answer queries.
import { createReadStream } from 'node:fs';
import { appendFile, mkdir, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** One OTLP/JSON attribute: `{key, value: {stringValue | intValue | ...}}`. */
interface Attribute {
  key?: unknown;
  value?: Record<string, unknown>;
}

interface RawSpan {
  traceId?: unknown;
  startTimeUnixNano?: unknown;
  [k: string]: unknown;
}

/** One `resourceSpans` entry of an export request (`batches` in Tempo's answers). */
interface ResourceSpans {
  resource?: { attributes?: Attribute[] };
  scopeSpans?: Array<{ scope?: unknown; spans?: RawSpan[] }>;
  [k: string]: unknown;
}

/** What the index knows of one trace. */
interface TraceEntry {
  /** Its first span's start, unix ms. */
  start: number;
  /** The service of its first span: Tempo's `rootServiceName` (the root's when it came first). */
  root: string;
  /** The resource attributes of every span's resource, `key=value`, for tag searches. */
  tags: Set<string>;
  /** Byte offsets and lengths of the lines holding its spans. */
  lines: Array<[number, number]>;
}

/** A search of the store, as Tempo's `/api/search` takes it. */
export interface TraceSearch {
  /** `key=value` resource attributes every trace found must carry (`service.name=shop`). */
  tags: string[];
  /** Traces whose first span starts in [from, to], unix ms. */
  from: number;
  to: number;
  limit: number;
}

/** A trace found, as Tempo lists it. */
export interface TraceHit {
  traceID: string;
  rootServiceName: string;
  startTimeUnixNano: string;
}

// A trace id as hex: the JS exporters write hex; a base64 id (Tempo's, the protobuf JSON mapping)
// is turned to hex, so both spellings find the same trace.
function hexId(id: unknown): string | undefined {
  if (typeof id !== 'string' || id === '') return undefined;
  if (/^[0-9a-f]+$/i.test(id)) return id.toLowerCase();
  const hex = Buffer.from(id, 'base64').toString('hex');
  return hex === '' ? undefined : hex;
}

function attrText(v: Record<string, unknown> | undefined): string | undefined {
  if (!v) return undefined;
  for (const k of ['stringValue', 'intValue', 'boolValue', 'doubleValue'])
    if (v[k] !== undefined && v[k] !== null) return String(v[k]);
  return undefined;
}

/** The resource's attributes as `key=value` texts. */
function resourceTags(rs: ResourceSpans): string[] {
  const out: string[] = [];
  for (const a of rs.resource?.attributes ?? []) {
    const v = attrText(a.value);
    if (typeof a.key === 'string' && v !== undefined) out.push(`${a.key}=${v}`);
  }
  return out;
}

function startMs(s: RawSpan): number {
  const ns = s.startTimeUnixNano;
  if (typeof ns !== 'string' && typeof ns !== 'number') return Number.NaN;
  try {
    return Number(BigInt(ns) / 1_000_000n);
  } catch {
    return Number.NaN;
  }
}

/** The `resourceSpans` of an export request, or undefined when the body is not one. */
export function resourceSpansOf(doc: unknown): ResourceSpans[] | undefined {
  if (typeof doc !== 'object' || doc === null) return undefined;
  const rs = (doc as { resourceSpans?: unknown }).resourceSpans;
  return Array.isArray(rs) ? (rs as ResourceSpans[]) : undefined;
}

/**
 * The lab's spans: `spans.jsonl` in its folder, one export request a line (as the OpenTelemetry
 * Collector's file exporter writes, so `hindsight import otlp` reads the folder too), and the
 * traces indexed in memory (offsets, not spans), rebuilt from the file when a lab starts again.
 */
export class TraceStore {
  readonly file: string;
  private readonly traces = new Map<string, TraceEntry>();
  private size = 0;
  private spans = 0;
  // Appends run one after another, so each line's offset is known before it is written.
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly dir: string) {
    this.file = join(dir, 'spans.jsonl');
  }

  /** Creates the folder and indexes the spans an earlier run of the lab kept. */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const size = await stat(this.file).then(
      (s) => s.size,
      () => 0,
    );
    if (size === 0) return;
    let offset = 0;
    const lines = createInterface({ input: createReadStream(this.file), crlfDelay: Infinity });
    for await (const line of lines) {
      const length = Buffer.byteLength(line) + 1;
      try {
        const rs = resourceSpansOf(JSON.parse(line));
        if (rs) this.index(rs, offset, length);
      } catch {
        // A line cut short by a lab killed mid-write: its spans are lost, the rest is read.
      }
      offset += length;
    }
    this.size = size;
  }

  /** How many traces and spans the store holds. */
  counts(): { traces: number; spans: number } {
    return { traces: this.traces.size, spans: this.spans };
  }

  private index(rs: ResourceSpans[], offset: number, length: number): void {
    for (const r of rs) {
      const tags = resourceTags(r);
      const service = tags.find((t) => t.startsWith('service.name='))?.slice('service.name='.length);
      for (const scope of r.scopeSpans ?? [])
        for (const s of scope.spans ?? []) {
          const id = hexId(s.traceId);
          if (!id) continue;
          this.spans++;
          const start = startMs(s);
          let t = this.traces.get(id);
          if (!t) {
            t = { start, root: service ?? '', tags: new Set(), lines: [] };
            this.traces.set(id, t);
          } else if (start < t.start || Number.isNaN(t.start)) {
            t.start = start;
            if (service) t.root = service;
          }
          for (const tag of tags) t.tags.add(tag);
          const last = t.lines.at(-1);
          if (!last || last[0] !== offset) t.lines.push([offset, length]);
        }
    }
  }

  /** Keeps one export request's spans: one line appended, then indexed. */
  add(rs: ResourceSpans[]): Promise<void> {
    const line = `${JSON.stringify({ resourceSpans: rs })}\n`;
    const job = this.queue.then(async () => {
      const offset = this.size;
      const length = Buffer.byteLength(line);
      await appendFile(this.file, line);
      this.size += length;
      this.index(rs, offset, length);
    });
    this.queue = job.catch(() => undefined);
    return job;
  }

  /**
   * The traces that start in the search's window and carry its tags, oldest first, at most
   * `limit`: when more match, evenly spread over them in time, so a bounded read of a busy window
   * holds its whole span (the minutes before a change as well as after), not its first seconds.
   */
  search(q: TraceSearch): TraceHit[] {
    const found: Array<[string, TraceEntry]> = [];
    for (const [id, t] of this.traces) {
      if (!(t.start >= q.from && t.start <= q.to)) continue;
      if (q.tags.every((tag) => t.tags.has(tag))) found.push([id, t]);
    }
    found.sort((a, b) => a[1].start - b[1].start || a[0].localeCompare(b[0]));
    const n = found.length;
    const picked =
      n <= q.limit ? found : Array.from({ length: q.limit }, (_, i) => found[Math.floor((i * n) / q.limit)]!);
    return picked.map(([id, t]) => ({
      traceID: id,
      rootServiceName: t.root,
      startTimeUnixNano: (BigInt(Math.round(t.start)) * 1_000_000n).toString(),
    }));
  }

  /** One trace's spans as OTLP/JSON resource spans (Tempo's `batches`), or undefined when unknown. */
  async trace(id: string): Promise<ResourceSpans[] | undefined> {
    const hex = hexId(id);
    const t = hex === undefined ? undefined : this.traces.get(hex);
    if (!t || hex === undefined) return undefined;
    await this.queue;
    const out: ResourceSpans[] = [];
    const fh = await open(this.file, 'r');
    try {
      for (const [offset, length] of t.lines) {
        const buf = Buffer.alloc(length);
        await fh.read(buf, 0, length, offset);
        const rs = resourceSpansOf(JSON.parse(buf.toString('utf8'))) ?? [];
        for (const r of rs) {
          const scopeSpans = (r.scopeSpans ?? [])
            .map((sc) => ({ ...sc, spans: (sc.spans ?? []).filter((s) => hexId(s.traceId) === hex) }))
            .filter((sc) => sc.spans.length > 0);
          if (scopeSpans.length > 0) out.push({ ...r, scopeSpans });
        }
      }
    } finally {
      await fh.close();
    }
    return out;
  }
}
