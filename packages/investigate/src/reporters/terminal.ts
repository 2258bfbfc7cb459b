import type { AtCollection, Report } from '../types.js';
import { clock, sinceText, stamp, stillFailingHeading } from './format.js';
import { mapStrings, terminalSafe } from './safe-text.js';
import type { Reporter, Style } from './types.js';

// The at-collection block stays short: the rest is in --json and the other reports.
const STILL_LINES = 8;

function stillFailing(report: Report, p: (s: Style, t: string) => string): string[] {
  const all = report.atCollection ?? [];
  if (all.length === 0) return [];
  const shown = all.length > STILL_LINES ? all.slice(0, STILL_LINES - 1) : all;
  const line = (e: AtCollection): string => {
    const since = sinceText(e.since, report);
    const detail = e.detail.length > 120 ? `${e.detail.slice(0, 117)}...` : e.detail;
    return `  ${p('red', e.what)}  ${e.object}  ${p('dim', `${e.component}${since ? `, since ${since}` : ''}`)}  ${detail}`;
  };
  return [
    '',
    p('bold', `${stillFailingHeading(report)}:`),
    ...shown.map(line),
    ...(shown.length < all.length
      ? [p('dim', `  ... and ${all.length - shown.length} more (see --json)`)]
      : []),
  ];
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
    const lines: string[] = [];
    lines.push(
      `${p('bold', 'hindsight investigate')}  ${report.bundle}  ${p('dim', `(${stamp(report.window.from)} to ${stamp(report.window.to)}; ${report.stats.logLines} log lines, ${report.stats.series} series, ${report.stats.changes} changes; ${(report.stats.durationMs / 1000).toFixed(1)} s)`)}`,
    );
    if (report.incident) {
      const n = report.incident.earlierEpisodes;
      lines.push(
        p(
          'dim',
          `incident under way at ${stamp(report.incident.at)}: ${n} anomal${n === 1 ? 'y' : 'ies'} that ended before it left out`,
        ),
      );
    }
    lines.push('');
    const verdictStyle: Style = report.verdict === 'none' ? 'green' : 'yellow';
    lines.push(p(verdictStyle, p('bold', report.summary)));
    lines.push(...stillFailing(report, p));
    const shown = report.verdict === 'none' ? [] : report.hypotheses;
    for (const h of shown) {
      lines.push('');
      const head = `${h.rank}. ${p('bold', `[${h.score.toFixed(2)}]`)} ${h.rank === 1 ? p('bold', h.title) : h.title}`;
      lines.push(`${head}  ${p('dim', `at ${clock(h.time)}`)}`);
      if (h.rank === 1 || h.score >= 0.3) {
        if (h.reasons.length > 0) lines.push(`   ${p('dim', 'why:')} ${h.reasons.join('; ')}`);
        for (const s of h.chain.slice(1)) {
          const role = s.role === 'effect' ? p('red', 'effect') : p('cyan', 'signal');
          const title = s.title.length > 150 ? `${s.title.slice(0, 147)}...` : s.title;
          lines.push(`     ${clock(s.time)}  ${role}  ${title}`);
        }
        lines.push(`   ${p('green', 'next:')} ${h.nextStep}`);
        // Each command alone on its line, uncoloured, so that it can be copied as it stands.
        for (const c of h.nextCommands ?? []) lines.push(`     ${c}`);
      }
    }
    if (report.verdict === 'none' && report.hypotheses.length > 0) {
      lines.push('');
      lines.push(p('dim', 'Changes in the window (nothing moved after them):'));
      for (const h of report.hypotheses) lines.push(p('dim', `  ${clock(h.time)}  ${h.title}`));
    }
    if (report.warnings.length > 0) {
      lines.push('');
      lines.push(p('yellow', `${report.warnings.length} warning${report.warnings.length === 1 ? '' : 's'}:`));
      for (const w of report.warnings.slice(0, 5))
        lines.push(`  ${w.where ?? w.name}: ${w.message} [${w.code}]`);
      if (report.warnings.length > 5)
        lines.push(p('dim', `  ... and ${report.warnings.length - 5} more (see --json)`));
    }
    return `${lines.join('\n')}\n`;
  },
};
