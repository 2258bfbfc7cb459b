import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { ShopError } from './errors.js';
import type { ShopMetrics } from './plugins/metrics.js';
import type { RedisNodeClient, RedisNodes } from './plugins/redis.js';

/** What a session holds. `v` is its version: +1 on every change, and carried in the signed cookie. */
export interface SessionData {
  v: number;
  userId: number;
  username: string;
  cart: Record<string, number>;
  order: { id: number; status: 'pending' | 'paid' } | null;
  createdAt: number;
}

/** Session events, one log line each. */
export type SessionEvent = 'created' | 'read' | 'stale_read_retried' | 'saved' | 'expired' | 'missing';

/** What a read found, and on which node. */
export type SessionRead =
  { kind: 'found'; data: SessionData; node: string } | { kind: 'absent'; node: string };

/** Options of {@link RedisSessionStore}. */
export interface SessionStoreOptions {
  nodes: RedisNodes;
  metrics: ShopMetrics;
  readFrom: 'master' | 'replicas';
  readYourWrites: boolean;
  ttlSeconds: number;
}

/** The Redis key of a session id. */
export function sessionKey(id: string): string {
  return `sess:${id}`;
}

/** A short, non-reversible handle for a session id in logs (the id itself is a bearer secret). */
export function sessionHandle(id: string): string {
  return createHash('sha256').update(id).digest('hex').slice(0, 12);
}

// SET only if the stored version is the one the writer read (ARGV[2]; 0 = absent). Returns
// {1, 0} when written, {0, storedVersion or -1 when absent} when not. Runs atomically on the master.
const COMPARE_AND_SET = `
local cur = redis.call('GET', KEYS[1])
local expected = tonumber(ARGV[2])
if cur then
  local v = cjson.decode(cur).v
  if v ~= expected then return {0, v} end
elseif expected ~= 0 then
  return {0, -1}
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[3]))
return {1, 0}
`;

function parse(raw: string | null): SessionData | null {
  if (raw === null) return null;
  return JSON.parse(raw) as SessionData;
}

/**
 * The Redis session store. Writes go to the master. Reads go to the master, or round-robin to the
 * replicas; with the read-your-writes guard on, a replica answer older than the version the cookie
 * carries (or no answer) is retried on the master, so replication lag never loses a session.
 * A failed write or master read throws SHOP_SESSION_STORE_UNAVAILABLE: never a silent success.
 */
export class RedisSessionStore {
  private next = 0;
  constructor(private readonly opts: SessionStoreOptions) {}

  /** Reads session `id`, which the cookie says was written at version `minVersion` or later. */
  async load(id: string, minVersion: number, log: FastifyBaseLogger): Promise<SessionRead> {
    const { nodes, readFrom, readYourWrites } = this.opts;
    if (readFrom === 'replicas' && nodes.replicas.length > 0) {
      const replica = nodes.replicas[this.next++ % nodes.replicas.length]!;
      let data: SessionData | null;
      try {
        data = await this.get(replica, id);
      } catch (err) {
        // A replica that fails or times out is not the truth about the session: ask the master.
        log.warn(
          { event: 'replica_read_failed', store: 'redis', node: replica.node, err: (err as Error).message },
          'session read failed on replica, reading master',
        );
        return this.loadFromMaster(id, log);
      }
      const stale = data === null || data.v < minVersion;
      if (stale && readYourWrites) {
        this.opts.metrics.sessionStaleReads.inc({ node: replica.node });
        this.event(log, 'stale_read_retried', id, replica.node, {
          replicaVersion: data?.v ?? null,
          cookieVersion: minVersion,
        });
        return this.loadFromMaster(id, log);
      }
      if (data === null) return { kind: 'absent', node: replica.node };
      if (stale) this.opts.metrics.sessionStaleReads.inc({ node: replica.node });
      this.event(log, 'read', id, replica.node, { version: data.v });
      return { kind: 'found', data, node: replica.node };
    }
    return this.loadFromMaster(id, log);
  }

