import type { TopologyGraph } from '../topology.js';
import type { Finding, Hypothesis } from '../types.js';
import { INCIDENT_SLACK_MS } from '../incident.js';
import { runsOf } from '../stats.js';
import { iso, maxOf, minOf, round, step } from './common.js';

// A user-facing anomaly at least this strong marks the start of an incident.
const STRONG = 0.5;
// Signals measured on the calling side (client latency, client errors) say that a component waits
// on others: evidence against its dependencies more than against itself. On Nezha's Train Ticket
// faults, timeouts of one request lifted the client P99 of many callers to ~29 s and outranked
// the faulty service; weighting them down moved top-3 from 3 to 5 of 10.
const CALLER_SIDE = /client/i;
const CALLER_SIDE_WEIGHT = 0.3;
// Where the bundle has a baseline, a move judged only against the window's own past weighs half: that
// past may hold earlier incidents (Nezha's faults come ~7 min apart, inside a -10/+10 min window).
// Measured with the trace-paths weights in bench/RESULTS.md `## rca` (chosen on those 10 faults).
const WINDOW_ONLY_WEIGHT = 0.5;

// A latency signal: its name says so, or its evidence is measured in time.
const LATENCY_SIGNAL = /latency|duration|response.?time/i;
const TIME_UNIT = /^(ns|us|µs|ms|s|sec|seconds?|milliseconds?)$/i;

function isLatency(f: Finding): boolean {
  return (
    f.direction === 'up' &&
    (LATENCY_SIGNAL.test(f.signal) || f.evidence.some((e) => e.type === 'series' && TIME_UNIT.test(e.unit)))
  );
}

/**
 * Who waited on whom: each component a latency finding names as a bystander, with the component
 * it waited on. A bystander's slower calls are its callee's effect, so its own latency signals are
 * left out of its score (they stay in the report): they must not outrank the callee they wait on.
 */
export function waitsOn(moved: Finding[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of moved)
    for (const b of f.bystanders ?? []) if (f.component && b !== f.component) out.set(b, f.component);
  return out;
}

/** The anomalies the component ranking anchors on: departures from a baseline first. */
function anchorsOf(moved: Finding[]): { list: Finding[]; kind: string } {
  const firm = moved.filter((a) => a.baseline);
  if (firm.length > 0) return { list: firm, kind: 'departure from the baseline' };
  const user = moved.filter((a) => a.userFacing && a.strength >= STRONG);
  if (user.length > 0) return { list: user, kind: 'strong user-facing anomaly' };
  return { list: moved, kind: 'anomaly' };
}

/**
 * Where the component ranking says the incident starts, in words for the report's summary; without
 * an incident time, with the other large episodes a reader may have meant.
 */
export function incidentStart(moved: Finding[], tau: number, incidentAt?: number): string {
  const { list, kind } = anchorsOf(moved);
  if (incidentAt !== undefined) return `the first ${kind} since a minute before the incident time`;
  const starts = largeEpisodes(list, tau);
  if (starts.length < 2) return `the first large episode, from its first ${kind}`;
  const days = new Set(starts.map((t) => iso(t).slice(0, 10)));
  const names = starts.map((t) =>
    days.size > 1 ? iso(t).slice(0, 16).replace('T', ' ') : iso(t).slice(11, 16),
  );
  const when = `${names.slice(0, -1).join(', ')} and ${names.at(-1) as string} UTC`;
  return `the first of ${starts.length} large episodes (${when}), from its first ${kind}; give an incident time (--incident-at) to rank another`;
}

