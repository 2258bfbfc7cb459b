import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Bundle, LogFileRef, Warning } from '@hindsight/core';
import { DEFAULT_OPTIONS, TemplateMiner } from '@hindsight/drain';
import type { AccessFile, Grid, LogGroup, RequestLines, TemplateStats, TracedFile } from './log-model.js';
import { parseLogLine, type LogLevel } from './log-line.js';
import { AccessReader, TracedReader, traceIdOf } from './request-lines.js';

/** One log file to mine, with the group (workload/container) and component it belongs to. */
export interface MineTask {
  ref: LogFileRef;
  group: string;
  workload: string;
  component: string;
}

const MAX_SAMPLES = 4;
const MAX_PLAIN_CACHE = 100_000;
const MAX_CACHE = 200_000;
// Below this many bytes of logs one thread is quicker than starting workers.
const PARALLEL_BYTES = 64 * 1024 * 1024;
// A fixed number of workers, not one per core: the split decides which templates Drain sees first,
// so a fixed split gives the same report on every machine.
const WORKERS = 2;

const SEVERITY: Record<LogLevel, number> = {
  trace: 0,
  debug: 1,
  unknown: 2,
  info: 2,
  warn: 3,
  error: 4,
  fatal: 5,
};
const severity = (l: LogLevel): number => SEVERITY[l];

function newTemplate(id: string, template: string, g: LogGroup, level: LogLevel, n: number): TemplateStats {
  return {
    id,
    template,
    group: g.name,
    component: g.component,
    level,
    count: 0,
    baselineCount: 0,
    counts: new Float64Array(n),
    pods: new Map(),
    podCounts: new Map(),
    firstTime: Infinity,
    lastTime: -Infinity,
    samples: [],
  };
}

function newGroup(task: MineTask, n: number): LogGroup {
  return {
    name: task.group,
    workload: task.workload,
    container: task.ref.container,
    component: task.component,
    lines: 0,
    baselineLines: 0,
    totals: new Float64Array(n),
    templates: new Map(),
    pods: new Set(),
  };
}

/** Adds `from`'s counts into `into`. */
function absorb(into: TemplateStats, from: TemplateStats): void {
  into.count += from.count;
  into.baselineCount += from.baselineCount;
  for (let i = 0; i < into.counts.length; i++)
    into.counts[i] = (into.counts[i] as number) + (from.counts[i] as number);
  for (const [p, c] of from.pods) into.pods.set(p, (into.pods.get(p) ?? 0) + c);
  for (const [p, c] of from.podCounts) addPodCounts(into, p, c, true);
  into.firstTime = Math.min(into.firstTime, from.firstTime);
  into.lastTime = Math.max(into.lastTime, from.lastTime);
  if (severity(from.level) > severity(into.level)) into.level = from.level;
  for (const s of from.samples) if (into.samples.length < MAX_SAMPLES) into.samples.push(s);
}

/**
 * Adds one pod's lines per bucket to a template. `shared` says `counts` belongs to another
 * template too, so it is copied rather than kept.
 */
function addPodCounts(t: TemplateStats, pod: string, counts: Float64Array, shared: boolean): void {
  const into = t.podCounts.get(pod);
  if (!into) {
    t.podCounts.set(pod, shared ? new Float64Array(counts) : counts);
    return;
  }
  for (let i = 0; i < into.length; i++) into[i] = (into[i] as number) + (counts[i] as number);
}

/**
 * Follows Drain's merge of cluster `from` into the older cluster `to` (a template that generalised
 * into another's text). A template that merely generalises keeps its cluster's id, and its counts.
 */
function rename(g: LogGroup, from: string, to: string, template: string): void {
  const old = g.templates.get(from);
  if (!old) return;
  g.templates.delete(from);
  const twin = g.templates.get(to);
  if (!twin) {
    old.id = to;
    old.template = template;
    g.templates.set(to, old);
    return;
  }
  old.mergedInto = twin;
  absorb(twin, old);
}

/** What mining a set of log files gives: the groups, the lines read, and what the lines said of requests. */
export interface Mined extends RequestLines {
  groups: LogGroup[];
  lines: number;
}

/** The template a traced line belongs to: its cluster's id once Drain's merges are followed. */
function finalId(t: TemplateStats): string {
  let x = t;
  while (x.mergedInto) x = x.mergedInto;
  return x.id;
}

