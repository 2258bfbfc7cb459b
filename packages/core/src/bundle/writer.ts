import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { Redactor } from '../redact.js';
import { HindsightError } from '../errors.js';
import { formatLogTimestamp } from './time.js';
import { bundleLayout, logFilePath, type LogFileRef } from './layout.js';
import {
  BUNDLE_FORMAT_VERSION,
  changeSchema,
  eventSchema,
  manifestSchema,
  podSchema,
  seriesSchema,
  topologySchema,
  type BundleEvent,
  type Change,
  type Manifest,
  type Pod,
  type Series,
  type SourceStatus,
  type Topology,
} from './schema.js';
import { spanSchema, type Span } from './spans.js';

/** Where and for what window a bundle is written. */
export interface BundleWriterOptions {
  window: { from: Date | string; to: Date | string };
  cluster?: string;
  /** The kubeconfig context named for the collection. */
  context?: string;
  namespace?: string;
  toolVersion?: string;
  /** Allow writing into a folder that already holds files. */
  overwrite?: boolean;
  /**
   * The user's own patterns (`--redact-pattern`), redacted after the catalogue. Every record passes
   * the redactor, and what it replaced is counted per kind in the manifest's `redactions`.
   */
  redactPatterns?: readonly RegExp[];
}

/** A log file being written: one call per line, in time order. */
export interface LogSink {
  readonly ref: LogFileRef;
  /** Writes one line; the promise waits only when the disk is behind. */
  write(time: number | string, line: string): Promise<void>;
  readonly lines: number;
}

function iso(t: Date | string): string {
  return typeof t === 'string' ? new Date(t).toISOString() : t.toISOString();
}

