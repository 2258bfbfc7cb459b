import {
  collect,
  optionKey,
  selectSources,
  parseDuration,
  resolveWindow,
  sources,
  type CollectOptions,
  type ProgressEvent,
  type SourceFlag,
} from '@hindsight/collect';
import type { CommandSpec } from '../command.js';
import { exitCodes } from '../command.js';
import { paint, type Io } from '../io.js';
import { VERSION } from '../version.js';
import {
  bundleOutputOf,
  bundleOutputOptions,
  requireZone,
  resolveKubeconfig,
  type BundleOutputFlags,
} from '../flags.js';
import { redactPatternOption, redactPatternsOf } from './redact-pattern.js';

/** The flags of collect itself; each source's are declared by the source (see `sources`). */
interface CollectFlags extends BundleOutputFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  since?: string;
  from?: string;
  to?: string;
  watch?: string;
  interval: string;
  force?: boolean;
  redactPattern: string[];
}

const collectAll = (value: string, previous: string[]): string[] => [...previous, value];

/** The flags the sources declare, each once, in the registry's order. */
const sourceFlags: readonly SourceFlag[] = sources.flatMap((s) => s.flags);

/** The values given for the sources' flags, by option name; unset and empty ones left out. */
function sourceOptions(flags: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const flag of sourceFlags) {
    const key = optionKey(flag.flags);
    const value = flags[key];
    if (Array.isArray(value) ? value.length > 0 : value !== undefined && value !== '') options[key] = value;
  }
  return options;
}

/** Shows each source's state; on a terminal the block is redrawn in place, elsewhere one line per outcome. */
class Progress {
  private readonly state = new Map<string, ProgressEvent>();
  private drawn = 0;
  constructor(private readonly io: Io) {}

  update(e: ProgressEvent): void {
    this.state.set(e.source, e);
    if (this.io.stderr.isTTY) this.draw();
    else if (e.state === 'ok' || e.state === 'partial' || e.state === 'failed') this.io.err(this.line(e));
  }

  private line(e: ProgressEvent): string {
    const mark =
      e.state === 'ok'
        ? paint(this.io, 'green', 'ok     ')
        : e.state === 'partial'
          ? paint(this.io, 'yellow', 'partial')
          : e.state === 'failed' || e.state === 'skipped'
            ? paint(this.io, 'red', e.state.padEnd(7))
            : paint(this.io, 'cyan', '...    ');
    return `  ${mark} ${e.source.padEnd(11)} ${String(e.items).padStart(8)} items${e.detail ? `  ${paint(this.io, 'dim', e.detail.slice(0, 100))}` : ''}`;
  }