  private async loadFromMaster(id: string, log: FastifyBaseLogger): Promise<SessionRead> {
    const master = this.opts.nodes.master;
    let data: SessionData | null;
    try {
      data = await this.get(master, id);
    } catch (err) {
      throw this.unavailable('read', master, err, log);
    }
    if (data === null) return { kind: 'absent', node: master.node };
    this.event(log, 'read', id, master.node, { version: data.v });
    return { kind: 'found', data, node: master.node };
  }

  /**
   * Writes the session to the master with the TTL, if the master still holds version
   * `expectedVersion` (0: the key must not exist). Two requests that read the same version and both
   * change it would otherwise overwrite each other silently; the second gets SHOP_SESSION_CONFLICT.
   * `created` logs a created event instead of saved.
   */
  async save(
    id: string,
    data: SessionData,
    expectedVersion: number,
    log: FastifyBaseLogger,
    created = false,
  ): Promise<void> {
    const master = this.opts.nodes.master;
    let result: [number, number];
    try {
      result = (await master.client.eval(
        COMPARE_AND_SET,
        1,
        sessionKey(id),
        JSON.stringify(data),
        String(expectedVersion),
        String(this.opts.ttlSeconds),
      )) as [number, number];
    } catch (err) {
      this.opts.metrics.sessionOps.inc({ op: 'set', node: master.node, outcome: 'error' });
      throw this.unavailable('write', master, err, log);
    }
    if (result[0] !== 1) {
      this.opts.metrics.sessionOps.inc({ op: 'set', node: master.node, outcome: 'conflict' });
      const storedVersion = result[1] < 0 ? null : result[1];
      log.warn(
        { event: 'conflict', session: sessionHandle(id), node: master.node, expectedVersion, storedVersion },
        'session write conflict',
      );
      throw new ShopError(
        'SHOP_SESSION_CONFLICT',
        storedVersion === null
          ? 'the session is gone'
          : `expected version ${expectedVersion}, store has ${storedVersion}`,
      );
    }
    this.opts.metrics.sessionOps.inc({ op: 'set', node: master.node, outcome: 'ok' });
    this.event(log, created ? 'created' : 'saved', id, master.node, { version: data.v });
  }

  /** Deletes the session on the master. */
  async destroy(id: string, log: FastifyBaseLogger): Promise<void> {
    const master = this.opts.nodes.master;
    try {
      await master.client.del(sessionKey(id));
      this.opts.metrics.sessionOps.inc({ op: 'del', node: master.node, outcome: 'ok' });
    } catch (err) {
      this.opts.metrics.sessionOps.inc({ op: 'del', node: master.node, outcome: 'error' });
      throw this.unavailable('delete', master, err, log);
    }
  }

  /** Logs one session event line. */
  event(
    log: FastifyBaseLogger,
    event: SessionEvent,
    id: string,
    node: string,
    extra: Record<string, unknown> = {},
  ): void {
    const line = { event, session: sessionHandle(id), node, ...extra };
    if (event === 'missing') log.warn(line, 'session missing');
    else log.info(line, `session ${event.replace(/_/g, ' ')}`);
  }

  private async get(n: RedisNodeClient, id: string): Promise<SessionData | null> {
    try {
      const raw = await n.client.get(sessionKey(id));
      this.opts.metrics.sessionOps.inc({ op: 'get', node: n.node, outcome: raw === null ? 'miss' : 'ok' });
      return parse(raw);
    } catch (err) {
      this.opts.metrics.sessionOps.inc({ op: 'get', node: n.node, outcome: 'error' });
      throw err;
    }
  }

  private unavailable(op: string, n: RedisNodeClient, err: unknown, log: FastifyBaseLogger): ShopError {
    const message = (err as Error).message;
    log.error(
      { event: 'session_store_error', store: 'redis', role: n.role, node: n.node, op, err: message },
      `session store ${op} failed on redis ${n.role} ${n.node}`,
    );
    return new ShopError('SHOP_SESSION_STORE_UNAVAILABLE', `redis ${n.role} ${n.node}: ${message}`, {
      cause: err,
    });
  }
}
