import type { Report } from '../types.js';
import { clock, showValue, sinceText, stamp, stillFailingHeading } from './format.js';
import type { Reporter } from './types.js';

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A Markdown report: verdict, hypotheses with chains and next steps, the findings, the warnings. */
export const markdownReporter: Reporter = {
  name: 'markdown',
  description: 'a Markdown report, for a ticket or a post-mortem',
  extension: 'md',
  render(report: Report) {
    const out: string[] = [];
    out.push(`# hindsight investigation`, '');
    out.push(
      `Bundle \`${report.bundle}\`, window ${stamp(report.window.from)} to ${stamp(report.window.to)}.`,
      '',
    );
    out.push(`**${report.summary}**`, '');
    const still = report.atCollection ?? [];
    if (still.length > 0) {
      out.push(`## ${stillFailingHeading(report)}`, '');
      out.push('| what | object | component | since | detail |', '| --- | --- | --- | --- | --- |');
      for (const e of still)
        out.push(
          `| ${e.what} | \`${cell(e.object)}\` | ${cell(e.component)} | ${sinceText(e.since, report)} | ${cell(e.detail)} |`,
        );
      out.push('');
    }
    if (report.verdict !== 'none') {
      out.push('## Hypotheses', '');
      for (const h of report.hypotheses) {
        out.push(`### ${h.rank}. ${h.title} (score ${h.score.toFixed(2)})`, '');
        if (h.cause.type === 'change' && h.cause.diff.length > 0) {
          out.push('| path | from | to |', '| --- | --- | --- |');
          for (const d of h.cause.diff)
            out.push(`| \`${cell(d.path)}\` | ${cell(showValue(d.from))} | ${cell(showValue(d.to))} |`);
          out.push('');
        }
        for (const r of h.reasons) out.push(`- ${r}`);
        out.push('', '| time | step | what |', '| --- | --- | --- |');
        for (const s of h.chain) out.push(`| ${clock(s.time)} | ${s.role} | ${cell(s.title)} |`);
        out.push('', `Next step: \`${h.nextStep}\``, '');
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
        out.push(`| ${clock(f.time)} | ${f.strength.toFixed(2)} | ${f.component ?? ''} | ${cell(f.title)} |`);
      out.push('');
    }
    if (report.warnings.length > 0) {
      out.push('## Warnings', '');
      for (const w of report.warnings) out.push(`- \`${w.code}\` ${w.where ?? w.name}: ${w.message}`);
      out.push('');
    }
    return out.join('\n');
  },
};
