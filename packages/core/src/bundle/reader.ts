import { createReadStream } from 'node:fs';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { ZodType } from 'zod';
import { HindsightError, errorMessage, type ErrorCode, type Warning } from '../errors.js';
import { redactText } from '../redact.js';
import { isArchivePath, unpackBundle } from './archive.js';
import { fileSize, logEdges, seriesFileEdges } from './extent.js';
import { bundleLayout, parseLogFilePath, type LogFileRef } from './layout.js';
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
  type Topology,
} from './schema.js';
import { parseRfc3339, subMillisecondNanos } from './time.js';
import { spanSchema, spanStartMs, type Span } from './spans.js';

/** A problem found while reading: where it is, and how bad. */
export interface BundleProblem {
  file: string;
  line?: number;
  code: ErrorCode;
  severity: 'error' | 'warning';
  message: string;
}

/** One line of a container log. */
export interface LogLine {
  /** unix milliseconds */
  time: number;
  /**
   * Nanoseconds past `time`'s millisecond, from the timestamp's fraction (0 when it has none):
   * orders lines written within one millisecond (the steps of one request, say).
   */
  subMs: number;
  text: string;
  /** 1-based line number in the file */
  lineNo: number;
}

/** Options for {@link openBundle}. */
export interface OpenBundleOptions {
  /** Called for every problem; by default problems become warnings (at most 20 kept per file). */
  onProblem?: (problem: BundleProblem) => void;
  /** Check that records fall inside the manifest's window (validate does; analysis tolerates). */
  checkWindow?: boolean;
}

const MAX_WARNINGS_PER_FILE = 20;
// Records a little outside the window are normal (clock skew, a sample taken as collection ended).
const WINDOW_SLACK_MS = 60_000;

function near(ms: number, period: { from: number; to: number }): boolean {
  return ms >= period.from - WINDOW_SLACK_MS && ms <= period.to + WINDOW_SLACK_MS;
}

/**
 * A bundle opened for reading. Logs and series are streamed record by record, so a bundle of any
 * size is read in constant memory; bad records are skipped and reported, never thrown.
 */
export class Bundle {
  readonly warnings: Warning[] = [];
  private readonly perFile = new Map<string, number>();
  readonly windowMs: { from: number; to: number };
  /** The manifest's baseline period in unix ms, when it declares one. */
  readonly baselineMs: { from: number; to: number } | undefined;

  constructor(
    readonly root: string,
    readonly manifest: Manifest,
    readonly source: string,
    private readonly cleanup: string | undefined,
    private readonly options: OpenBundleOptions,
  ) {
    this.windowMs = { from: Date.parse(manifest.window.from), to: Date.parse(manifest.window.to) };
    const b = manifest.baseline;
    this.baselineMs = b ? { from: Date.parse(b.from), to: Date.parse(b.to) } : undefined;
  }

  problem(found: BundleProblem): void {
    // A problem quotes the record it is about (a JSON parser's snippet, a line's start): redacted,
    // as the bundle it comes from may not have been.
    const p = { ...found, message: redactText(found.message) };
    if (this.options.onProblem) {
      this.options.onProblem(p);
      return;
    }
    const n = (this.perFile.get(p.file) ?? 0) + 1;
    this.perFile.set(p.file, n);
    if (n <= MAX_WARNINGS_PER_FILE) {
      this.warnings.push({
        stage: 'read',
        name: p.file,
        code: p.code,
        message: p.message,
        where: p.line === undefined ? p.file : `${p.file}:${p.line}`,
      });
    } else if (n === MAX_WARNINGS_PER_FILE + 1) {
      this.warnings.push({
        stage: 'read',
        name: p.file,
        code: p.code,
        message: `more problems in this file were not listed`,
        where: p.file,
      });
    }
  }

  private outside(ms: number): boolean {
    return !near(ms, this.windowMs) && !(this.baselineMs && near(ms, this.baselineMs));
  }

