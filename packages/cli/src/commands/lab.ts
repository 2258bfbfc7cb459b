import { HindsightError } from '@hindsight/core';
import type { Lab, LabStatus } from '@hindsight/lab';
import type { Command } from 'commander';
import type { CommandSpec, CommandContext } from '../command.js';
import { exitCodes } from '../command.js';
import { paint, type Io } from '../io.js';
import { heartbeat } from '../progress.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** `60s`, `2m`, `1500ms`, `90` (seconds) -> milliseconds. */
function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m)
    throw new HindsightError(
      'HINDSIGHT_USAGE',
      `invalid duration: ${text} (use 60s, 2m, 1500ms)`,
      '--duration',
    );
  const n = Number(m[1]);
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
}

/** The lab's package: an optional peer of the CLI, needed by `hindsight lab` and `hindsight demo` only. */
export const LAB_PACKAGE = '@hindsight/lab';

/**
 * Loads an optional package; when it is not installed, a HINDSIGHT_LAB error naming it and the
 * commands that need it, instead of Node's resolution error. Other failures pass through.
 */
export async function optionalPackage<T>(name: string, load: () => Promise<T>, commands: string): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'ERR_MODULE_NOT_FOUND' && (e.message ?? '').includes(`'${name}'`))
      throw new HindsightError(
        'HINDSIGHT_LAB',
        `${commands} needs the optional package ${name}, which is not installed: it runs from a clone of the hindsight repository (bash scripts/setup.sh, then npx hindsight), where it is a workspace`,
        undefined,
        { cause: err },
      );
    throw err;
  }
}

/** The lab's package, or the error naming it and `command`. */
export function importLab(command = '`hindsight lab`'): Promise<typeof import('@hindsight/lab')> {
  return optionalPackage(LAB_PACKAGE, () => import('@hindsight/lab'), command);
}

// The lab is the demo platform, not the product: loaded when a `lab` command runs, not at every start.
async function lab(
  opts: { dir?: string; timeScale?: string; tracing?: boolean; monitoring?: boolean },
  ctx: CommandContext,
  quiet = false,
): Promise<Lab> {
  const { Lab, defaultLabDir } = await importLab();
  return new Lab({
    dir: opts.dir ?? defaultLabDir(),
    ...(opts.timeScale !== undefined ? { timeScale: Number(opts.timeScale) } : {}),
    ...(opts.tracing ? { tracing: true } : {}),
    ...(opts.monitoring ? { monitoring: true } : {}),
    ...(quiet ? {} : { onProgress: (m: string) => say(ctx.io, paint(ctx.io, 'dim', m)) }),
  });
}

/** A line on stderr; on a terminal the progress line being redrawn is cleared first, so the two do not mix. */
export function say(io: Io, text: string): void {
  if (io.progress && io.stderr.isTTY === true) io.stderr.write('\r\u001b[2K');
  io.err(text);
}

/**
 * `3/7 pods ready` from the lab's status while a rollout runs (the pods the supervisor has so far);
 * empty before the supervisor answers. For {@link heartbeat}, shown on a terminal or with --progress.
 */
export function podsReady(lab: Lab): () => Promise<string> {
  return async () => {
    const s = await lab.status();
    if (!s.running || s.pods.length === 0) return '';
    return `${s.pods.filter((p) => p.ready).length}/${s.pods.length} pods ready`;
  };
}

/** Runs a rollout with a progress line counting the pods ready. */
async function withPods<T>(
  ctx: CommandContext,
  what: string,
  l: Lab,
  run: (l: Lab) => Promise<T>,
): Promise<T> {
  const beat = heartbeat(ctx.io, what, podsReady(l));
  try {
    return await run(l);
  } finally {
    beat.stop();
  }
}

