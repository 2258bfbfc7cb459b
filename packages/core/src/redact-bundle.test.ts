import { appendFile, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleWriter, compileRedactPatterns, openBundle, validateBundle, type Manifest } from './index.js';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmVkLWJ5LXNvbWVvbmU';
const SECRETS = [
  'hunter2-pg',
  'rpass-4471',
  'AKIAZXCVBNMASDFGHJKL',
  JWT,
  'sess-77aa',
  'ACME-99812',
  'lbl-token-1',
];

let tmp: string;
let dir: string;
let manifest: Manifest;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-redact-bundle-'));
  dir = path.join(tmp, 'bundle');
  const t = Date.parse('2026-03-02T10:00:00Z');
  const w = await BundleWriter.create(dir, {
    window: { from: new Date(t), to: new Date(t + 60_000) },
    redactPatterns: compileRedactPatterns(['ACME-\\d+']),
  });
  const log = await w.openLog({ namespace: 'shop', pod: 'shop-0', container: 'shop', previous: false });
  await log.write(t + 1000, `GET /cart Authorization: Bearer ${JWT}`);
  await log.write(t + 2000, 'connecting with PGPASSWORD=hunter2-pg to db');
  await log.write(t + 3000, 'ticket ACME-99812 opened');
  await w.addSeries({
    name: 'up',
    labels: { pod: 'shop-0', token: 'lbl-token-1' },
    kind: 'gauge',
    points: [[t + 1000, 1]],
  });
  await w.addChange({
    time: new Date(t + 5000).toISOString(),
    kind: 'helm',
    target: 'shop',
    message: `rotate the redis password to rpass-4471; Authorization: Bearer ${JWT}`,
    diff: [
      { path: 'redis.auth.password', from: 'old-pass-1', to: 'rpass-4471' },
      { path: 'shop.env', to: [{ name: 'PGPASSWORD', value: 'hunter2-pg' }] },
    ],
  });
  await w.addEvent({
    time: new Date(t + 6000).toISOString(),
    object: { kind: 'Pod', name: 'shop-0' },
    reason: 'Failed',
    message: 'pull with key AKIAZXCVBNMASDFGHJKL failed; Cookie: session=sess-77aa',
    type: 'Warning',
    count: 1,
  });
  manifest = await w.finish();
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function allText(root: string): Promise<string> {
  let out = '';
  for (const e of await readdir(root, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out += await readFile(path.join(e.parentPath, e.name), 'utf8');
  return out;
}

describe('a bundle written through BundleWriter', () => {
  it('holds no planted secret in any file: logs, series labels, changes, events', async () => {
    const text = await allText(dir);
    for (const s of SECRETS) expect(text, s).not.toContain(s);
    expect(text).toContain('[REDACTED]');
  });

  it('counts its redactions per kind in a manifest that still validates', async () => {
    // Each value once: the JWT of the log line and of the change's message.
    expect(manifest.redactions).toMatchObject({ jwt: 2, 'aws-access-key': 1, cookie: 1, custom: 1 });
    expect(manifest.redactions?.['secret-key']).toBeGreaterThanOrEqual(4);
    const b = await openBundle(dir);
    try {
      expect(b.manifest.redactions).toEqual(manifest.redactions);
      expect(b.warnings).toEqual([]);
    } finally {
      await b.close();
    }
  });

  it('quotes no secret in the problems a damaged record raises, read or validated', async () => {
    // Written past the writer, as a hand-made bundle is: a log line without a timestamp, whose
    // token a 60-character excerpt would cut in two, and a change that is not JSON.
    await appendFile(path.join(dir, 'logs/shop/shop-0/shop.log'), `no time here, Bearer token ${JWT}\n`);
    await appendFile(path.join(dir, 'changes.jsonl'), `{"password": "hunter2-pg", oops\n`);
    const problems = JSON.stringify(await validateBundle(dir));
    const b = await openBundle(dir);
    try {
      for (const ref of await b.logs()) for await (const _ of b.readLog(ref));
      await b.changes();
      const warnings = JSON.stringify(b.warnings);
      expect(warnings).toMatch(/RFC 3339/);
      for (const text of [problems, warnings]) {
        for (const part of [JWT.slice(0, 20), JWT.slice(-12), 'hunter2-pg']) expect(text).not.toContain(part);
      }
    } finally {
      await b.close();
    }
  });
});