  /** The container logs in the bundle, sorted by path. */
  async logs(): Promise<LogFileRef[]> {
    const base = path.join(this.root, bundleLayout.logsDir);
    const entries = await readdir(base, { recursive: true }).catch(() => [] as string[]);
    const refs: LogFileRef[] = [];
    for (const e of entries.sort()) {
      const rel = `${bundleLayout.logsDir}/${e.split(path.sep).join('/')}`;
      if (!rel.endsWith('.log')) continue;
      const ref = parseLogFilePath(rel);
      if (ref) refs.push(ref);
      else
        this.problem({
          file: rel,
          code: 'HINDSIGHT_BUNDLE_SCHEMA',
          severity: 'warning',
          message: 'log file outside logs/<namespace>/<pod>/<container>.log',
        });
    }
    return refs;
  }

  /** Streams the lines of one log; a line without a valid timestamp is skipped with a warning. */
  async *readLog(ref: LogFileRef): AsyncGenerator<LogLine> {
    let lineNo = 0;
    for await (const raw of lines(path.join(this.root, ref.file), ref.file, (p) => this.problem(p))) {
      lineNo += 1;
      if (raw.length === 0) continue;
      const sp = raw.indexOf(' ');
      const time = sp > 0 ? parseRfc3339(raw.slice(0, sp)) : Number.NaN;
      if (Number.isNaN(time)) {
        this.problem({
          file: ref.file,
          line: lineNo,
          code: 'HINDSIGHT_BUNDLE_SCHEMA',
          severity: 'warning',
          message: `line does not start with an RFC 3339 timestamp: ${JSON.stringify(redactText(raw).slice(0, 60))}`,
        });
        continue;
      }
      if (this.options.checkWindow && this.outside(time)) {
        this.problem({
          file: ref.file,
          line: lineNo,
          code: 'HINDSIGHT_BUNDLE_WINDOW',
          severity: 'warning',
          message: `time ${raw.slice(0, sp)} is outside the bundle window`,
        });
      }
      yield { time, subMs: subMillisecondNanos(raw, sp), text: raw.slice(sp + 1), lineNo };
    }
  }

  private async *records<T>(rel: string, schema: ZodType<T>, timeOf: (r: T) => number[]): AsyncGenerator<T> {
    const file = path.join(this.root, rel);
    let lineNo = 0;
    for await (const raw of lines(file, rel, (p) => this.problem(p))) {
      lineNo += 1;
      if (raw.trim().length === 0) continue;
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch (err) {
        this.problem({
          file: rel,
          line: lineNo,
          code: 'HINDSIGHT_BUNDLE_SCHEMA',
          severity: 'warning',
          message: `bad JSON: ${errorMessage(err)}`,
        });
        continue;
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
        this.problem({
          file: rel,
          line: lineNo,
          code: 'HINDSIGHT_BUNDLE_SCHEMA',
          severity: 'warning',
          message: `${where}${issue?.message ?? 'invalid record'}`,
        });
        continue;
      }
      const times = timeOf(parsed.data);
      // A time no Date can hold (1e300) is no instant: the record is skipped, not passed on.
      const impossible = times.find((t) => !(Math.abs(t) <= MAX_TIME_MS));
      if (impossible !== undefined) {
        this.problem({
          file: rel,
          line: lineNo,
          code: 'HINDSIGHT_BUNDLE_SCHEMA',
          severity: 'warning',
          message: `time ${impossible} is outside the range of dates (unix milliseconds up to ±8.64e15)`,
        });
        continue;
      }
      if (this.options.checkWindow) {
        const bad = times.find((t) => this.outside(t));
        if (bad !== undefined) {
          this.problem({
            file: rel,
            line: lineNo,
            code: 'HINDSIGHT_BUNDLE_WINDOW',
            severity: 'warning',
            message: `time ${showTime(bad)} is outside the bundle window`,
          });
        }
      }
      yield parsed.data;
    }
  }

  /** The size of a log in bytes (0 when it cannot be read): how much work mining it is. */
  logSize(ref: LogFileRef): Promise<number> {
    return fileSize(path.join(this.root, ref.file));
  }