  private draw(): void {
    const lines = [...this.state.values()].map((e) => this.line(e));
    const up = this.drawn > 0 ? `\u001b[${this.drawn}F` : '';
    this.io.stderr.write(`${up}${lines.map((l) => `\u001b[2K${l}`).join('\n')}\n`);
    this.drawn = lines.length;
  }
}

/** `hindsight collect`: every source the options name, for one window, into one bundle. */
export const collectCommand: CommandSpec = {
  name: 'collect',
  summary:
    'collect pods, logs, events, Helm history, Redis, PostgreSQL, nginx, Prometheus and Loki into a bundle',
  examples: [
    'hindsight collect --kubeconfig ~/.kube/config -n shop --since 1h --out-dir incident',
    'hindsight collect --redis redis://10.0.0.5:6379 --postgres postgres://shop@db/shop --watch 2m --out-dir now',
    'hindsight collect --kubeconfig ~/.kube/config -n shop -l app.kubernetes.io/component=shop --since 10m --watch 5m --out-dir rollout',
    "hindsight collect --git ./deploy --values-glob 'envs/prod/**/values*.yaml' --from 2026-01-01T10:00:00Z --to 2026-01-01T12:00:00Z --out-dir b",
    "hindsight collect --prometheus http://prom:9090 --promql 'rate(http_requests_total[1m])' --since 30m --out-dir b",
  ],
  define(cmd, { io, setExitCode, signal, env }) {
    bundleOutputOptions(cmd, 'the manifest and warnings')
      .option(
        '--kubeconfig <file>',
        'kubeconfig for the kubernetes and helm sources (default: $KUBECONFIG, a list of files merged as kubectl does; else ~/.kube/config when --context, -n or -l is given or no other source is)',
      )
      .option('--context <name>', 'kubeconfig context')
      .option('-n, --namespace <ns>', "namespace (default: the context's)")
      .option('--since <duration>', 'window: the last DURATION (1h by default)')
      .option('--from <time>', 'window start (RFC 3339)')
      .option('--to <time>', 'window end (RFC 3339; now by default)')
      .option(
        '--watch <duration>',
        'extend the window to now + DURATION: sample Redis and PostgreSQL, and follow the logs of pods (those created meanwhile too) until then (default: read once)',
      )
      .option(
        '--interval <duration>',
        'sampling period during --watch, and how often pods are listed again',
        '5s',
      );
    for (const flag of sourceFlags) {
      if (flag.repeatable) cmd.option(flag.flags, flag.description, collectAll, []);
      else if (flag.default !== undefined) cmd.option(flag.flags, flag.description, flag.default);
      else cmd.option(flag.flags, flag.description);
    }
    cmd.option('--force', 'write into a non-empty output folder');
    redactPatternOption(cmd, 'the bundle')
      .addHelpText('after', `\nSources: ${sources.map((s) => s.name).join(', ')}.`)
      .action(async (flags: CollectFlags & Record<string, unknown>) => {
        const out = bundleOutputOf(flags);
        const redactPatterns = redactPatternsOf(flags);
        requireZone(flags.from, '--from');
        requireZone(flags.to, '--to');
        const watchMs = flags.watch !== undefined ? parseDuration(flags.watch) : undefined;
        const window = resolveWindow({
          ...(flags.since !== undefined ? { since: flags.since } : {}),
          ...(flags.from !== undefined ? { from: flags.from } : {}),
          ...(flags.to !== undefined ? { to: flags.to } : {}),
          ...(watchMs !== undefined ? { watchMs } : {}),
        });
        // Each source's schema checks its own settings (`--promql` needs `--prometheus`...) in collect.
        const settings = sourceOptions(flags) as Partial<CollectOptions>;
        const otherSource = selectSources({ ...settings, output: out.dir, window }, sources).length > 0;
        const kubeconfig = resolveKubeconfig(
          flags.kubeconfig,
          env,
          Boolean(flags.context || flags.namespace || flags.selector || flags.nginxPod) || !otherSource,
        );
        const progress = new Progress(io);
        const result = await collect({
          ...settings,
          output: out.dir,
          window,
          toolVersion: VERSION,
          signal,
          onProgress: (e) => progress.update(e),
          intervalMs: parseDuration(flags.interval),
          ...(flags.force ? { overwrite: true } : {}),
          ...(redactPatterns.length > 0 ? { redactPatterns } : {}),
          ...(watchMs !== undefined ? { watchMs } : {}),
          ...(kubeconfig ? { kubeconfig } : {}),
          ...(flags.context ? { context: flags.context } : {}),
          ...(flags.namespace ? { namespace: flags.namespace } : {}),
        });
        const failed = result.manifest.sources.filter((s) => s.status === 'failed');
        if (out.json) {
          io.out(
            JSON.stringify(
              { bundle: result.bundlePath, manifest: result.manifest, warnings: result.warnings },
              null,
              2,
            ),
          );
        } else {
          for (const w of result.warnings) {
            io.err(
              `${paint(io, 'yellow', 'warning')} ${w.name}: ${w.message}${w.where ? ` (${w.where})` : ''}  [${w.code}]`,
            );
          }
          const ok = result.manifest.sources.length - failed.length;
          io.out(
            `${paint(io, failed.length > 0 ? 'yellow' : 'green', 'bundle')}  ${result.bundlePath}  (${ok} of ${result.manifest.sources.length} sources${failed.length > 0 ? `; failed: ${failed.map((s) => s.name).join(', ')}` : ''})`,
          );
        }
        // Every source down means there is nothing to analyse; one down is reported and the bundle used.
        setExitCode(
          result.interrupted
            ? exitCodes.interrupted
            : failed.length === result.manifest.sources.length
              ? exitCodes.failed
              : exitCodes.ok,
        );
      });
  },
};
