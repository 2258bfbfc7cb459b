// nginx -> /usr/sbin/nginx, reading a copy of the ConfigMap's config with listen ports, upstream
// servers (the Service's ready endpoints) and paths rewritten to the lab's.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { mapPath, rewriteArgs, rewriteText, type Program } from './container.js';

/** The nginx image. */
export const nginx: Program = {
  matches: (image) => image === 'nginx',
  process(ctx, c, env, cwd) {
    const cmd = [...(c.command ?? ['nginx']), ...(c.args ?? [])];
    const args = rewriteArgs(ctx, cmd.slice(1));
    const ci = args.indexOf('-c');
    const conf = ci >= 0 ? args[ci + 1]! : mapPath(ctx, '/etc/nginx/nginx.conf');
    // The mounted file is the ConfigMap's text; nginx reads a rewritten copy beside it.
    const localConf = `${conf}.lab`;
    if (ci >= 0) args[ci + 1] = localConf;
    else args.push('-c', localConf);
    // Messages before the config is read go to stderr, not /var/log/nginx (absent or not ours).
    args.push('-e', 'stderr');
    const g = args.indexOf('-g');
    // As root, nginx's workers would run as `nobody`, who cannot enter a state folder under /root.
    if (process.getuid?.() === 0) {
      if (g >= 0) args[g + 1] = `${args[g + 1]} user root;`;
      else args.push('-g', 'user root;');
    }
    const render = async (): Promise<string> => {
      const text = await readFile(conf, 'utf8');
      let out = text.replace(
        /^(\s*listen\s+)(?:[\d.]+:)?(\d+)(\s*[^;]*;)/gm,
        (whole, pre: string, port: string, post: string) => {
          const local = ctx.ports.get(Number(port));
          return local === undefined ? whole : `${pre}127.0.0.1:${local}${post}`;
        },
      );
      // An upstream `server SVC:PORT` of a Service with a cluster IP is that address (the lab's
      // Service proxy, by rewriteText below): endpoint changes never reload nginx, as in a cluster,
      // where a reload would close the users' idle keepalive connections under them (measured: 243
      // of 960 keepalive POSTs failed across 20 reloads). A headless Service lists its ready
      // endpoints, as nginx resolving it would; with none, one closed port (nginx rejects an empty
      // upstream).
      out = out.replace(
        /^(\s*)server\s+([a-z0-9.-]+):(\d+)([^;]*);/gm,
        (whole, indent: string, host: string, port: string, rest: string) => {
          const svc = ctx.serviceNames().find((s) => host === s || host.startsWith(`${s}.`));
          if (!svc || ctx.serviceLocalPort(svc, Number(port)) !== undefined) return whole;
          const eps = ctx.serviceEndpoints(svc, Number(port));
          if (eps.length === 0) return `${indent}server 127.0.0.1:1${rest}; # ${svc}: no ready endpoint`;
          return eps.map((e) => `${indent}server 127.0.0.1:${e.port}${rest}; # ${e.pod}`).join('\n');
        },
      );
      out = out.replace(
        /(\s)(\/tmp\/[^\s;]*|\/tmp\b)/g,
        (_w, sp: string, p: string) => `${sp}${mapPath(ctx, p)}`,
      );
      return rewriteText(ctx, out);
    };
    let last = '';
    return {
      command: '/usr/sbin/nginx',
      args,
      env,
      cwd,
      stopSignal: 'SIGQUIT',
      prepare: async () => {
        for (const m of ctx.mounts)
          if (!m.local.endsWith('.conf')) await mkdir(m.local, { recursive: true }).catch(() => undefined);
        last = await render();
        await writeFile(localConf, last);
      },
      refresh: async () => {
        const next = await render();
        if (next === last) return false;
        last = next;
        await writeFile(localConf, next);
        return true;
      },
    };
  },
};
