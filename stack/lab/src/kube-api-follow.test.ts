import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeApi } from './kube-api.js';

const ts = (s: number): string => `2026-01-01T00:00:${String(s).padStart(2, '0')}.000000000Z`;

describe('pod logs with follow=true over a cluster view (a real HTTP server and log files)', () => {
  let dir: string;
  let server: Server;
  let base: string;
  const ended = new Set<string>();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lab-follow-'));
    server = createKubeApi({
      list: async (r) =>
        r === 'pods'
          ? ['a', 'b', 'c'].map((name) => ({
              apiVersion: 'v1',
              kind: 'Pod',
              metadata: { name, namespace: 'default' },
            }))
          : [],
      logFile: async (_ns, name) => join(dir, `${name}.log`),
      logEnded: (_ns, name) => ended.has(name),
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/namespaces/default/pods`;
  });
  afterAll(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends lines written after the request, and ends when the container instance ends', async () => {
    await writeFile(join(dir, 'a.log'), `${ts(1)} one\n${ts(2)} two\n`);
    const res = await fetch(`${base}/a/log?follow=true&timestamps=true&sinceTime=2026-01-01T00:00:02Z`);
    expect(res.status).toBe(200);
    const body = res.text();
    await new Promise((r) => setTimeout(r, 300));
    // A line written in two parts is sent once, whole.
    await appendFile(join(dir, 'a.log'), `${ts(3)} thr`);
    await new Promise((r) => setTimeout(r, 300));
    await appendFile(join(dir, 'a.log'), `ee\n${ts(4)} last, without a newline`);
    ended.add('a');
    expect(await body).toBe(`${ts(2)} two\n${ts(3)} three\n${ts(4)} last, without a newline\n`);
  });

  it('ends at once for an instance that has ended, and for a previous one', async () => {
    await writeFile(join(dir, 'b.log'), `${ts(1)} done\n`);
    ended.add('b');
    expect(await (await fetch(`${base}/b/log?follow=true`)).text()).toBe('done\n');
    await writeFile(join(dir, 'c.log'), `${ts(1)} before\n`);
    expect(await (await fetch(`${base}/c/log?follow=true&previous=true&tailLines=1`)).text()).toBe(
      'before\n',
    );
  });

  it('stops tailing when the client goes away', async () => {
    await writeFile(join(dir, 'c.log'), `${ts(1)} still running\n`);
    const ac = new AbortController();
    const res = await fetch(`${base}/c/log?follow=true`, { signal: ac.signal });
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toBe('still running\n');
    ac.abort();
    // The server is still answering others: a follow that lost its client does not wedge it.
    ended.add('c');
    expect(await (await fetch(`${base}/c/log`)).text()).toBe('still running\n');
  });
});
