import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Option } from 'commander';
import { collect, parseTime, resolveWindow, type CollectOptions } from '@hindsight/collect';
import { HindsightError } from '@hindsight/core';
import { investigate, isReporterName, reporters, type ReporterName } from '@hindsight/investigate';
import type { CommandSpec } from '../command.js';
import { exitCodes } from '../command.js';
import { paint, type Io } from '../io.js';
import { VERSION } from '../version.js';
import { requireZone, resolveKubeconfig } from '../flags.js';
import { redactPatternOption, redactPatternsOf } from './redact-pattern.js';

interface InvestigateOptions {
  top: string;
  json?: boolean;
  markdown?: string;
  html?: string;
  format?: string;
  output?: string;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  selector?: string;
  since?: string;
  from?: string;
  to?: string;
  redis: string[];
  postgres?: string;
  keepBundle?: string;
  incidentAt?: string;
  redactPattern: string[];
}

const collectAll = (value: string, previous: string[]): string[] => [...previous, value];

/** Whether any option that names something to collect is given. */
function wantsCollect(opts: InvestigateOptions): boolean {
  return Boolean(opts.kubeconfig || opts.redis.length > 0 || opts.postgres);
}

// Options that only mean something when hindsight collects first: with a bundle they are ignored, and said so.
const COLLECT_ONLY = [
  ['namespace', '-n/--namespace'],
  ['context', '--context'],
  ['selector', '-l/--selector'],
  ['since', '--since'],
  ['from', '--from'],
  ['to', '--to'],
  ['keepBundle', '--keep-bundle'],
] as const;

/** `-o`'s names: the reporters', with `text` for the terminal's, as kubectl calls it. */
function formatOf(opts: InvestigateOptions, names: string[]): ReporterName {
  const asked = opts.output ?? (opts.json ? 'json' : opts.format);
  const format = asked === undefined || asked === 'text' ? 'terminal' : asked;
  if (isReporterName(format)) return format;
  const choices = ['text', ...names.filter((n) => n !== 'terminal')].join(', ');
  throw new HindsightError(
    'HINDSIGHT_USAGE',
    opts.output !== undefined
      ? `-o/--output is the report format (${choices}), as in kubectl, not a file: to write one, redirect (> ${opts.output}) or use --html FILE / --markdown FILE`
      : `unknown format "${format}"; choose one of ${choices}`,
    opts.output !== undefined ? '-o' : '--format',
  );
}

/**
 * Collects what the options name into a bundle (a temporary folder unless --keep-bundle names
 * one), as `hindsight collect` does, and returns its path; every source down is an error.
 */