  /**
   * The span the logs and series cover, read cheaply (each log's edges, each series' points) and
   * without reporting problems (reading proper does). Undefined when no data is timed.
   */
  async dataExtent(): Promise<{ from: number; to: number } | undefined> {
    let from = Number.POSITIVE_INFINITY;
    let to = Number.NEGATIVE_INFINITY;
    const widen = (e: [number, number] | undefined): void => {
      if (!e) return;
      if (e[0] < from) from = e[0];
      if (e[1] > to) to = e[1];
    };
    // One file at a time: a bundle may hold thousands of logs, and a series file is read whole.
    for (const ref of await this.logs()) widen(await logEdges(path.join(this.root, ref.file)));
    for (const rel of await this.seriesFiles()) widen(await seriesFileEdges(path.join(this.root, rel)));
    return from <= to ? { from, to } : undefined;
  }

  /** The series files in the bundle (series/*.jsonl). */
  async seriesFiles(): Promise<string[]> {
    const dir = path.join(this.root, bundleLayout.seriesDir);
    const names = await readdir(dir).catch(() => [] as string[]);
    return names
      .filter((n) => n.endsWith('.jsonl'))
      .sort()
      .map((n) => `${bundleLayout.seriesDir}/${n}`);
  }

  /** Streams every metric series. */
  async *series(): AsyncGenerator<Series> {
    for (const rel of await this.seriesFiles()) {
      // Every point's time is checked: one no Date can hold, anywhere in the series, skips it.
      yield* this.records(rel, seriesSchema, (s) => s.points.map((p) => p[0]));
    }
  }

  /** Streams the spans (spans.jsonl), record by record: a minute of a busy system holds tens of thousands. */
  async *spans(): AsyncGenerator<Span> {
    yield* this.records(bundleLayout.spans, spanSchema, (s) => [spanStartMs(s)]);
  }

  async changes(): Promise<Change[]> {
    return collect(this.records(bundleLayout.changes, changeSchema, (c) => [Date.parse(c.time)]));
  }

  async events(): Promise<BundleEvent[]> {
    return collect(this.records(bundleLayout.events, eventSchema, (e) => [Date.parse(e.time)]));
  }

  async pods(): Promise<Pod[]> {
    return collect(this.records(bundleLayout.pods, podSchema, () => []));
  }

  async topology(): Promise<Topology | undefined> {
    const file = path.join(this.root, bundleLayout.topology);
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    try {
      return topologySchema.parse(JSON.parse(text));
    } catch (err) {
      this.problem({
        file: bundleLayout.topology,
        code: 'HINDSIGHT_BUNDLE_SCHEMA',
        severity: 'warning',
        message: `ignored: ${errorMessage(err)}`,
      });
      return undefined;
    }
  }

