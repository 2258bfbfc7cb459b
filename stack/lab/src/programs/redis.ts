// redis -> /usr/bin/redis-server, with the rendered command and args.
import { mkdir } from 'node:fs/promises';
import { localPortOf, rewriteArgs, type Program } from './container.js';

/** The redis image. */
export const redis: Program = {
  matches: (image) => image === 'redis',
  process(ctx, c, env, cwd) {
    const cmd = [...(c.command ?? ['redis-server']), ...(c.args ?? [])];
    const args = rewriteArgs(ctx, cmd.slice(1));
    // Command-line options override the config file: the pod's port, loopback only, its data folder.
    args.push(
      '--port',
      String(localPortOf(ctx, c)),
      '--bind',
      '127.0.0.1',
      '--daemonize',
      'no',
      '--dir',
      cwd,
    );
    return {
      command: '/usr/bin/redis-server',
      args,
      env,
      cwd,
      stopSignal: 'SIGTERM',
      prepare: async () => {
        await mkdir(cwd, { recursive: true });
      },
    };
  },
};
