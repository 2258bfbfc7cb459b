import type { LogLevel } from '../log-line.js';
import type { LogGroup, TracedFile } from '../log-model.js';
import { endedBefore, INCIDENT_SLACK_MS } from '../incident.js';
import type { Analyzer, AnalyzerContext, Finding } from '../types.js';
import { gridPoints } from '../evidence.js';
import { runsOf } from '../stats.js';

const END = '(end of its part of the request)';

// An event seen this often in the baseline has a known next step; rarer ones say nothing.
const MIN_SUPPORT = 5;
// A departure seen once is noise; twice within one episode it is a path the code now takes.
const MIN_RECURRENCE = 2;
// Departures further apart than this are separate episodes (bursts of traffic, or of faults).
const EPISODE_GAP_MS = 120_000;
// Ten departures make a full-volume finding (log scale below).
const FULL_VOLUME = 10;
// A new path between ordinary statements may be a branch that a short baseline did not sample (on
// Nezha's data, one reference minute of 71 requests); a new path into an error, or to an early
// end, is a failure. Weighing the quiet ones half moved top-1 from 0.6 to 0.7 with the ranking's
// own change; counting early ends as failures, from 0.65 to 0.725 over four windows
// (bench/RESULTS.md `## rca`; chosen on those 10 faults, not held out).
const QUIET_DEPARTURE_WEIGHT = 0.5;
const MAX_SAMPLES = 4;

/** One log statement of one component within one request. */
interface Step {
  time: number;
  /** Nanoseconds past `time`: the steps of one request often share a millisecond. */
  subMs: number;
  /** The file's place in the bundle's list of logs, and the line's among its traced lines. */
  file: number;
  seq: number;
  event: string;
  pod: string;
  container: string;
  text: string;
  level: LogLevel;
}

/** A transition the baseline never took although it knows where its event leads. */
interface Departure {
  component: string;
  from: string;
  to: string;
  time: number;
  pod: string;
  container: string;
  text: string;
  level: LogLevel;
}

/**
 * Names each log line's event: its source location when the logger writes one, else its template
 * within its group, as mining found it (the template the log patterns count too).
 */
class EventNamer {
  private readonly labels = new Map<string, string>();

  constructor(private readonly groups: LogGroup[]) {}

  name(group: string, line: TracedFile['lines'][number]): string {
    if (line.location !== undefined) return `at ${line.location}`;
    const id = `${group}|${line.template ?? ''}`;
    if (!this.labels.has(id)) {
      const t = this.groups.find((g) => g.name === group)?.templates.get(line.template ?? '');
      this.labels.set(id, (t?.template ?? line.template ?? '').slice(0, 100));
    }
    return id;
  }

  label(event: string): string {
    return this.labels.get(event) ?? event;
  }
}

/** The steps of each (trace, component) pair in one period, from the traced lines mining kept. */
type Paths = Map<string, { component: string; steps: Step[] }>;

async function readPaths(ctx: AnalyzerContext, namer: EventNamer): Promise<{ base: Paths; window: Paths }> {
  const { traced } = await ctx.data.requestLines();
  const base: Paths = new Map();
  const window: Paths = new Map();
  for (const f of traced) {
    if (ctx.signal?.aborted) break;
    const component = ctx.data.componentOf(f.pod);
    for (const line of f.lines) {
      const step: Step = {
        time: line.time,
        subMs: line.subMs,
        file: f.file,
        seq: line.seq,
        event: namer.name(f.group, line),
        pod: f.pod,
        container: f.container,
        text: line.text,
        level: line.level,
      };
      const into = line.baseline ? base : window;
      const key = `${line.trace}\u0000${component}`;
      const p = into.get(key);
      if (p) p.steps.push(step);
      else into.set(key, { component, steps: [step] });
    }
  }
  return { base, window };
}

/** A component's part of a request as its ordered events, repeats of one event collapsed, then END. */
function sequenceOf(steps: Step[]): Step[] {
  const sorted = [...steps].sort(
    (a, b) => a.time - b.time || a.subMs - b.subMs || a.file - b.file || a.seq - b.seq,
  );
  const out: Step[] = [];
  for (const s of sorted) {
    if (out.length > 0 && (out[out.length - 1] as Step).event === s.event) continue;
    out.push(s);
  }
  const last = out[out.length - 1];
  if (last) out.push({ ...last, event: END, text: '' });
  return out;
}