class JsonlFile {
  private readonly stream: WriteStream;
  count = 0;
  constructor(file: string) {
    this.stream = createWriteStream(file, { flags: 'a' });
  }
  async write(record: unknown): Promise<void> {
    this.count += 1;
    if (!this.stream.write(`${JSON.stringify(record)}\n`)) await once(this.stream, 'drain');
  }
  async writeRaw(text: string): Promise<void> {
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }
  async close(): Promise<void> {
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

/**
 * Writes a bundle folder. Every record is redacted and checked against the schema before it is
 * written; the manifest is written at the start and again by {@link BundleWriter.finish}, so a
 * collection that is interrupted still leaves a readable bundle of what it had.
 */
export class BundleWriter {
  private readonly files = new Map<string, JsonlFile>();
  private readonly logSinks: Array<{ sink: LogSink; file: JsonlFile }> = [];
  private readonly sources = new Map<string, SourceStatus>();
  private readonly notes: string[] = [];
  private manifest: Manifest;
  private readonly redactor: Redactor;

  private constructor(
    readonly root: string,
    options: BundleWriterOptions,
  ) {
    this.redactor = new Redactor({ patterns: options.redactPatterns ?? [] });
    this.manifest = {
      format: 'hindsight-bundle',
      version: BUNDLE_FORMAT_VERSION,
      createdAt: new Date().toISOString(),
      window: { from: iso(options.window.from), to: iso(options.window.to) },
      ...(options.cluster ? { cluster: options.cluster } : {}),
      ...(options.context ? { context: options.context } : {}),
      ...(options.namespace ? { namespace: options.namespace } : {}),
      sources: [],
      tool: { name: 'hindsight', version: options.toolVersion ?? '0.1.0' },
    };
  }

  /** Creates the folder (refusing a non-empty one unless `overwrite`) and writes a first manifest. */
  static async create(root: string, options: BundleWriterOptions): Promise<BundleWriter> {
    await mkdir(root, { recursive: true });
    const existing = await readdir(root);
    if (existing.length > 0 && !options.overwrite) {
      throw new HindsightError(
        'HINDSIGHT_USAGE',
        `output folder is not empty; choose another path or remove it`,
        root,
      );
    }
    const writer = new BundleWriter(root, options);
    await writer.writeManifest();
    return writer;
  }

  get window(): { from: string; to: string } {
    return this.manifest.window;
  }

  private jsonl(rel: string): JsonlFile {
    let f = this.files.get(rel);
    if (!f) {
      f = new JsonlFile(path.join(this.root, rel));
      this.files.set(rel, f);
    }
    return f;
  }

  /** Opens the log of one container (or of its previous instance). */
  async openLog(ref: Omit<LogFileRef, 'file'>): Promise<LogSink> {
    const rel = logFilePath(ref);
    await mkdir(path.dirname(path.join(this.root, rel)), { recursive: true });
    const file = new JsonlFile(path.join(this.root, rel));
    let lines = 0;
    const redactor = this.redactor;
    const sink: LogSink = {
      ref: { ...ref, file: rel },
      get lines() {
        return lines;
      },
      async write(time, line) {
        const ts = typeof time === 'number' ? formatLogTimestamp(time) : time;
        lines += 1;
        await file.writeRaw(`${ts} ${redactor.text(line.replace(/[\r\n]+/g, ' '))}\n`);
      },
    };
    this.logSinks.push({ sink, file });
    return sink;
  }

  /** Adds a metric series to series/<source>.jsonl (the source is the `source` label, if any). */
  async addSeries(series: Series): Promise<void> {
    const s = seriesSchema.parse(this.redactor.value(series));
    const source = (s.labels['source'] ?? 'metrics').replace(/[^A-Za-z0-9_-]/g, '_');
    await mkdir(path.join(this.root, bundleLayout.seriesDir), { recursive: true });
    await this.jsonl(`${bundleLayout.seriesDir}/${source}.jsonl`).write(s);
  }

  /**
   * Appends one span to spans.jsonl; write a trace's spans together where the source allows. Its
   * names pass the redactor; its ids are random by definition and are kept, so spans still link
   * (and a whole-record walk cost 68 us a span, most of an import of 40,000 spans a minute).
   */
  async addSpan(span: Span): Promise<void> {
    const r = this.redactor;
    const s = {
      ...span,
      component: r.text(span.component),
      operation: r.text(span.operation),
      ...(span.pod === undefined ? {} : { pod: r.text(span.pod) }),
    };
    await this.jsonl(bundleLayout.spans).write(spanSchema.parse(s));
  }

  /** Adds a change; each value of its diff is redacted by its path. */
  async addChange(change: Change): Promise<void> {
    const diff = change.diff.map((d) => ({
      path: d.path,
      ...('from' in d && d.from !== undefined ? { from: this.redactor.atPath(d.path, d.from) } : {}),
      ...('to' in d && d.to !== undefined ? { to: this.redactor.atPath(d.path, d.to) } : {}),
    }));
    // The message may quote a secret the diff held under its key ("set password to ..."): scrubbed.
    const { message, diff: _raw, ...rest } = change;
    const c = changeSchema.parse({
      ...this.redactor.value(rest),
      ...(message === undefined ? {} : { message: this.redactor.scrub(this.redactor.text(message)) }),
      diff,
    });
    await this.jsonl(bundleLayout.changes).write(c);
  }

  async addEvent(event: BundleEvent): Promise<void> {
    const e = eventSchema.parse(this.redactor.value(event));
    await this.jsonl(bundleLayout.events).write(e);
  }

  async addPod(pod: Pod): Promise<void> {
    await this.jsonl(bundleLayout.pods).write(podSchema.parse(this.redactor.value(pod)));
  }

  async setTopology(topology: Topology): Promise<void> {
    await writeFile(
      path.join(this.root, bundleLayout.topology),
      JSON.stringify(topologySchema.parse(topology), null, 2),
    );
  }

  /** Records how a source went: ok, partial or failed with why. The last call for a name wins. */
  recordSource(status: SourceStatus): void {
    this.sources.set(status.name, {
      ...status,
      ...(status.error ? { error: this.redactor.text(status.error) } : {}),
    });
  }

  /**
   * Declares a period known to be normal (manifest `baseline`), which analysis compares the window
   * against; its records may be written although they lie outside the window.
   */
  setBaseline(baseline: { from: Date | string; to: Date | string; note?: string }): void {
    this.manifest = {
      ...this.manifest,
      baseline: {
        from: iso(baseline.from),
        to: iso(baseline.to),
        ...(baseline.note ? { note: this.redactor.text(baseline.note) } : {}),
      },
    };
  }

  addNote(note: string): void {
    this.notes.push(this.redactor.text(note));
  }

  private async writeManifest(): Promise<Manifest> {
    const redactions = this.redactor.counts();
    const manifest = manifestSchema.parse({
      ...this.manifest,
      sources: [...this.sources.values()],
      ...(this.notes.length > 0 ? { notes: this.notes } : {}),
      ...(Object.keys(redactions).length > 0 ? { redactions } : {}),
    });
    const target = path.join(this.root, bundleLayout.manifest);
    await writeFile(`${target}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(`${target}.tmp`, target);
    return manifest;
  }

  /** Writes what is pending without closing; the manifest then lists the sources so far. */
  async checkpoint(): Promise<void> {
    await this.writeManifest();
  }

  /** Flushes and closes every file and writes the final manifest. */
  async finish(): Promise<Manifest> {
    await Promise.all([...this.files.values()].map((f) => f.close()));
    await Promise.all(this.logSinks.map((l) => l.file.close()));
    this.files.clear();
    this.logSinks.length = 0;
    return this.writeManifest();
  }
}