/**
 * Mines log files in this thread: each line is parsed (JSON fields or plain text), its template
 * found by Drain (a structured line whose reduced text repeats skips the tree search), and counted
 * per bucket and per pod; lines of the baseline period are mined by the same Drain and only
 * counted. In the same pass it keeps what the lines say of requests ({@link RequestLines}): the
 * access logs' requests, and, when the grid has a baseline period, the lines that carry a trace id
 * within `window` (the analysis window, bounds included; the grid's span by default) or the
 * baseline period. Returns the
 * groups, the number of lines read and those requests.
 */
export async function mineLogs(
  bundle: Bundle,
  tasks: MineTask[],
  grid: Grid,
  onFile?: (i: number, task: MineTask) => void,
  window: { from: number; to: number } = { from: grid.from, to: grid.from + grid.buckets * grid.bucketMs },
): Promise<Mined> {
  const n = grid.buckets;
  const base = grid.baseline;
  const groups = new Map<string, LogGroup>();
  const miners = new Map<string, TemplateMiner>();
  const caches = new Map<string, Map<string, TemplateStats>>();
  const traced: Array<TracedReader<TemplateStats>> = [];
  const access: AccessFile[] = [];
  let lines = 0;
  for (const [i, task] of tasks.entries()) {
    onFile?.(i, task);
    let group = groups.get(task.group);
    if (!group) {
      group = newGroup(task, n);
      groups.set(task.group, group);
      miners.set(task.group, new TemplateMiner());
      caches.set(task.group, new Map());
    }
    const g = group;
    g.pods.add(task.ref.pod);
    const miner = miners.get(task.group) as TemplateMiner;
    const cache = caches.get(task.group) as Map<string, TemplateStats>;
    // This file's lines per bucket, per template: its pod's share, added to the template at the end.
    const perPod = new Map<TemplateStats, Float64Array>();
    const accessReader = new AccessReader(i, task.ref.pod, task.ref.container);
    const tracedReader = new TracedReader<TemplateStats>(i, task.ref.pod, task.ref.container, task.group);
    traced.push(tracedReader);
    for await (const line of bundle.readLog(task.ref)) {
      lines++;
      const b = Math.floor((line.time - grid.from) / grid.bucketMs);
      const inWindow = b >= 0 && b < n;
      const inBase = base !== undefined && line.time >= base.from && line.time <= base.to;
      accessReader.add(line.time, line.text, inWindow || inBase);
      // Trace paths compare the window (its bounds included) with the baseline period.
      const trace =
        base !== undefined && (inBase || (line.time >= window.from && line.time <= window.to))
          ? traceIdOf(line.text)
          : undefined;
      if (!inWindow && !inBase) {
        // On the window's last instant, past the grid's last bucket: named, not mined.
        if (trace !== undefined) {
          const parsed = parseLogLine(line.text);
          const id = miner.match(parsed.content)?.id ?? `unmined:${parsed.content.slice(0, 100)}`;
          tracedReader.add(trace, line.time, line.subMs, line.text, parsed.level, false, id);
        }
        continue;
      }
      const parsed = parseLogLine(line.text);
      let t = cache.get(parsed.content);
      while (t?.mergedInto) t = t.mergedInto;
      if (!t) {
        const m = miner.add(parsed.content);
        if (m.previousId !== undefined) rename(g, m.previousId, m.id, m.template);
        t = g.templates.get(m.id);
        if (!t) {
          t = newTemplate(m.id, m.template, g, parsed.level, n);
          g.templates.set(m.id, t);
        }
        t.template = m.template;
        if (parsed.structured) {
          // Messages with ids inside them would grow the cache without bound: start it afresh.
          if (cache.size >= MAX_CACHE) cache.clear();
          cache.set(parsed.content, t);
        } else if (cache.size < MAX_PLAIN_CACHE) cache.set(parsed.content, t);
      }
      if (trace !== undefined)
        tracedReader.add(trace, line.time, line.subMs, line.text, parsed.level, inBase, t);
      if (!inWindow) {
        t.baselineCount++;
        g.baselineLines++;
        continue;
      }
      t.count++;
      t.counts[b] = (t.counts[b] as number) + 1;
      let mine = perPod.get(t);
      if (!mine) {
        mine = new Float64Array(n);
        perPod.set(t, mine);
      }
      mine[b] = (mine[b] as number) + 1;
      if (line.time < t.firstTime) t.firstTime = line.time;
      if (line.time > t.lastTime) t.lastTime = line.time;
      if (parsed.level !== t.level && severity(parsed.level) > severity(t.level)) t.level = parsed.level;
      if (t.samples.length < MAX_SAMPLES)
        t.samples.push({
          time: line.time,
          pod: task.ref.pod,
          container: task.ref.container,
          text: line.text.slice(0, 400),
        });
      g.totals[b] = (g.totals[b] as number) + 1;
      g.lines++;
    }
    for (const [t0, c] of perPod) {
      let t = t0;
      while (t.mergedInto) t = t.mergedInto;
      let sum = 0;
      for (let i = 0; i < n; i++) sum += c[i] as number;
      t.pods.set(task.ref.pod, (t.pods.get(task.ref.pod) ?? 0) + sum);
      addPodCounts(t, task.ref.pod, c, false);
    }
    const a = accessReader.done();
    if (a) access.push(a);
  }
  // Named before the merge marks are dropped: a traced line's template may have merged into another.
  const tracedFiles = traced.map((r) => r.done(finalId)).filter((f): f is TracedFile => f !== undefined);
  for (const g of groups.values()) for (const t of g.templates.values()) delete t.mergedInto;
  return { groups: [...groups.values()], lines, traced: tracedFiles, access };
}

