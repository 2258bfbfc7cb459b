import type { AtCollection, Hypothesis, Report } from '../types.js';
import { clock, sinceText, stamp, stillFailingHeading } from './format.js';
import { mapStrings, terminalSafe } from './safe-text.js';
import type { Reporter, Style } from './types.js';

// The at-collection block stays short: the rest is in --json and the other reports.
const STILL_LINES = 8;
// On a terminal of known width the first screen (24 lines) holds the answer: the summary, the
// first hypothesis with its evidence and its commands. These bound each part of it.
const SCREEN = { summary: 4, still: 3, title: 2, why: 2, chain: 4, next: 2, warnings: 2 };

type Paint = (s: Style, t: string) => string;

/** `text` cut to `max` characters at a word boundary, with an ellipsis when cut. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, Math.max(1, max - 3));
  const atWord = cut.replace(/\s+\S*$/, '');
  return `${atWord.length >= max / 2 ? atWord : cut}...`;
}

/**
 * `text` wrapped at word boundaries to `width` columns, continuation lines indented by `indent`
 * spaces, at most `maxLines` lines (the last clipped with an ellipsis). Infinite width: one line.
 */
export function wrap(text: string, width: number, indent: number, maxLines = Infinity): string[] {
  if (!Number.isFinite(width)) return [text];
  const lines: string[] = [];
  let line = '';
  const room = (): number => width - (lines.length === 0 ? 0 : indent);
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line === '') line = word;
    else if (line.length + 1 + word.length <= room()) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
    while (line.length > room()) {
      lines.push(line.slice(0, room()));
      line = line.slice(room());
    }
  }
  if (line !== '') lines.push(line);
  const shown = lines.slice(0, maxLines);
  if (lines.length > maxLines) {
    const last = shown.length - 1;
    shown[last] = clip(`${shown[last] as string} ${lines[maxLines] as string}`, room());
  }
  return shown.map((l, i) => (i === 0 ? l : `${' '.repeat(indent)}${l}`));
}

function stillFailing(report: Report, p: Paint, width: number): string[] {
  const all = report.atCollection ?? [];
  if (all.length === 0) return [];
  const most = Number.isFinite(width) ? SCREEN.still : STILL_LINES;
  const shown = all.length > most ? all.slice(0, most - 1) : all;
  const line = (e: AtCollection): string => {
    const since = sinceText(e.since, report);
    const detail = e.detail.length > 120 ? `${e.detail.slice(0, 117)}...` : e.detail;
    const head = `  ${e.what}  ${e.object}  ${e.component}${since ? `, since ${since}` : ''}`;
    const rest = clip(detail, Math.max(10, width - head.length - 2));
    return `  ${p('red', e.what)}  ${e.object}  ${p('dim', `${e.component}${since ? `, since ${since}` : ''}`)}  ${rest}`;
  };
  return [
    '',
    p('bold', `${stillFailingHeading(report)}:`),
    ...shown.map(line),
    ...(shown.length < all.length
      ? [p('dim', `  ... and ${all.length - shown.length} more (see -o json)`)]
      : []),
  ];
}

/** The first hypothesis (or one strong enough): why, its chain of evidence, the next step and its commands. */
function detailed(h: Hypothesis, p: Paint, width: number): string[] {
  const fit = Number.isFinite(width);
  const lines: string[] = [];
  const title = wrap(
    `${h.rank}. [${h.score.toFixed(2)}] ${h.title}`,
    width,
    3,
    fit ? SCREEN.title : Infinity,
  );
  lines.push(...title.map((l, i) => (i === 0 && h.rank === 1 ? p('bold', l) : l)));
  lines.push(`   ${p('dim', `at ${stamp(h.time)}`)}`);
  if (h.reasons.length > 0) {
    const why = wrap(`why: ${h.reasons.join('; ')}`, width - 3, 5, fit ? SCREEN.why : Infinity);
    lines.push(...why.map((l, i) => `   ${i === 0 ? `${p('dim', 'why:')}${l.slice(4)}` : l}`));
  }
  const chain = h.chain.slice(1);
  // On the first screen what users felt (effects) is kept before more of the signals; time order stays.
  const effects = new Set(chain.filter((s) => s.role === 'effect').slice(0, SCREEN.chain / 2));
  const signals = chain.filter((s) => !effects.has(s)).slice(0, SCREEN.chain - effects.size);
  const steps = fit ? chain.filter((s) => effects.has(s) || signals.includes(s)) : chain;
  for (const s of steps) {
    const role = s.role === 'effect' ? p('red', 'effect') : p('cyan', 'signal');
    const room = fit ? width - 23 : 150;
    lines.push(`     ${clock(s.time)}  ${role}  ${clip(s.title, room)}`);
  }
  if (steps.length < chain.length)
    lines.push(p('dim', `     ... and ${chain.length - steps.length} more (see -o json)`));
  const next = wrap(`next: ${h.nextStep}`, width - 3, 6, fit ? SCREEN.next : Infinity);
  lines.push(...next.map((l, i) => `   ${i === 0 ? `${p('green', 'next:')}${l.slice(5)}` : l}`));
  // Each command alone on its line, uncoloured and never cut, so that it can be copied as it stands.
  for (const c of h.nextCommands ?? []) lines.push(`     ${c}`);
  return lines;
}

