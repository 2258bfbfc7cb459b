import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { loadConfig } from './config.js';
import { prepareDatabase } from './db.js';
import { startTracing } from './otel.js';

/**
 * The shop process: load the config, build the app, migrate and seed (waiting for PostgreSQL with
 * backoff), listen, sweep, and on SIGTERM/SIGINT shut down gracefully: drain (unready, every answer
 * closing its connection), then close, finishing the requests in flight. Returns the exit code instead
 * of exiting (the entry below exits).
 */
export async function main(env: Record<string, string | undefined> = process.env): Promise<number> {
  const loaded = loadConfig(env);
  if (!loaded.ok) {
    process.stderr.write(
      `${JSON.stringify({ level: 60, time: new Date().toISOString(), event: 'config_invalid', code: loaded.code, issues: loaded.issues, msg: loaded.message })}\n`,
    );
    return 78; // EX_CONFIG
  }
  const config = loaded.config;
  // Tracing (when configured) starts before the app's modules load: it patches fastify, ioredis, pg.
  await startTracing(env);
  const { buildApp, drainApp, startSweeper } = await import('./app.js');
  const app = await buildApp(config);
  // Signals are taken from the start: a pod told to stop while it waits for its database exits 0.
  const stopping = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    app.log.info({ event: 'shutdown', signal }, 'shutting down');
    stopping.abort(signal);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    await app.ready();
    // Listening first keeps /healthz answering (so liveness does not restart a pod that waits for
    // its database); /readyz and the routes answer 503 until the migration is done.
    app.starting = true;
    await app.listen({ port: config.port, host: config.host });
    const applied = await prepareDatabase(app.pg, app.log, { signal: stopping.signal });
    app.starting = false;
    app.log.info({ event: 'migrated', applied }, 'database migrated and seeded');
  } catch (err) {
    await app.close().catch(() => undefined);
    if (stopping.signal.aborted) return 0;
    app.log.fatal({ event: 'start_failed', err: (err as Error).message }, 'shop failed to start');
    return 1;
  }
  const sweeper = startSweeper(app);
  if (!stopping.signal.aborted)
    await new Promise((resolve) => stopping.signal.addEventListener('abort', resolve, { once: true }));
  await drainApp(app, config.shutdownDrainMs);
  await sweeper.stop();
  await app.close();
  return 0;
}

// Entry point when run as `node stack/shop/dist/main.js`.
const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
