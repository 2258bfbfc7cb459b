import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { buildApp, startSweeper } from './app.js';
import { loadConfig } from './config.js';
import { migrate, seed } from './db.js';

/**
 * The shop process: load the config, build the app, migrate and seed, listen, sweep, and shut down
 * gracefully on SIGTERM/SIGINT. Returns the exit code instead of exiting (the entry below exits).
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
  const app = await buildApp(config);
  try {
    await app.ready();
    const applied = await migrate(app.pg);
    await seed(app.pg);
    app.log.info({ event: 'migrated', applied }, 'database migrated and seeded');
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    app.log.fatal({ event: 'start_failed', err: (err as Error).message }, 'shop failed to start');
    await app.close().catch(() => undefined);
    return 1;
  }
  const sweeper = startSweeper(app);
  return new Promise<number>((resolve) => {
    const shutdown = (signal: string) => {
      app.log.info({ event: 'shutdown', signal }, 'shutting down');
      void (async () => {
        await sweeper.stop();
        await app.close();
        resolve(0);
      })();
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
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
