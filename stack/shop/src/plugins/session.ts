import { randomBytes } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { definePlugin } from '../define-plugin.js';
import { ShopError } from '../errors.js';
import { RedisSessionStore, type SessionData } from '../session-store.js';

/** The session cookie's name. Its signed value is `id.version.writtenAtSeconds`. */
export const SESSION_COOKIE = 'shop_sid';

/** The session as one request sees it. */
export interface RequestSession {
  /** Session id from a valid cookie, or from a session started by this request. */
  id: string | null;
  data: SessionData | null;
  /** Set by handlers that change `data`; the session is written only then (or always, when rolling). */
  dirty: boolean;
  /** The request carried a valid cookie whose session the store no longer has. */
  missing: boolean;
  expired: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    sessions: RedisSessionStore;
  }
  interface FastifyRequest {
    session: RequestSession;
  }
}

function parseCookie(value: string): { id: string; version: number; writtenAt: number } | null {
  const parts = value.split('.');
  if (parts.length !== 3) return null;
  const [id, v, t] = parts as [string, string, string];
  const version = Number(v);
  const writtenAt = Number(t);
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(id) || !Number.isInteger(version) || !Number.isInteger(writtenAt))
    return null;
  return { id, version, writtenAt };
}

/**
 * The Redis session store and its cookie. Decorates `app.sessions` and `request.session`; the routes
 * plugin calls {@link loadSession} before its handlers and {@link commitSession} at their end.
 */
export const sessionPlugin = definePlugin(
  'shop-session',
  ['shop-config', 'shop-redis', 'shop-metrics'],
  async (app) => {
    await app.register(fastifyCookie, { secret: app.config.session.secret });
    const s = app.config.session;
    app.decorate(
      'sessions',
      new RedisSessionStore({
        nodes: app.redis,
        metrics: app.metrics,
        readFrom: s.readFrom,
        readYourWrites: s.readYourWrites,
        ttlSeconds: s.ttlSeconds,
      }),
    );
    app.decorateRequest('session', null as unknown as RequestSession);
  },
);

/** Reads the session named by the request's signed cookie (a preHandler hook). */
export async function loadSession(request: FastifyRequest): Promise<void> {
  const state: RequestSession = { id: null, data: null, dirty: false, missing: false, expired: false };
  request.session = state;
  const raw = request.cookies[SESSION_COOKIE];
  if (raw === undefined) return;
  const unsigned = request.unsignCookie(raw);
  const cookie = unsigned.valid && unsigned.value !== null ? parseCookie(unsigned.value) : null;
  if (cookie === null) return; // a forged or malformed cookie is no session at all
  const app = request.server;
  const read = await app.sessions.load(cookie.id, cookie.version, request.log);
  if (read.kind === 'found') {
    state.id = cookie.id;
    state.data = read.data;
    return;
  }
  // Without rolling the TTL restarts only at a write, and the cookie records when that was: so a
  // session absent before writtenAt + TTL was lost, not expired. That is the silent loss to count.
  const ttl = app.config.session.ttlSeconds;
  const expired = Math.floor(Date.now() / 1000) >= cookie.writtenAt + ttl;
  if (expired) {
    state.expired = true;
    app.sessions.event(request.log, 'expired', cookie.id, read.node, { cookieVersion: cookie.version });
  } else {
    state.missing = true;
    app.metrics.sessionMissing.inc();
    app.sessions.event(request.log, 'missing', cookie.id, read.node, { cookieVersion: cookie.version });
  }
}

/** The logged-in session, or a 401 that says whether the session was lost or never there. */
export function requireSession(request: FastifyRequest): SessionData {
  const data = request.session.data;
  if (data !== null) return data;
  throw new ShopError(request.session.missing ? 'SHOP_SESSION_MISSING' : 'SHOP_NOT_LOGGED_IN');
}

function setCookie(request: FastifyRequest, reply: FastifyReply, id: string, version: number): void {
  const writtenAt = Math.floor(Date.now() / 1000);
  reply.setCookie(SESSION_COOKIE, `${id}.${version}.${writtenAt}`, {
    signed: true,
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    maxAge: request.server.config.session.ttlSeconds,
  });
}

/** Starts a new session (a fresh id, so a login never reuses an id an attacker could have set). */
export async function startSession(
  request: FastifyRequest,
  reply: FastifyReply,
  data: Omit<SessionData, 'v' | 'createdAt'>,
): Promise<void> {
  const id = randomBytes(24).toString('base64url');
  const full: SessionData = { ...data, v: 1, createdAt: Date.now() };
  await request.server.sessions.save(id, full, 0, request.log, true);
  request.session = { id, data: full, dirty: false, missing: false, expired: false };
  setCookie(request, reply, id, full.v);
}

/**
 * Writes the session if a handler changed it, or on every request when SESSION_ROLLING=true.
 * Throws SHOP_SESSION_STORE_UNAVAILABLE (503) when the write fails.
 */
export async function commitSession(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const { id, data, dirty } = request.session;
  if (id === null || data === null) return;
  if (!dirty && !request.server.config.session.rolling) return;
  const expectedVersion = data.v;
  if (dirty) data.v += 1;
  await request.server.sessions.save(id, data, expectedVersion, request.log);
  request.session.dirty = false;
  setCookie(request, reply, id, data.v);
}

/** Deletes the session and clears the cookie. */
export async function endSession(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const { id } = request.session;
  if (id !== null) await request.server.sessions.destroy(id, request.log);
  request.session = { id: null, data: null, dirty: false, missing: false, expired: false };
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}