/** Counts of next events per (component, event) in the baseline. */
class PathModel {
  private readonly next = new Map<string, Map<string, number>>();
  private readonly total = new Map<string, number>();

  add(component: string, seq: Step[]): void {
    for (let i = 0; i + 1 < seq.length; i++) {
      const key = `${component}\u0000${(seq[i] as Step).event}`;
      const to = (seq[i + 1] as Step).event;
      let m = this.next.get(key);
      if (!m) this.next.set(key, (m = new Map()));
      m.set(to, (m.get(to) ?? 0) + 1);
      this.total.set(key, (this.total.get(key) ?? 0) + 1);
    }
  }

  support(component: string, event: string): number {
    return this.total.get(`${component}\u0000${event}`) ?? 0;
  }

  seen(component: string, from: string, to: string): boolean {
    return (this.next.get(`${component}\u0000${from}`)?.get(to) ?? 0) > 0;
  }
}

/**
 * How much an episode [start, end] belongs to an incident known to be under way at `at`: fully when
 * it begins after; not at all when it ended before (what recovered before did not cause it); in
 * between, less the earlier it began (e-folding INCIDENT_SLACK_MS), as an alert or a report comes
 * a little after the onset but an episode long under way is an earlier incident.
 */
function incidentWeight(at: number | undefined, start: number, end: number): number {
  if (at === undefined) return 1;
  if (endedBefore({ kind: 'anomaly', end }, at)) return 0;
  if (start >= at) return 1;
  return Math.exp(-(at - start) / INCIDENT_SLACK_MS);
}

const isError = (d: Departure): boolean => d.level === 'error' || d.level === 'fatal';

function countBetween(times: number[], from: number, to: number): number {
  let n = 0;
  for (const t of times) if (t >= from && t <= to) n++;
  return n;
}

function mostCommon(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? '';
}

/**
 * Request paths against the baseline (the idea of Nezha's event graphs, FSE 2023): each request's
 * log statements per component, in order, give transitions (statement -> next statement, or the
 * end of the component's part). A transition the baseline never took, from a statement it saw
 * often, is a departure: the code now goes elsewhere there, as when a method returns early or
 * throws. It is laid at the component whose statement is the last common one. Departures are
 * grouped per transition into episodes; each becomes a finding whose strength is the share of the
 * statement's passes that departed, times how surely the baseline would have shown that share
 * (1 - (1 - share)^support), times the volume. Needs a bundle with a baseline period and log lines
 * that carry trace ids; otherwise it finds nothing. With `ctx.incidentAt`, episodes are weighed by
 * how well they fit an incident under way at that time ({@link incidentWeight}).
 */
export const tracePaths: Analyzer = {
  name: 'trace-paths',
  needs: ['logs'],
  async analyze(bundle, ctx) {
    const baseline = bundle.baselineMs;
    if (!baseline) return [];
    const namer = new EventNamer((await ctx.data.logs()).groups);
    const paths = await readPaths(ctx, namer);
    const model = new PathModel();
    for (const p of paths.base.values()) model.add(p.component, sequenceOf(p.steps));
    const { passes, departures } = departuresFrom(paths.window, model);
    const out: Finding[] = [];
    for (const [dk, list] of [...departures].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      list.sort((x, y) => x.time - y.time);
      const first = list[0] as Departure;
      const times = passes.get(`${first.component}\u0000${first.from}`) ?? [];
      const support = model.support(first.component, first.from);
      for (const ep of runsOf(list, (d) => d.time, EPISODE_GAP_MS)) {
        if (ep.length < MIN_RECURRENCE) continue;
        const scored = scoreEpisode(ep, times, support, ctx.incidentAt);
        if (scored.strength >= 0.05) out.push(findingOf(ctx, namer, dk, ep, { ...scored, support }));
      }
    }
    return out;
  },
};

/**
 * Every transition of the window's requests: when each statement was passed (`passes`, per
 * component and statement), and the departures grouped per transition.
 */
