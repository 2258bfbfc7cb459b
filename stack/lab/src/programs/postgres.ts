// postgres -> the PostgreSQL 15 binaries, with initdb on first start and the database created
// after, as the image's docker-entrypoint.sh does.
import { chownSync, existsSync, lchownSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { HindsightError } from '@hindsight/core';
import { ensurePrivateDir } from '../paths.js';
import { localPortOf, mapPath, rewriteArgs, type Program } from './container.js';

const PG_BIN = '/usr/lib/postgresql/15/bin';

function userIds(name: string): { uid: number; gid: number } | undefined {
  // postgres refuses to run as root: as root, the lab runs it as the postgres OS user.
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) return undefined;
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

// lstat and lchown: a link inside (planted by the user the tree is handed to) is not followed.
function chownTree(dir: string, uid: number, gid: number): void {
  lchownSync(dir, uid, gid);
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (lstatSync(p).isDirectory()) chownTree(p, uid, gid);
    else lchownSync(p, uid, gid);
  }
}

function run(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; uid?: number; gid?: number },
): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        env: { ...process.env, ...opts.env },
        ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}),
      },
      (err, _o, stderr) => {
        if (err)
          reject(new HindsightError('HINDSIGHT_LAB', `${cmd} failed: ${stderr.trim() || err.message}`));
        else resolve();
      },
    );
  });
}

/** The postgres image. */
export const postgres: Program = {
  matches: (image) => image === 'postgres' || image === 'postgresql',
  process(ctx, c, env) {
    const ids = userIds('postgres');
    const podPgdata = env.PGDATA ?? mapPath(ctx, '/var/lib/postgresql/data');
    // As root, postgres runs as the postgres user, who may not enter the state folder (~ is 0700 under
    // /root, mkdtemp makes 0700): its data then lives in /var/tmp, linked from the claim's folder.
    const outside = ids
      ? `/var/tmp/hindsight-lab-pg-${createHash('sha256').update(podPgdata).digest('hex').slice(0, 16)}`
      : undefined;
    const pgdata = outside ? join(outside, 'pgdata') : podPgdata;
    const runDir = outside ? join(outside, 'run') : mapPath(ctx, '/var/run/postgresql');
    const user = env.POSTGRES_USER ?? 'postgres';
    const password = env.POSTGRES_PASSWORD ?? '';
    const db = env.POSTGRES_DB ?? user;
    const port = localPortOf(ctx, c);
    return {
      command: join(PG_BIN, 'postgres'),
      args: [
        '-D',
        pgdata,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${runDir}`,
        ...rewriteArgs(ctx, c.args ?? []),
      ],
      env: { ...env, PGDATA: pgdata },
      cwd: pgdata,
      ...(ids ? { uid: ids.uid, gid: ids.gid } : {}),
      stopSignal: 'SIGINT',
      prepare: async () => {
        if (ids && outside && !lstatSync(podPgdata, { throwIfNoEntry: false })) {
          // A new claim: a folder of ours at this name was left by an earlier lab at the same path that
          // was stopped without `lab down`. Its cluster has that lab's password, so it starts afresh.
          const stale = lstatSync(outside, { throwIfNoEntry: false });
          if (stale?.isDirectory() && (stale.uid === ids.uid || stale.uid === 0))
            await rm(outside, { recursive: true, force: true });
        }
        // Before anything is made inside: a name planted in /var/tmp (a symlink) is refused.
        if (ids && outside) await ensurePrivateDir(outside, ids);
        await mkdir(pgdata, { recursive: true, mode: 0o700 });
        await mkdir(runDir, { recursive: true });
        if (ids && outside) {
          chownTree(runDir, ids.uid, ids.gid);
          chownSync(pgdata, ids.uid, ids.gid);
          await mkdir(dirname(podPgdata), { recursive: true });
          if (!existsSync(podPgdata)) await symlink(pgdata, podPgdata);
        }
        if (existsSync(join(pgdata, 'PG_VERSION'))) return;
        // As the image's docker-entrypoint.sh: initdb with POSTGRES_USER and its password.
        const pwfile = join(runDir, '.pwfile');
        await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
        if (ids) chownSync(pwfile, ids.uid, ids.gid);
        await run(
          join(PG_BIN, 'initdb'),
          [
            '-D',
            pgdata,
            '-U',
            user,
            `--pwfile=${pwfile}`,
            '-A',
            'scram-sha-256',
            '--auth-local=trust',
            '-E',
            'UTF8',
            '--no-sync',
          ],
          { ...(ids ?? {}) },
        );
      },
      afterStart: async () => {
        const { default: pg } = await import('pg');
        const client = new pg.Client({ host: '127.0.0.1', port, user, password, database: 'postgres' });
        await client.connect();
        try {
          const r = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
          if (r.rowCount === 0)
            await client.query(
              `CREATE DATABASE "${db.replace(/"/g, '""')}" OWNER "${user.replace(/"/g, '""')}"`,
            );
        } finally {
          await client.end();
        }
      },
    };
  },
};