function printStatus(ctx: CommandContext, s: LabStatus): void {
  const { io } = ctx;
  if (!s.running) {
    io.out(`${paint(io, 'yellow', 'stopped')}  release ${s.release} revision ${s.revision}  (${s.dir})`);
    return;
  }
  io.out(
    `${paint(io, 'green', 'running')}  release ${s.release} revision ${s.revision}  supervisor pid ${s.supervisorPid ?? '?'}`,
  );
  io.out(`nginx       ${s.nginxUrl ?? '-'}`);
  io.out(`kubeconfig  ${s.kubeconfig}  (API ${s.apiUrl ?? '-'})`);
  if (s.tracesUrl) io.out(`traces      ${s.tracesUrl}  (the shop's spans: hindsight collect --tempo)`);
  const monitoring = s.prometheus?.enabled !== false;
  if (!monitoring)
    io.out(
      `prometheus  off  (${paint(io, 'dim', 'lab up --monitoring runs it, with the exporter sidecars')})`,
    );
  else if (s.prometheus) {
    const p = s.prometheus;
    io.out(
      p.url
        ? `prometheus  ${p.url}  (${p.ready ? 'ready' : paint(io, 'yellow', 'not ready')}, ${p.targets} targets from ${p.discovery}, every ${p.scrapeIntervalSeconds}s)`
        : `prometheus  ${paint(io, 'yellow', 'not running')}: ${p.error ?? '-'}`,
    );
  }
  for (const p of s.pods)
    for (const l of p.leftOut ?? [])
      if (monitoring || !l.includes('monitoring is off'))
        io.out(`${paint(io, 'yellow', 'left out')}    ${p.name}/${l}`);
  if (s.cpuLimits)
    io.out(
      s.cpuLimits.enforced
        ? `cpu limits  enforced (${s.cpuLimits.how})`
        : `cpu limits  ${paint(io, 'yellow', 'NOT enforced')}: ${s.cpuLimits.how}`,
    );
  if (s.lastError) io.out(`${paint(io, 'red', 'last error')}  ${s.lastError}`);
  io.out('');
  const w = Math.max(4, ...s.pods.map((p) => p.name.length));
  io.out(`${'POD'.padEnd(w)}  READY  STATUS       RESTARTS  PORT   PIDS`);
  for (const p of [...s.pods].sort((a, b) => a.name.localeCompare(b.name))) {
    const ready = p.ready ? paint(io, 'green', 'yes  ') : paint(io, 'red', 'no   ');
    io.out(
      `${p.name.padEnd(w)}  ${ready}  ${p.phase.padEnd(11)}  ${String(p.restarts).padEnd(8)}  ${String(Object.values(p.ports)[0] ?? '-').padEnd(5)}  ${p.pids.join(',')}`,
    );
  }
}

function withDir(cmd: Command): Command {
  return cmd.option(
    '--dir <dir>',
    "the lab's state folder (default: $XDG_STATE_HOME/hindsight/lab, else ~/.local/state/hindsight/lab)",
  );
}

