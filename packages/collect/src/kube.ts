import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import type { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { HindsightError, errorMessage, parseRfc3339 } from '@hindsight/core';
import type { CommonOptions } from './source.js';

/** The clients a source needs, from --kubeconfig and --context. */
export interface Kube {
  config: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  namespace: string;
  server: string;
}

/**
 * Loads the kubeconfig named in the options; the namespace defaults to the context's. The client
 * library is imported here, not at the top: it takes half a second and 70 MB to load, which every
 * `hindsight` command would otherwise pay at start.
 */
export async function loadKube(
  options: Pick<CommonOptions, 'kubeconfig' | 'context' | 'namespace'>,
): Promise<Kube> {
  const { AppsV1Api, CoreV1Api, KubeConfig } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  try {
    // A list of files ($KUBECONFIG's form) merges as kubectl merges it: the first file to name a
    // context, cluster or user, or the current context, wins.
    const files = (options.kubeconfig as string).split(path.delimiter).filter((f) => f !== '');
    const loaded = files.map((f) => {
      const one = new KubeConfig();
      one.loadFromFile(f);
      return one;
    });
    const first = <T extends { name: string }>(pick: (k: KubeConfig) => T[]): T[] => {
      const seen = new Map<string, T>();
      for (const k of loaded) for (const x of pick(k)) if (!seen.has(x.name)) seen.set(x.name, x);
      return [...seen.values()];
    };
    config.loadFromOptions({
      clusters: first((k) => k.getClusters()),
      users: first((k) => k.getUsers()),
      contexts: first((k) => k.getContexts()),
      currentContext: loaded.map((k) => k.getCurrentContext()).find((c) => c) ?? '',
    });
    if (options.context) config.setCurrentContext(options.context);
  } catch (err) {
    throw new HindsightError(
      'HINDSIGHT_USAGE',
      `cannot load the kubeconfig: ${errorMessage(err)}`,
      options.kubeconfig,
    );
  }
  const cluster = config.getCurrentCluster();
  if (!cluster)
    throw new HindsightError('HINDSIGHT_USAGE', 'the kubeconfig has no current cluster', options.kubeconfig);
  const ctxNs = config.getContextObject(config.getCurrentContext())?.namespace;
  return {
    config,
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
    namespace: options.namespace ?? ctxNs ?? 'default',
    server: cluster.server,
  };
}

/** A short reason for a failed API call: the status code and the API's message when there is one. */
export function apiError(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  if (typeof e?.code === 'number') {
    let msg = '';
    try {
      const body =
        typeof e.body === 'string'
          ? (JSON.parse(e.body) as { message?: string })
          : (e.body as { message?: string });
      msg = body?.message ?? '';
    } catch {
      msg = typeof e.body === 'string' ? e.body.slice(0, 200) : '';
    }
    return `HTTP ${e.code}${msg ? `: ${msg}` : ''}`;
  }
  return errorMessage(err);
}

/** An API error with its HTTP status, as client-node's ApiException carries it. */
class KubeHttpError extends Error {
  constructor(
    readonly code: number,
    readonly body: string,
  ) {
    super(`HTTP ${code}`);
  }
}

/** Which container log to read: the current instance's, or the one before its last restart. */
export interface PodLogRef {
  namespace: string;
  pod: string;
  container: string;
  previous: boolean;
}

/**
 * GETs a container log with the kubeconfig's credentials and TLS settings, as a stream. A status
 * other than 200 is a {@link KubeHttpError} with the API's Status body. With `follow` the API keeps
 * the stream open while the container instance runs.
 */
async function openPodLog(
  kube: Kube,
  ref: PodLogRef,
  since: number,
  follow: boolean,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const url = new URL(
    `${kube.server.replace(/\/+$/, '')}/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/pods/${encodeURIComponent(ref.pod)}/log`,
  );
  url.searchParams.set('container', ref.container);
  url.searchParams.set('timestamps', 'true');
  url.searchParams.set('sinceTime', new Date(since).toISOString());
  if (ref.previous) url.searchParams.set('previous', 'true');
  if (follow) url.searchParams.set('follow', 'true');
  const opts: https.RequestOptions = {};
  await kube.config.applyToHTTPSOptions(opts);
  const send = url.protocol === 'https:' ? https.request : http.request;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = send(url, {
      method: 'GET',
      headers: opts.headers ?? {},
      ...(opts.auth ? { auth: opts.auth } : {}),
      ...(url.protocol === 'https:' && opts.agent ? { agent: opts.agent } : {}),
      signal,
    });
    req.once('response', resolve);
    req.once('error', reject);
    req.end();
  });
  if (res.statusCode !== 200) {
    let body = '';
    for await (const chunk of res) body += (chunk as Buffer).toString('utf8');
    throw new KubeHttpError(res.statusCode ?? 0, body);
  }
  return res;
}

/** What reading one container log gave. */
export interface LogReadResult {
  lines: number;
  /** Lines without a leading timestamp, dropped. */
  untimed: number;
  /** Lines after the window's end, dropped. */
  late: number;
}

/**
 * Streams a container log (`timestamps=true`, from the window's start) line by line to `onLine`,
 * keeping the lines of the window; the writable waits for `onLine`, so a large log never sits in
 * memory. With `follow`, it returns when the API ends the stream (the container instance stopped,
 * its pod was deleted) or when `signal` is aborted.
 */
export async function streamPodLog(
  kube: Kube,
  ref: PodLogRef,
  window: { from: number; to: number },
  onLine: (timestamp: string, time: number, text: string) => Promise<void>,
  signal: AbortSignal,
  follow = false,
): Promise<LogReadResult> {
  const result: LogReadResult = { lines: 0, untimed: 0, late: 0 };
  let rest = '';
  const handle = async (line: string): Promise<void> => {
    if (line.length === 0) return;
    const sp = line.indexOf(' ');
    const time = sp > 0 ? parseRfc3339(line.slice(0, sp)) : Number.NaN;
    if (Number.isNaN(time)) {
      result.untimed += 1;
      return;
    }
    if (time > window.to) {
      result.late += 1;
      return;
    }
    await onLine(line.slice(0, sp), time, line.slice(sp + 1));
    result.lines += 1;
  };
  // A chunk may end inside a multi-byte character: the decoder keeps its first bytes for the next.
  const decoder = new StringDecoder('utf8');
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const parts = (rest + decoder.write(chunk)).split('\n');
      rest = parts.pop() ?? '';
      (async () => {
        for (const p of parts) await handle(p.replace(/\r$/, ''));
      })().then(() => cb(), cb);
    },
    final(cb) {
      handle(rest + decoder.end()).then(() => cb(), cb);
    },
  });
  try {
    const res = await openPodLog(kube, ref, window.from, follow, signal);
    // pipeline() carries a failure of either side (a connection dropped mid-log, an abort) to the
    // other and rejects; Log.log() of client-node uses pipe(), which leaves the reader waiting forever.
    await pipeline(res, out, { signal });
  } catch (err) {
    if (!signal.aborted) throw err;
  }
  return result;
}