/**
 * Merges the groups mined by several workers: groups of one name are joined and their templates
 * mined again by Drain from their texts (most frequent first), so that one kind of line seen by
 * two workers ends as one template. `onId` is told, for each template of a group found in several
 * parts, the id it now has (for the traced lines that name it).
 */
export function mergeGroups(
  parts: LogGroup[][],
  buckets: number,
  onId?: (part: number, group: string, from: string, to: string) => void,
): LogGroup[] {
  const byName = new Map<string, Array<{ part: number; g: LogGroup }>>();
  parts.forEach((part, k) => {
    for (const g of part) byName.set(g.name, [...(byName.get(g.name) ?? []), { part: k, g }]);
  });
  const out: LogGroup[] = [];
  for (const [name, list] of byName) {
    const first = (list[0] as { g: LogGroup }).g;
    if (list.length === 1) {
      out.push(first);
      continue;
    }
    const g: LogGroup = {
      ...first,
      name,
      lines: 0,
      baselineLines: 0,
      totals: new Float64Array(buckets),
      templates: new Map(),
      pods: new Set(),
    };
    const miner = new TemplateMiner();
    const all: Array<{ part: number; t: TemplateStats }> = [];
    for (const { part: k, g: part } of list) {
      g.lines += part.lines;
      g.baselineLines += part.baselineLines;
      for (let i = 0; i < buckets; i++) g.totals[i] = (g.totals[i] as number) + (part.totals[i] as number);
      for (const p of part.pods) g.pods.add(p);
      for (const t of part.templates.values()) all.push({ part: k, t });
    }
    all.sort(
      (a, b) =>
        b.t.count - a.t.count || (a.t.template < b.t.template ? -1 : a.t.template > b.t.template ? 1 : 0),
    );
    const moved: Array<{ part: number; id: string; into: TemplateStats }> = [];
    for (const { part, t } of all) {
      const m = miner.add(t.template);
      if (m.previousId !== undefined) rename(g, m.previousId, m.id, m.template);
      let into = g.templates.get(m.id);
      if (!into) {
        into = {
          ...t,
          id: m.id,
          template: m.template,
          count: 0,
          baselineCount: 0,
          counts: new Float64Array(buckets),
          pods: new Map(),
          podCounts: new Map(),
          samples: [],
        };
        g.templates.set(m.id, into);
      }
      into.template = m.template;
      absorb(into, t);
      moved.push({ part, id: t.id, into });
    }
    if (onId) for (const { part, id, into } of moved) onId(part, name, id, finalId(into));
    for (const t of g.templates.values()) delete t.mergedInto;
    out.push(g);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Finds the template of a group that a log line belongs to, as mining would: the line parsed the
 * same way, matched by Drain against a tree rebuilt from the group's templates, each with its
 * cluster's id (kept for life, so not derivable from the template's text). For reading the lines behind a template again,
 * after the miner itself is gone (it stays in the thread that mined).
 */
export function templateMatcher(group: LogGroup): (text: string) => string | undefined {
  const templates = [...group.templates.values()].sort(
    (a, b) => b.count - a.count || (a.template < b.template ? -1 : a.template > b.template ? 1 : 0),
  );
  const loaded = TemplateMiner.load({
    version: 1,
    options: { ...DEFAULT_OPTIONS },
    stats: { lines: 0, templates: 0, evicted: 0, truncated: 0 },
    clusters: templates.map((t) => ({
      id: t.id,
      tokens: t.template.split(' '),
      count: t.count + t.baselineCount,
      last: 0,
      buckets: [],
    })),
  });
  if (!loaded.ok) throw new Error(`the templates of ${group.name} cannot be matched: ${loaded.error}`);
  const miner = loaded.miner;
  return (text) => miner.match(parseLogLine(text).content)?.id;
}

/** What a mining worker is given. */
export interface WorkerInput {
  root: string;
  tasks: MineTask[];
  grid: Grid;
  window: { from: number; to: number };
}

/** What a mining worker sends back. */
export type WorkerMessage =
  | { type: 'progress'; text: string }
  | ({ type: 'done'; warnings: Warning[] } & Mined)
  | { type: 'error'; message: string };

/**
 * Mines the logs of a bundle: in this thread for small bundles, else split by size over two
 * worker threads whose results are merged. A worker that cannot start falls back to this thread.
 * `window` is the analysis window, whose traced lines are kept (see {@link mineLogs}).
 */
export async function mineInParallel(
  bundle: Bundle,
  tasks: MineTask[],
  grid: Grid,
  window: { from: number; to: number },
  onProgress?: (what: string) => void,
  workers?: 1 | 2,
): Promise<Mined> {
  const sizes = await Promise.all(tasks.map((t) => bundle.logSize(t.ref)));
  const total = sizes.reduce((a, b) => a + b, 0);
  const local = async (): Promise<Mined> => {
    const r = await mineLogs(
      bundle,
      tasks,
      grid,
      (i, t) => onProgress?.(`mining logs ${i + 1}/${tasks.length}: ${t.ref.pod}/${t.ref.container}`),
      window,
    );
    return { ...r, groups: mergeGroups([r.groups], grid.buckets) };
  };
  const auto = total >= PARALLEL_BYTES && os.availableParallelism() >= 2;
  if (tasks.length < 2 || workers === 1 || (workers === undefined && !auto)) return local();
  // Largest files first into the lighter bin; each bin keeps the files in their listed order.
  const bins: number[][] = Array.from({ length: WORKERS }, () => []);
  const load = new Array<number>(WORKERS).fill(0);
  const order = tasks.map((_, i) => i).sort((a, b) => (sizes[b] as number) - (sizes[a] as number) || a - b);
  for (const i of order) {
    let k = 0;
    for (let j = 1; j < load.length; j++) if ((load[j] as number) < (load[k] as number)) k = j;
    (bins[k] as number[]).push(i);
    load[k] = (load[k] as number) + (sizes[i] as number);
  }
  for (const bin of bins) bin.sort((a, b) => a - b);
  try {
    const results = await Promise.all(
      bins.map((bin, k) =>
        runWorker({ root: bundle.root, tasks: bin.map((i) => tasks[i] as MineTask), grid, window }, (text) =>
          onProgress?.(`worker ${k + 1}: ${text}`),
        ),
      ),
    );
    for (const r of results) bundle.warnings.push(...r.warnings);
    // A template of a group both workers mined has the id the merge gave it.
    const ids = new Map<string, string>();
    const groups = mergeGroups(
      results.map((r) => r.groups),
      grid.buckets,
      (part, group, from, to) => ids.set(`${part}\u0000${group}\u0000${from}`, to),
    );
    const byFile = <F extends { file: number }>(files: F[], k: number): F[] =>
      files.map((f) => ({ ...f, file: (bins[k] as number[])[f.file] as number }));
    const traced = results.flatMap((r, k) =>
      byFile(r.traced, k).map((f) => {
        for (const l of f.lines)
          if (l.template !== undefined)
            l.template = ids.get(`${k}\u0000${f.group}\u0000${l.template}`) ?? l.template;
        return f;
      }),
    );
    return {
      groups,
      lines: results.reduce((s, r) => s + r.lines, 0),
      traced: traced.sort((a, b) => a.file - b.file),
      access: results.flatMap((r, k) => byFile(r.access, k)).sort((a, b) => a.file - b.file),
    };
  } catch {
    return local();
  }
}

function runWorker(
  input: WorkerInput,
  onProgress: (text: string) => void,
): Promise<Mined & { warnings: Warning[] }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./mine-worker.js', import.meta.url), { workerData: input });
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') onProgress(m.text);
      else if (m.type === 'done') {
        const { type: _done, ...mined } = m;
        resolve(mined);
        void worker.terminate();
      } else reject(new Error(m.message));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      if (code !== 0) reject(new Error(`mining worker exited with code ${code}`));
    });
  });
}