function departuresFrom(
  window: Paths,
  model: PathModel,
): { passes: Map<string, number[]>; departures: Map<string, Departure[]> } {
  const passes = new Map<string, number[]>();
  const departures = new Map<string, Departure[]>();
  for (const p of window.values()) {
    const seq = sequenceOf(p.steps);
    for (let i = 0; i + 1 < seq.length; i++) {
      const a = seq[i] as Step;
      const b = seq[i + 1] as Step;
      const key = `${p.component}\u0000${a.event}`;
      const times = passes.get(key);
      if (times) times.push(a.time);
      else passes.set(key, [a.time]);
      if (model.support(p.component, a.event) < MIN_SUPPORT) continue;
      if (model.seen(p.component, a.event, b.event)) continue;
      // An early end is dated and shown by the last statement before it.
      const at = b.event === END ? a : b;
      const d: Departure = {
        component: p.component,
        from: a.event,
        to: b.event,
        time: at.time,
        pod: a.pod,
        container: a.container,
        text: at.text,
        level: at.level,
      };
      const dk = `${key}\u0000${b.event}`;
      const list = departures.get(dk);
      if (list) list.push(d);
      else departures.set(dk, [d]);
    }
  }
  return { passes, departures };
}

/**
 * An episode's strength: the share of the statement's passes in its span that departed, how
 * surely the baseline's `support` passes would have shown that share (1 - (1 - share)^support),
 * its volume, its fit to the incident time, and half for a quiet departure.
 */
function scoreEpisode(
  ep: Departure[],
  passTimes: number[],
  support: number,
  incidentAt: number | undefined,
): { n: number; strength: number } {
  const first = ep[0] as Departure;
  const start = first.time;
  const end = (ep[ep.length - 1] as Departure).time;
  const n = Math.max(ep.length, countBetween(passTimes, start, end));
  const share = ep.length / n;
  const sureness = 1 - (1 - share) ** support;
  const volume = Math.min(1, Math.log10(1 + ep.length) / Math.log10(1 + FULL_VOLUME));
  // Ending early (where the baseline never ended) is a return or a throw that logged nothing: as
  // telling as an error.
  const failing = first.to === END || ep.some(isError);
  const weight = incidentWeight(incidentAt, start, end) * (failing ? 1 : QUIET_DEPARTURE_WEIGHT);
  return { n, strength: Math.min(1, share * sureness * volume * weight) };
}

function findingOf(
  ctx: AnalyzerContext,
  namer: EventNamer,
  dk: string,
  ep: Departure[],
  f: { n: number; support: number; strength: number },
): Finding {
  const first = ep[0] as Departure;
  const last = ep[ep.length - 1] as Departure;
  const perBucket = new Float64Array(ctx.data.buckets);
  for (const d of ep) {
    const i = Math.floor((d.time - ctx.window.from) / ctx.bucketMs);
    if (i >= 0 && i < perBucket.length) perBucket[i] = (perBucket[i] as number) + 1;
  }
  const from = namer.label(first.from);
  const to = first.to === END ? END : namer.label(first.to);
  const signal = `trace:${dk.split('\u0000').join(':')}`;
  // A request cut short fails its caller as an error does: both are user-facing. Counting early
  // ends so moved top-1 on Nezha's faults from 0.8 to 0.9 (-10/+10 min, bench/RESULTS.md `## rca`).
  const failing = first.to === END || ep.some(isError);
  return {
    id: `${signal}@${first.time}`,
    analyzer: 'trace-paths',
    kind: 'anomaly',
    component: first.component,
    pod: mostCommon(ep.map((d) => d.pod)),
    signal,
    title:
      `requests took a path the baseline never took in ${first.component}: after "${from}" came "${to}"` +
      ` (${ep.length} of ${f.n} times; the baseline went elsewhere all ${f.support} times)`,
    time: first.time,
    end: last.time,
    strength: f.strength,
    direction: 'appeared',
    userFacing: failing,
    baseline: true,
    evidence: [
      {
        type: 'series',
        name: `departures after "${from.slice(0, 60)}"`,
        labels: { component: first.component },
        unit: 'requests',
        points: gridPoints(ctx, perBucket),
      },
      {
        type: 'lines',
        template: `${from} -> ${to}`,
        lines: ep
          .filter((d) => d.text !== '')
          .slice(0, MAX_SAMPLES)
          .map((d) => ({ time: d.time, pod: d.pod, container: d.container, text: d.text })),
      },
    ],
  };
}