async function collectFirst(
  opts: InvestigateOptions,
  redactPatterns: RegExp[],
  io: Io,
  signal: AbortSignal,
): Promise<{ bundle: string; cleanup: () => Promise<void> }> {
  const window = resolveWindow({
    ...(opts.since !== undefined ? { since: opts.since } : {}),
    ...(opts.from !== undefined ? { from: opts.from } : {}),
    ...(opts.to !== undefined ? { to: opts.to } : {}),
  });
  const tmp = opts.keepBundle ? undefined : await mkdtemp(path.join(os.tmpdir(), 'hindsight-investigate-'));
  const output = opts.keepBundle ?? path.join(tmp as string, 'bundle');
  const cleanup = async (): Promise<void> => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  };
  const options: CollectOptions = {
    output,
    window,
    toolVersion: VERSION,
    signal,
    ...(redactPatterns.length > 0 ? { redactPatterns } : {}),
    ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
    ...(opts.context ? { context: opts.context } : {}),
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
    ...(opts.selector ? { selector: opts.selector } : {}),
    ...(opts.redis.length > 0 ? { redis: opts.redis } : {}),
    ...(opts.postgres ? { postgres: opts.postgres } : {}),
  };
  try {
    const result = await collect(options);
    for (const w of result.warnings) {
      io.err(
        `${paint(io, 'yellow', 'warning')} ${w.name}: ${w.message}${w.where ? ` (${w.where})` : ''}  [${w.code}]`,
      );
    }
    const failed = result.manifest.sources.filter((x) => x.status === 'failed');
    if (failed.length === result.manifest.sources.length) {
      const why = failed.map((x) => `${x.name}: ${x.error ?? 'failed'}`).join('; ');
      throw new HindsightError(
        'HINDSIGHT_SOURCE_FAILED',
        `every source failed, nothing to investigate (${why}); check the endpoints and credentials`,
      );
    }
    io.err(
      paint(
        io,
        'dim',
        `collected ${result.manifest.sources.length - failed.length} of ${result.manifest.sources.length} sources into ${opts.keepBundle ?? 'a temporary bundle'}`,
      ),
    );
    return { bundle: result.bundlePath, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

// Progress appears only when the run takes longer than this: a small bundle prints nothing extra.
const PROGRESS_AFTER_MS = 1000;

/** `hindsight investigate BUNDLE`: ranks the likely causes in a bundle and reports them. */
export const investigateCommand: CommandSpec = {
  name: 'investigate',
  summary: 'rank the likely causes of a failure in a bundle: changes, anomalies and their evidence',
  examples: [
    'hindsight investigate test/fixtures/redis-replicas-2-to-6.tar.gz',
    'hindsight investigate bundle.tar.gz --top 3 --html report.html',
    'hindsight investigate bundle -o json | jq .hypotheses[0].cause',
    'hindsight investigate bundle --incident-at 2026-01-02T03:04:00Z   # when the alert fired',
    'hindsight investigate -n shop --since 1h   # collect first from the current kubectl context',
    'hindsight investigate --kubeconfig ~/.kube/config -n shop --since 1h --redis redis://10.0.0.5:6379',
  ],
  define(cmd, { io, setExitCode, signal, env }) {
    const names = Object.keys(reporters);
    cmd
      .argument(
        '[bundle]',
        'a bundle folder or .tar.gz (or collect one first with --kubeconfig, --redis, --postgres)',
      )
      .option('--top <k>', 'how many hypotheses to report', '5')
      .option(
        '--incident-at <time>',
        'when the incident was known to be under way (an alert, a report; RFC 3339 with a zone: Z or +02:00): anomalies that ended before it are earlier episodes, not its cause',
      )
      .option(
        '-o, --output <format>',
        `print the report as ${['text', ...names.filter((n) => n !== 'terminal')].join('|')} (default: text; json schema in docs/report.md)`,
      )
      .option('--json', 'the same as -o json')
      .option('--markdown <file>', 'also write a Markdown report to FILE')
      .option('--html <file>', 'also write a self-contained HTML report with charts to FILE')
      .addOption(new Option('--format <name>', 'the same as -o').hideHelp())
      .option(
        '--kubeconfig <file>',
        'collect first: kubeconfig for the kubernetes and helm sources (default: $KUBECONFIG, else ~/.kube/config)',
      )
      .option('--context <name>', 'collect first: kubeconfig context')
      .option('-n, --namespace <ns>', "collect first: namespace (default: the context's)")
      .option('-l, --selector <selector>', 'collect first: label selector for the pods whose logs are read')
      .option('--since <duration>', 'collect first: the last DURATION (1h by default)')
      .option('--from <time>', 'collect first: window start (RFC 3339 with a zone: Z or +02:00)')
      .option('--to <time>', 'collect first: window end (RFC 3339 with a zone; now by default)')
      .option('--redis <url>', 'collect first: a Redis node (repeatable)', collectAll, [])
      .option('--postgres <url>', 'collect first: a PostgreSQL connection string')
      .option(
        '--keep-bundle <dir>',
        'collect first into DIR and keep it (default: a temporary folder, removed)',
      );
    redactPatternOption(cmd, 'every report (and the bundle it collects first)').action(
      async (bundleArg: string | undefined, opts: InvestigateOptions) => {
        const redactPatterns = redactPatternsOf(opts);
        const top = Number(opts.top);
        if (!Number.isInteger(top) || top < 1) {
          throw new HindsightError(
            'HINDSIGHT_USAGE',
            `--top must be a whole number of at least 1, not "${opts.top}"`,
            '--top',
          );
        }
        for (const flag of ['incidentAt', 'from', 'to'] as const) {
          requireZone(opts[flag], flag === 'incidentAt' ? '--incident-at' : `--${flag}`);
        }
        const incidentAt =
          opts.incidentAt !== undefined ? parseTime(opts.incidentAt, '--incident-at') : undefined;
        const format = formatOf(opts, names);
        const started = Date.now();
        let lastShown = 0;
        const onProgress = (what: string): void => {
          if (!io.progress) return;
          const now = Date.now();
          if (now - started < PROGRESS_AFTER_MS || now - lastShown < 500) return;
          lastShown = now;
          io.err(paint(io, 'dim', `... ${what} (${((now - started) / 1000).toFixed(0)} s)`));
        };
        if (bundleArg) {
          const ignored = COLLECT_ONLY.filter(([key]) => opts[key] !== undefined).map(([, flag]) => flag);
          if (ignored.length > 0) {
            io.err(
              `${paint(io, 'yellow', 'warning')} ${ignored.join(', ')} ${ignored.length === 1 ? 'is' : 'are'} for collecting first and ignored with a bundle, which holds what it was collected with`,
            );
          }
        } else {
          // As kubectl does: with no bundle, the cluster of $KUBECONFIG or ~/.kube/config.
          const kubeconfig = resolveKubeconfig(
            opts.kubeconfig,
            env,
            opts.redis.length === 0 && !opts.postgres,
          );
          if (kubeconfig) opts.kubeconfig = kubeconfig;
        }
        const collecting = wantsCollect(opts);
        if (bundleArg && collecting) {
          throw new HindsightError(
            'HINDSIGHT_USAGE',
            'give a bundle, or --kubeconfig/--redis/--postgres to collect one, not both',
          );
        }
        if (!bundleArg && !collecting) {
          throw new HindsightError(
            'HINDSIGHT_USAGE',
            'give a bundle to investigate, or --kubeconfig, --redis or --postgres to collect one first (no $KUBECONFIG or ~/.kube/config was found)',
          );
        }
        const collected = collecting ? await collectFirst(opts, redactPatterns, io, signal) : undefined;
        const bundle = collected?.bundle ?? (bundleArg as string);
        let report;
        try {
          report = await investigate(bundle, {
            top,
            onProgress,
            signal,
            redactPatterns,
            ...(incidentAt !== undefined ? { incidentAt } : {}),
          });
        } finally {
          await collected?.cleanup();
        }
        if (signal.aborted) {
          setExitCode(exitCodes.interrupted);
          return;
        }
        const render = (name: ReporterName): string =>
          reporters[name].render(report, {
            paint: (style, text) => paint(io, style, text),
            redactPatterns,
            // On a terminal the answer fits its first screen; a pipe gets whole lines.
            ...(io.stdout.isTTY ? { width: io.stdout.columns ?? 80 } : {}),
          });
        const written: string[] = [];
        if (opts.markdown) {
          await writeFile(opts.markdown, reporters.markdown.render(report, { redactPatterns }));
          written.push(`Markdown report: ${opts.markdown}`);
        }
        if (opts.html) {
          await writeFile(opts.html, reporters.html.render(report, { redactPatterns }));
          written.push(`HTML report: ${opts.html}`);
        }
        io.out(render(format));
        for (const w of written) (format === 'terminal' ? io.out : io.err)(w);
        setExitCode(exitCodes.ok);
      },
    );
  },
};
