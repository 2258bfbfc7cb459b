import type { Report } from '../types.js';
import { clock, showValue, sinceText, stamp, stillFailingHeading } from './format.js';
import { markdownCode, markdownFence, markdownText } from './safe-text.js';
import type { Reporter } from './types.js';

// Every value from the bundle goes through one of these two: text with HTML and Markdown syntax
// made inert, or a code span no value can close.
const t = markdownText;
const code = (s: string): string => markdownCode(s, true);

/** A Markdown report: verdict, hypotheses with chains and next steps, the findings, the warnings. */
export const markdownReporter: Reporter = {
  name: 'markdown',
  description: 'a Markdown report, for a ticket or a post-mortem',
  extension: 'md',
  render(report: Report) {
    const out: string[] = [];
    out.push(`# hindsight investigation`, '');
    out.push(
      `Bundle ${markdownCode(report.bundle)}, window ${stamp(report.window.from)} to ${stamp(report.window.to)}.`,
      '',
    );
    out.push(`**${t(report.summary)}**`, '');
    const still = report.atCollection ?? [];
    if (still.length > 0) {
      out.push(`## ${stillFailingHeading(report)}`, '');
      out.push('| what | object | component | since | detail |', '| --- | --- | --- | --- | --- |');
      for (const e of still)
        out.push(
          `| ${t(e.what)} | ${code(e.object)} | ${t(e.component)} | ${sinceText(e.since, report)} | ${t(e.detail)} |`,
        );
      out.push('');
    }
    if (report.verdict !== 'none') {
      out.push('## Hypotheses', '');
      for (const h of report.hypotheses) {
        out.push(`### ${h.rank}. ${t(h.title)} (score ${h.score.toFixed(2)})`, '');
        if (h.cause.type === 'change' && h.cause.diff.length > 0) {
          out.push('| path | from | to |', '| --- | --- | --- |');
          for (const d of h.cause.diff)
            out.push(`| ${code(d.path)} | ${t(showValue(d.from))} | ${t(showValue(d.to))} |`);
          out.push('');
        }
        for (const r of h.reasons) out.push(`- ${t(r)}`);
        out.push('', '| time | step | what |', '| --- | --- | --- |');
        for (const s of h.chain) out.push(`| ${clock(s.time)} | ${s.role} | ${t(s.title)} |`);
        out.push('', `Next step: ${markdownCode(h.nextStep)}`, '');
        if (h.nextCommands && h.nextCommands.length > 0) out.push(...markdownFence('sh', h.nextCommands), '');
      }
    }
    const findings = report.findings.filter((f) => f.kind !== 'change').slice(0, 30);
    if (findings.length > 0) {
      out.push(
        '## Signals that moved',
        '',
        '| time | strength | component | what |',
        '| --- | --- | --- | --- |',
      );
      for (const f of findings)
        out.push(`| ${clock(f.time)} | ${f.strength.toFixed(2)} | ${t(f.component ?? '')} | ${t(f.title)} |`);
      out.push('');
    }
    if (report.warnings.length > 0) {
      out.push('## Warnings', '');
      for (const w of report.warnings)
        out.push(`- ${markdownCode(w.code)} ${t(w.where ?? w.name)}: ${t(w.message)}`);
      out.push('');
    }
    return out.join('\n');
  },
};