/** `hindsight lab ...`: the chart run as local processes, upgraded like Helm, with traffic and ground truth. */
export const labCommand: CommandSpec = {
  name: 'lab',
  summary: 'run the platform locally from the chart (up, upgrade, rollback, history, status, traffic, down)',
  examples: [
    'hindsight lab up',
    'hindsight lab upgrade --set redis.replica.replicaCount=6',
    'hindsight lab traffic --users 20 --duration 60s',
    'hindsight lab rollback 1',
    'KUBECONFIG=$(hindsight lab status --json | jq -r .kubeconfig) kubectl get pods',
    'hindsight lab down --purge',
  ],
  define(cmd, ctx) {
    const { io, setExitCode } = ctx;
    const fail = (err: unknown) => {
      if (err instanceof HindsightError && err.code === 'HINDSIGHT_LAB') {
        io.err(`${paint(io, 'red', 'error')} ${err.message}  [${err.code}]`);
        setExitCode(exitCodes.failed);
        return;
      }
      throw err;
    };
    // Ctrl-C stops waiting for a rollout (and the rollout itself); what it started keeps running.
    const failRollout = (err: unknown, dir: string | undefined) => {
      if (!ctx.signal.aborted) return fail(err);
      const where = dir ? ` --dir ${dir}` : '';
      io.err(
        `${paint(io, 'yellow', 'interrupted')} the rollout stopped where it was; the pods started so far run on (\`hindsight lab status${where}\` lists them, \`hindsight lab down${where}\` stops them)`,
      );
      setExitCode(exitCodes.interrupted);
    };

    withDir(cmd.command('up'))
      .description('render the chart with the values and start every pod (revision 1 on a new lab)')
      .option('-f, --values <file>', 'a values file (repeatable)', collect)
      .option('--set <key=value>', 'a value, as helm --set (repeatable)', collect)
      .option('--time-scale <factor>', 'multiply probe periods, back-offs and preStop sleeps (tests use 0.2)')
      .option(
        '--tracing',
        "trace the shop into the lab's receiver (collect --tempo reads it; about 40 MiB more per shop pod)",
      )
      .option(
        '--monitoring',
        "run the chart's exporter sidecars and a Prometheus scraping them (collect --prometheus reads it)",
      )
      .option('--json', 'print the status as JSON')
      .action(
        async (o: {
          dir?: string;
          values?: string[];
          set?: string[];
          timeScale?: string;
          tracing?: boolean;
          monitoring?: boolean;
          json?: boolean;
        }) => {
          try {
            const s = await withPods(ctx, 'lab up', await lab(o, ctx), (l) =>
              l.up({ valueFiles: o.values ?? [], set: o.set ?? [], signal: ctx.signal }),
            );
            if (o.json) io.out(JSON.stringify(s, null, 2));
            else printStatus(ctx, s);
          } catch (err) {
            failRollout(err, o.dir);
          }
        },
      );

    withDir(cmd.command('upgrade'))
      .description('make the next revision (values merged onto the deployed ones) and roll the pods to it')
      .option('-f, --values <file>', 'a values file (repeatable)', collect)
      .option('--set <key=value>', 'a value, as helm --set (repeatable)', collect)
      .option('--reset-values', "start from the chart's defaults instead of the deployed values")
      .option('--json', 'print the new revision as JSON')
      .action(
        async (o: {
          dir?: string;
          values?: string[];
          set?: string[];
          resetValues?: boolean;
          json?: boolean;
        }) => {
          try {
            const r = await withPods(ctx, 'lab upgrade', await lab(o, ctx), (l) =>
              l.upgrade({
                valueFiles: o.values ?? [],
                set: o.set ?? [],
                resetValues: o.resetValues === true,
                signal: ctx.signal,
              }),
            );
            if (o.json)
              io.out(
                JSON.stringify({ revision: r.version, status: r.info.status, config: r.config }, null, 2),
              );
            else io.out(`${paint(io, 'green', 'deployed')}  release ${r.name} revision ${r.version}`);
          } catch (err) {
            failRollout(err, o.dir);
          }
        },
      );

    withDir(cmd.command('rollback'))
      .description('roll back to REVISION (default: the one before the latest) as a new revision')
      .argument('[revision]', 'the revision to return to')
      .option('--json', 'print the new revision as JSON')
      .action(async (rev: string | undefined, o: { dir?: string; json?: boolean }) => {
        try {
          if (rev !== undefined && !/^\d+$/.test(rev))
            throw new HindsightError('HINDSIGHT_USAGE', `invalid revision: ${rev}`, 'REVISION');
          const r = await withPods(ctx, 'lab rollback', await lab(o, ctx), (l) =>
            l.rollback(rev === undefined ? undefined : Number(rev), { signal: ctx.signal }),
          );
          if (o.json)
            io.out(
              JSON.stringify(
                { revision: r.version, status: r.info.status, description: r.info.description },
                null,
                2,
              ),
            );
          else
            io.out(
              `${paint(io, 'green', 'deployed')}  release ${r.name} revision ${r.version} (${r.info.description ?? ''})`,
            );
        } catch (err) {
          failRollout(err, o.dir);
        }
      });

    withDir(cmd.command('history'))
      .description('the revisions, as helm history shows them')
      .option('--json', 'print as JSON')
      .action(async (o: { dir?: string; json?: boolean }) => {
        try {
          const h = await (await lab(o, ctx, true)).history();
          if (o.json) io.out(JSON.stringify(h, null, 2));
          else {
            io.out('REVISION  UPDATED                   STATUS       CHART       DESCRIPTION');
            for (const e of h)
              io.out(
                `${String(e.revision).padEnd(8)}  ${e.updated.slice(0, 24).padEnd(24)}  ${e.status.padEnd(11)}  ${e.chart.padEnd(10)}  ${e.description}`,
              );
          }
        } catch (err) {
          fail(err);
        }
      });

    withDir(cmd.command('status'))
      .description('pods, ports, revision and health; --json adds the kubeconfig path and the nginx URL')
      .option('--json', 'print as JSON')
      .action(async (o: { dir?: string; json?: boolean }) => {
        try {
          const s = await (await lab(o, ctx, true)).status();
          if (o.json) io.out(JSON.stringify(s, null, 2));
          else printStatus(ctx, s);
        } catch (err) {
          fail(err);
        }
      });

    withDir(cmd.command('down'))
      .description('stop every process the lab started, by pid (keeps the state folder unless --purge)')
      .option('--purge', 'also remove the state folder')
      .action(async (o: { dir?: string; purge?: boolean }) => {
        try {
          const r = await (await lab(o, ctx, true)).down({ purge: o.purge === true });
          io.out(
            `${paint(io, 'green', 'stopped')}${r.killed ? `  (${r.killed} left-over process groups killed)` : ''}${o.purge ? '  state folder removed' : ''}`,
          );
        } catch (err) {
          fail(err);
        }
      });

    withDir(cmd.command('traffic'))
      .description(
        'drive user flows through nginx and write per-second ground truth (lost sessions, stuck checkouts)',
      )
      .option('--users <n>', 'concurrent users', '10')
      .option('--duration <time>', 'how long (60s, 2m)', '60s')
      .option('--out <file>', 'the JSON-lines file (default: traffic/TIMESTAMP.jsonl in the state folder)')
      .option('--json', 'print the summary as JSON')
      .action(async (o: { dir?: string; users: string; duration: string; out?: string; json?: boolean }) => {
        try {
          const users = Number(o.users);
          if (!Number.isInteger(users))
            throw new HindsightError('HINDSIGHT_USAGE', `invalid --users: ${o.users}`, '--users');
          const s = await (
            await lab(o, ctx, true)
          ).traffic({
            users,
            durationMs: parseDuration(o.duration),
            ...(o.out ? { out: o.out } : {}),
            signal: ctx.signal,
            ...(o.json
              ? {}
              : {
                  onSecond: (sec) =>
                    io.err(
                      paint(
                        io,
                        'dim',
                        `${sec.t.slice(11, 19)}  ${sec.requests} req  ${sec.errors} err  ${sec.sessionsLost} lost  p95 ${sec.latencyMs.p95} ms`,
                      ),
                    ),
                }),
          });
          if (o.json) io.out(JSON.stringify(s, null, 2));
          else {
            const lost =
              s.sessionsLost > 0 ? paint(io, 'red', String(s.sessionsLost)) : paint(io, 'green', '0');
            io.out(
              `${s.requests} requests in ${s.durationSeconds}s, ${s.errors} errors, p95 ${s.latencyMs.p95} ms`,
            );
            io.out(
              `sessions lost mid-flow: ${lost} (logged out ${s.lostAs.loggedOut}, cart emptied ${s.lostAs.cartEmptied}, order forgotten ${s.lostAs.orderForgotten})`,
            );
            io.out(
              `checkouts: ${s.checkoutsStarted} started, ${s.checkoutsConfirmed} confirmed, ${s.checkoutsStuck} left stuck`,
            );
            io.out(`ground truth: ${s.out ?? '-'}`);
          }
        } catch (err) {
          fail(err);
        }
      });
  },
};
