import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { investigate, reporters } from '@hindsight/investigate';
import type { CommandSpec } from '../command.js';
import { exitCodes } from '../command.js';
import { paint } from '../io.js';
import { heartbeat } from '../progress.js';
import { LAB_PACKAGE, importLab, optionalPackage, podsReady, say as sayLine } from './lab.js';
import { VERSION } from '../version.js';

interface DemoOptions {
  dir?: string;
  quick?: boolean;
  json?: boolean;
  html?: string;
}

/** Phase lengths (ms). The default lets a newcomer watch; quick is for tests (HINDSIGHT_DEMO_QUICK=1). */
const timings = {
  normal: { warmMs: 30_000, spacingMs: 30_000, tailMs: 35_000, afterFixMs: 30_000 },
  quick: { warmMs: 8_000, spacingMs: 8_000, tailMs: 8_000, afterFixMs: 8_000 },
} as const;

/** `hindsight demo`: the story end to end on a local lab, with the fix applied and checked. */
export const demoCommand: CommandSpec = {
  name: 'demo',
  summary: 'the story end to end: a local lab loses sessions after an upgrade; collect, investigate, fix',
  examples: ['hindsight demo', 'hindsight demo --quick', 'hindsight demo --json > report.json'],
  define(cmd, { io, setExitCode, signal }) {
    cmd
      .option('--dir <dir>', 'where the lab, the bundle and the report go (default: a new temp folder)')
      .option('--quick', 'short phases (~10 s each instead of ~30 s); also HINDSIGHT_DEMO_QUICK=1')
      .option('--json', 'print only the JSON report (docs/report.md) on stdout')
      .option('--html <file>', 'where to write the HTML report (default: DIR/report.html)')
      .action(async (opts: DemoOptions) => {
        const quick = opts.quick === true || process.env['HINDSIGHT_DEMO_QUICK'] === '1';
        const t = quick ? timings.quick : timings.normal;
        const dir = resolve(opts.dir ?? (await mkdtemp(join(tmpdir(), 'hindsight-demo-'))));
        const started = Date.now();
        let lost = 0;
        let phase = 'starting';
        const say = (text: string) =>
          sayLine(
            io,
            `${paint(io, 'dim', `[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s]`)} ${text}`,
          );
        const enter = (name: string, text: string) => {
          phase = name;
          say(`${paint(io, 'bold', name)}  ${text}`);
        };
        let lastTick = 0;
        const onSecond = (s: { sessionsLost: number; requests: number }) => {
          lost += s.sessionsLost;
          if (Date.now() - lastTick >= 5000) {
            lastTick = Date.now();
            say(
              paint(
                io,
                'dim',
                `${phase}: ${s.requests} req/s, sessions lost so far ${lost > 0 ? paint(io, 'red', String(lost)) : '0'}`,
              ),
            );
          }
        };
        // The lab and its demo harness (with the Kubernetes client) load only when a demo runs.
        const { Lab } = await importLab('`hindsight demo`');
        const { applyFix, collectLab, measureTraffic, runIncident, storyScenario } = await optionalPackage(
          LAB_PACKAGE,
          () => import('@hindsight/lab/demo'),
          '`hindsight demo`',
        );
        const lab = new Lab({
          dir: join(dir, 'lab'),
          timeScale: 0.2,
          // The demo collects from the lab's Prometheus, as a team with one would.
          monitoring: true,
          onProgress: (m) => say(paint(io, 'dim', `lab: ${m}`)),
        });
        const scenario = storyScenario;
        try {
          enter('up', `the lab as the story's team ran it: ${scenario.up.join(' ')}`);
          const beat = heartbeat(io, 'up', podsReady(lab));
          await lab.up({ set: scenario.up, signal }).finally(() => beat.stop());
          if (signal.aborted) return setExitCode(exitCodes.interrupted);
          enter(
            'traffic',
            `${scenario.users ?? 20} users shopping; a benign upgrade, the story's upgrade, another`,
          );
          const incident = await runIncident(lab, scenario, {
            ...t,
            out: join(dir, 'traffic-incident.jsonl'),
            samples: join(dir, 'samples'),
            signal,
            onPhase: (m) => enter('upgrade', m),
            onSecond,
          });
          if (signal.aborted) return setExitCode(exitCodes.interrupted);
          const before = incident.truth.sessionsLost;
          say(
            `sessions lost during the incident (ground truth): ${before > 0 ? paint(io, 'red', String(before)) : '0'} of ${incident.truth.requests} requests; no error line was needed to see it`,
          );
          enter('collect', 'kubeconfig, Helm history, Redis, PostgreSQL, nginx');
          const bundle = join(dir, 'bundle');
          const collected = await collectLab(lab, {
            output: bundle,
            from: incident.from,
            ...(incident.samples ? { samples: incident.samples } : {}),
            signal,
            toolVersion: VERSION,
          });
          if (signal.aborted) return setExitCode(exitCodes.interrupted);
          enter('investigate', collected.bundlePath);
          const investigateStarted = Date.now();
          const report = await investigate(collected.bundlePath, { top: 5, signal });
          if (signal.aborted) return setExitCode(exitCodes.interrupted);
          say(`report in ${((Date.now() - investigateStarted) / 1000).toFixed(1)} s`);
          const html = resolve(opts.html ?? join(dir, 'report.html'));
          await writeFile(html, reporters.html.render(report));
          if (opts.json) io.out(reporters.json.render(report));
          else io.out(reporters.terminal.render(report, { paint: (style, text) => paint(io, style, text) }));
          enter('fix', report.hypotheses[0]?.nextStep ?? 'no hypothesis: nothing to apply');
          const fix = await applyFix(lab, report, signal);
          if (fix) say(`applied: ${fix.action} (revision ${fix.revision})`);
          if (signal.aborted) return setExitCode(exitCodes.interrupted);
          enter('traffic', 'after the fix');
          lost = 0;
          const after = await measureTraffic(lab, {
            durationMs: t.afterFixMs,
            users: scenario.users ?? 20,
            out: join(dir, 'traffic-after-fix.jsonl'),
            signal,
            onSecond,
          });
          if (signal.aborted) return setExitCode(exitCodes.interrupted);
          const faultAt = Date.parse(
            incident.changes.find((c) => c.role === 'fault')?.startedAt ?? incident.to.toISOString(),
          );
          const beforeFault = incident.seconds
            .filter((s) => Date.parse(s.t) + 1000 <= faultAt)
            .reduce((a, s) => a + s.sessionsLost, 0);
          say(
            `sessions lost before the story's upgrade: ${beforeFault}; after it, until the fix: ${before - beforeFault}`,
          );
          say(`sessions lost before the fix: ${before} (of ${incident.truth.requests} requests)`);
          say(`sessions lost after the fix: ${after.sessionsLost} (of ${after.requests} requests)`);
          // With the guard off, a replica that lags behind a fresh write can still lose a session
          // now and then; show those few so nobody mistakes them for the story's loss.
          for (const l of after.lost.slice(0, 5))
            say(
              paint(
                io,
                'dim',
                `  after the fix: ${l.t.slice(11, 19)} ${l.user} ${l.kind} at ${l.step} (${l.status})`,
              ),
            );
          say(`HTML report: ${html}`);
          say(`bundle: ${collected.bundlePath}`);
          if (!opts.json) io.out(`HTML report: ${html}`);
          setExitCode(exitCodes.ok);
        } finally {
          enter('down', 'stopping the lab');
          await lab.down({ purge: true });
        }
      });
  },
};