/** Components ranked as root-cause candidates when no change explains what moved. */
export function rankComponents(
  moved: Finding[],
  tau: number,
  graph: TopologyGraph,
  incidentAt?: number,
): Hypothesis[] {
  // Onset is weighed against the incident, not against the earliest anomaly anywhere: noise in the
  // minutes before a failure always comes first (on Nezha's Train Ticket faults the earliest
  // anomaly was on the faulty service in 1 of 10). The incident begins with the first strong
  // user-facing anomaly; anomalies long before it count half, those after it fade slowly (3 tau).
  // Measured in bench/RESULTS.md `## rca`.
  // A departure from the bundle's baseline (a period known to be normal) is firmer ground than a
  // move within the window, whose own past may hold earlier incidents: any that moved anchors
  // first. Requiring strength >= 0.5 here instead gave top-1 0.575 / top-3 0.85 against 0.65 /
  // 0.95, mean of four windows on Nezha's faults (bench/RESULTS.md `## rca`).
  const firm = moved.filter((a) => a.baseline);
  const candidates = anchorsOf(moved).list;
  // Given the incident's time, what began well before it is an earlier episode, not its onset: with
  // the hint 2 min late, top-1 on Nezha's faults 0.7 -> 0.8, the same at 0, -2 min and +-1 min.
  const recent =
    incidentAt === undefined ? [] : candidates.filter((a) => a.time >= incidentAt - INCIDENT_SLACK_MS);
  const anchors = recent.length > 0 ? recent : candidates;
  // Without the incident's time, the incident is the first large episode, not the first blip: a
  // support bundle spans months, and a Job's one restart in September outweighed, by coming first,
  // a node's restart in December that stopped every container.
  const t0 =
    incidentAt === undefined ? (largeEpisodes(anchors, tau)[0] as number) : minOf(anchors, (a) => a.time);
  const near = (t: number): number => Math.exp(-Math.max(0, t - t0) / (3 * tau)) * (t < t0 - tau ? 0.5 : 1);
  const byComp = new Map<string, Finding[]>();
  for (const a of moved) {
    const k = a.component ?? 'unknown';
    const list = byComp.get(k);
    if (list) list.push(a);
    else byComp.set(k, [a]);
  }
  const waited = waitsOn(moved);
  const out: Hypothesis[] = [];
  for (const [component, list] of byComp) {
    const bystander = waited.has(component);
    const sorted = [...list].sort((a, b) => a.time - b.time || b.strength - a.strength);
    const first = sorted[0] as Finding;
    // Earliest and strongest first: an anomaly counts less the later it begins after the first one anywhere.
    // Diminishing returns: the strongest anomaly counts fully, each next one half as much, so a
    // chatty component with many small moves does not outweigh one with a clear failure; errors
    // and user-facing moves that begin (not end) weigh half again as much.
    const contributions = sorted
      .map(
        (a) =>
          a.strength *
          near(a.time) *
          (a.userFacing ? 1.5 : 1) *
          (CALLER_SIDE.test(a.signal) ? CALLER_SIDE_WEIGHT : 1) *
          (firm.length > 0 && !a.baseline ? WINDOW_ONLY_WEIGHT : 1) *
          (bystander && isLatency(a) ? 0 : 1),
      )
      .sort((x, y) => y - x);
    let raw = 0;
    contributions.forEach((c, i) => (raw += c * 0.5 ** i));
    // A component others depend on that moved first is more likely the source than its callers.
    const callers = [...byComp.keys()].filter(
      (k) => k !== component && graph.distance(k, component) === 1,
    ).length;
    const weight = round(raw * (1 + 0.1 * callers));
    const score = round(1 - Math.exp(-weight));
    const effects = sorted.filter((a) => a.userFacing).slice(0, 2);
    out.push({
      rank: 0,
      score,
      weight,
      // A finding about `node/x` titled "node x: ..." names its component already.
      title: first.title.startsWith(`${component.replace('/', ' ')}:`)
        ? first.title
        : `${component}: ${first.title}`,
      time: first.time,
      cause: { type: 'component', component, firstSignal: first.signal },
      chain: [
        { role: 'cause', time: first.time, title: first.title, findingId: first.id, component },
        ...sorted
          .filter((a) => a !== first && !a.userFacing)
          .slice(0, 3)
          .map((a) => step('signal', a)),
        ...effects.filter((a) => a !== first).map((a) => step('effect', a)),
      ],
      explains: sorted.map((a) => a.id),
      nextStep: component.startsWith('node/')
        ? `look at ${component.slice(5)} around ${iso(first.time)}: its uptime (a reboot?), its conditions (kubectl describe node ${component.slice(5)}), and its kubelet's and container runtime's logs (journalctl -u kubelet -u containerd)`
        : `look at ${component} around ${iso(first.time)}: ${first.title}`,
      reasons: [
        `${sorted.length} anomal${sorted.length === 1 ? 'y' : 'ies'} in ${component}, the first at ${iso(first.time)}`,
        ...(bystander
          ? [`its latency signals are left out: it waited on ${waited.get(component) as string}`]
          : []),
      ],
    });
  }
  return out;
}

/**
 * The starts of the episodes (anomalies no further apart than `gap`) whose strengths add up to at
 * least half those of the episode that moved most, in time order. The incident begins at the
 * first: an earlier episode of about the same size is more likely where it began, a blip before a
 * storm is not.
 */
export function largeEpisodes(anomalies: Finding[], gap: number): number[] {
  const sorted = [...anomalies].sort((a, b) => a.time - b.time);
  const episodes = runsOf(sorted, (a) => a.time, gap).map((run) => ({
    start: (run[0] as Finding).time,
    weight: run.reduce((s, a) => s + a.strength, 0),
  }));
  const most = maxOf(episodes, (e) => e.weight);
  return episodes.filter((e) => e.weight >= most / 2).map((e) => e.start);
}