  /** Removes the temporary folder of an unpacked archive. */
  async close(): Promise<void> {
    if (this.cleanup) await rm(this.cleanup, { recursive: true, force: true });
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/**
 * Streams the lines of a file of the bundle; nothing when it is absent. A path that is not a
 * regular file (a folder where a file of records belongs) or that fails while being read is
 * reported with `problem` and ends the stream: the rest of the bundle is still read.
 */
async function* lines(
  file: string,
  rel: string,
  problem: (p: BundleProblem) => void,
): AsyncGenerator<string> {
  const info = await stat(file).catch(() => undefined);
  if (!info) return;
  if (!info.isFile()) {
    problem({
      file: rel,
      code: 'HINDSIGHT_BUNDLE_SCHEMA',
      severity: 'error',
      message: `${info.isDirectory() ? 'a folder' : 'not a regular file'} where a file of records belongs; not read`,
    });
    return;
  }
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  try {
    yield* rl;
  } catch (err) {
    problem({
      file: rel,
      code: 'HINDSIGHT_BUNDLE_SCHEMA',
      severity: 'error',
      message: `cannot be read: ${errorMessage(err)}`,
    });
  }
}

// The range of a JavaScript Date (ECMA-262 21.4.1.1): a time outside it names no instant.
const MAX_TIME_MS = 8.64e15;

/** A time as RFC 3339 where Date can show it, else as the number it is. */
function showTime(ms: number): string {
  return Math.abs(ms) <= MAX_TIME_MS ? new Date(ms).toISOString() : String(ms);
}

/**
 * Opens a bundle (a folder or a .tar.gz). Throws a {@link HindsightError} when it cannot be read at
 * all (missing, no or bad manifest, unknown version, damaged archive); anything less is a warning.
 */
export async function openBundle(location: string, options: OpenBundleOptions = {}): Promise<Bundle> {
  const info = await stat(location).catch(() => undefined);
  if (!info) throw new HindsightError('HINDSIGHT_BUNDLE_MISSING', 'bundle not found', location);
  let root = location;
  let cleanup: string | undefined;
  if (info.isFile()) {
    if (!isArchivePath(location)) {
      throw new HindsightError(
        'HINDSIGHT_BUNDLE_MISSING',
        'a bundle is a folder or a .tar.gz archive',
        location,
      );
    }
    root = await unpackBundle(location);
    cleanup = root;
    // An archive made of a folder may hold that folder: accept both layouts.
    const inner = await readdir(root);
    if (inner.length === 1 && !inner.includes(bundleLayout.manifest))
      root = path.join(root, inner[0] as string);
  }
  try {
    const manifest = await readManifest(root, location);
    return new Bundle(root, manifest, location, cleanup, options);
  } catch (err) {
    if (cleanup) await rm(cleanup, { recursive: true, force: true });
    throw err;
  }
}

async function readManifest(root: string, shownAs: string): Promise<Manifest> {
  const where = path.join(shownAs, bundleLayout.manifest);
  let failure: string | undefined;
  const text = await readFile(path.join(root, bundleLayout.manifest), 'utf8').catch(
    (err: NodeJS.ErrnoException) => {
      failure = err.code;
      return undefined;
    },
  );
  if (text === undefined) {
    throw new HindsightError(
      'HINDSIGHT_BUNDLE_MANIFEST',
      failure === 'ENOENT'
        ? 'bundle has no manifest.json; is this a hindsight bundle?'
        : `manifest.json cannot be read (${failure === 'EISDIR' ? 'it is a folder' : failure})`,
      where,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new HindsightError(
      'HINDSIGHT_BUNDLE_MANIFEST',
      `manifest.json is not valid JSON: ${errorMessage(err)}`,
      where,
    );
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version !== BUNDLE_FORMAT_VERSION) {
    throw new HindsightError(
      'HINDSIGHT_BUNDLE_VERSION',
      `bundle format version ${version} is not supported (this hindsight reads version ${BUNDLE_FORMAT_VERSION})`,
      where,
    );
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HindsightError(
      'HINDSIGHT_BUNDLE_MANIFEST',
      `manifest.json is invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
      where,
    );
  }
  if (Date.parse(parsed.data.window.from) > Date.parse(parsed.data.window.to)) {
    throw new HindsightError('HINDSIGHT_BUNDLE_MANIFEST', 'manifest window.from is after window.to', where);
  }
  const baseline = parsed.data.baseline;
  if (baseline && Date.parse(baseline.from) > Date.parse(baseline.to)) {
    throw new HindsightError(
      'HINDSIGHT_BUNDLE_MANIFEST',
      'manifest baseline.from is after baseline.to',
      where,
    );
  }
  return parsed.data;
}

/**
 * Reads a whole bundle strictly and returns every problem with its file and line: the manifest,
 * every log line's timestamp, every JSON record, and records outside the window.
 */
export async function validateBundle(location: string): Promise<BundleProblem[]> {
  const problems: BundleProblem[] = [];
  let bundle: Bundle;
  try {
    bundle = await openBundle(location, { onProblem: (p) => problems.push(p), checkWindow: true });
  } catch (err) {
    if (err instanceof HindsightError) {
      return [
        {
          file: err.where ?? location,
          code: err.code,
          severity: 'error',
          message: err.message.replace(` (${err.where})`, ''),
        },
      ];
    }
    throw err;
  }
  try {
    for (const ref of await bundle.logs()) {
      for await (const _ of bundle.readLog(ref)) {
        // reading is the check
      }
    }
    for await (const _ of bundle.series()) {
      // reading is the check
    }
    for await (const _ of bundle.spans()) {
      // reading is the check
    }
    await bundle.changes();
    await bundle.events();
    await bundle.pods();
    await bundle.topology();
  } finally {
    await bundle.close();
  }
  return problems;
}