/** The summary for a terminal: the verdict, the top hypotheses with their chains, readable in 20 seconds. */
export const terminalReporter: Reporter = {
  name: 'terminal',
  description: 'a short summary for a terminal (the default)',
  extension: 'txt',
  render(raw: Report, options = {}) {
    // Every value from the bundle is shown, never obeyed: an escape sequence in a change's values
    // or a log line must not move the cursor, retitle the window or hide the lines around it.
    const report = mapStrings(raw, terminalSafe);
    const p = options.paint ?? ((_s: Style, t: string) => t);
    const width = options.width !== undefined && options.width >= 40 ? options.width : Infinity;
    const fit = Number.isFinite(width);
    const lines: string[] = [];
    lines.push(`${p('bold', 'hindsight investigate')}  ${report.bundle}`);
    const from = stamp(report.window.from);
    const to = stamp(report.window.to);
    // One date when the window is one day's; every time here and below is UTC.
    const window =
      from.slice(0, 10) === to.slice(0, 10)
        ? `${from.slice(0, -1)} to ${to.slice(11, -1)} UTC`
        : `${from} to ${to}`;
    const stats = `window ${window}; ${report.stats.logLines} log lines, ${report.stats.series} series, ${report.stats.changes} changes; ${(report.stats.durationMs / 1000).toFixed(1)} s`;
    lines.push(...wrap(stats, width, 2).map((l) => p('dim', l)));
    if (report.incident) {
      const n = report.incident.earlierEpisodes;
      const text = `incident under way at ${stamp(report.incident.at)}: ${n} anomal${n === 1 ? 'y' : 'ies'} that ended before it left out`;
      lines.push(...wrap(text, width, 2).map((l) => p('dim', l)));
    }
    lines.push('');
    const verdictStyle: Style = report.verdict === 'none' ? 'green' : 'yellow';
    for (const l of wrap(report.summary, width, 0, fit ? SCREEN.summary : Infinity))
      lines.push(p(verdictStyle, p('bold', l)));
    lines.push(...stillFailing(report, p, width));
    const shown = report.verdict === 'none' ? [] : report.hypotheses;
    for (const h of shown) {
      lines.push('');
      // On a known width only the first is shown in full: the others' title and first command.
      if (h.rank === 1 || (!fit && h.score >= 0.3)) {
        lines.push(...detailed(h, p, width));
      } else {
        const tail = `  ${p('dim', `at ${sinceText(h.time, report)}`)}`;
        const head = `${h.rank}. [${h.score.toFixed(2)}] `;
        lines.push(`${head}${fit ? clip(h.title, width - head.length - 14) : h.title}${tail}`);
        if (fit && h.score >= 0.3 && h.nextCommands?.[0]) lines.push(`     ${h.nextCommands[0]}`);
      }
    }
    if (report.verdict === 'none' && report.hypotheses.length > 0) {
      lines.push('');
      lines.push(p('dim', 'Changes in the window (nothing moved after them):'));
      for (const h of report.hypotheses)
        lines.push(p('dim', `  ${clock(h.time)}  ${fit ? clip(h.title, width - 12) : h.title}`));
    }
    if (report.warnings.length > 0) {
      const most = fit ? SCREEN.warnings : 5;
      lines.push('');
      lines.push(p('yellow', `${report.warnings.length} warning${report.warnings.length === 1 ? '' : 's'}:`));
      for (const w of report.warnings.slice(0, most)) {
        const text = `  ${w.where ?? w.name}: ${w.message} [${w.code}]`;
        lines.push(fit ? clip(text, width) : text);
      }
      if (report.warnings.length > most)
        lines.push(p('dim', `  ... and ${report.warnings.length - most} more (see -o json)`));
    }
    return `${lines.join('\n')}\n`;
  },
};
