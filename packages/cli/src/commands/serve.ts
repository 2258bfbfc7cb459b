import { parseTime } from '@hindsight/collect';
import { startServer } from '@hindsight/web';
import { HindsightError, openBundle } from '@hindsight/core';
import type { CommandSpec } from '../command.js';
import { exitCodes } from '../command.js';
import { paint } from '../io.js';
import { requireZone } from '../flags.js';
import { redactPatternOption, redactPatternsOf, type RedactPatternFlags } from './redact-pattern.js';

/** `hindsight serve BUNDLE`: the bundle and its investigation in a browser, on loopback. */
export const serveCommand: CommandSpec = {
  name: 'serve',
  summary: 'open a bundle and its investigation in a browser (served on 127.0.0.1 only)',
  examples: [
    'hindsight serve test/fixtures/redis-replicas-2-to-6.tar.gz',
    'hindsight serve bundle.tar.gz --port 8080',
    'hindsight serve bundle.tar.gz --incident-at 2026-01-02T03:04:00Z   # when the alert fired',
  ],
  define(cmd, { io, setExitCode, signal }) {
    cmd
      .argument('<bundle>', 'a bundle folder or .tar.gz')
      .option('--port <port>', 'port on 127.0.0.1 (default: a free one)')
      .option(
        '--incident-at <time>',
        'when the incident was known to be under way (an alert, a report; RFC 3339 with a zone), as for investigate',
      );
    redactPatternOption(cmd, 'everything served').action(
      async (bundle: string, opts: { port?: string; incidentAt?: string } & RedactPatternFlags) => {
        const redactPatterns = redactPatternsOf(opts);
        requireZone(opts.incidentAt, '--incident-at');
        const incidentAt =
          opts.incidentAt !== undefined ? parseTime(opts.incidentAt, '--incident-at') : undefined;
        const port = Number(opts.port ?? 0);
        if (!Number.isInteger(port) || port < 0 || port > 65535) {
          throw new HindsightError(
            'HINDSIGHT_USAGE',
            `--port must be a number from 0 to 65535, not ${opts.port}`,
          );
        }
        // A bundle that cannot be opened (missing, no manifest, damaged archive) is the same
        // failure as in investigate, with the same exit: said before anything listens. Opened once:
        // the views and the investigation read the folder an archive is unpacked into here.
        const opened = await openBundle(bundle);
        let server;
        try {
          server = await startServer({
            bundle,
            opened,
            port,
            ...(incidentAt !== undefined ? { incidentAt } : {}),
            ...(redactPatterns.length > 0 ? { redactPatterns } : {}),
          });
        } catch (err) {
          await opened.close();
          const code = (err as NodeJS.ErrnoException).code;
          throw new HindsightError(
            'HINDSIGHT_USAGE',
            code === 'EADDRINUSE'
              ? `port ${port} is in use; choose another with --port, or omit it`
              : String(err),
            `127.0.0.1:${port}`,
            { cause: err },
          );
        }
        io.out(`hindsight serve: ${server.url}  (Ctrl-C to stop)`);
        const state = await Promise.race([
          server.ready,
          new Promise<undefined>((resolve) => signal.addEventListener('abort', () => resolve(undefined))),
        ]);
        // The page shows a bundle that cannot be read as an error page; the terminal says it too.
        if (state?.state === 'error') {
          io.err(`${paint(io, 'red', 'error')} ${state.error.message}  [${state.error.code}]`);
        } else if (state?.state === 'ready') {
          io.err(
            `read ${state.counts.logLines} log lines, ${state.counts.series} series, ${state.counts.changes} changes` +
              (state.warnings.length > 0 ? `; ${state.warnings.length} warnings (shown on the page)` : ''),
          );
        }
        if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve));
        await server.close();
        await opened.close();
        // Ctrl-C is how a server is meant to stop: it is a success, not an interruption.
        setExitCode(exitCodes.ok);
      },
    );
  },
};
