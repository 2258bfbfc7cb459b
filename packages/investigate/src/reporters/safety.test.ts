import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { investigate, reporters, storyScenario, writeSyntheticBundle, type Report } from '../index.js';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MX0.c2lnbmF0dXJlLXNlY3JldA';
const SECRETS = {
  pg: 'pg-Secret-0451',
  redis: 'redis-pass-7781',
  aws: 'AKIAQWERTYUIOPASDFGH',
  jwt: JWT,
  cookie: 'sess-cookie-9912',
};

let tmp: string;
let report: Report;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-report-safety-'));
  const dir = path.join(tmp, 'bundle');
  await writeSyntheticBundle(dir, storyScenario());
  // A change written by hand (or by an older hindsight), past the writer's redaction: values with
  // secrets, terminal escapes and markup, as a hostile or careless bundle holds them.
  const change = {
    id: 'shop-8',
    time: '2026-03-02T09:35:00Z',
    kind: 'helm',
    target: 'shop',
    release: 'shop',
    fromRevision: 7,
    toRevision: 8,
    message: `Authorization: Bearer ${JWT}`,
    diff: [
      {
        path: 'shop.env[0]',
        from: { name: 'PGPASSWORD', value: 'old' },
        to: { name: 'PGPASSWORD', value: SECRETS.pg },
      },
      { path: 'shop.extraArgs', from: 'none', to: `REDIS_PASSWORD=${SECRETS.redis} key=${SECRETS.aws}` },
      {
        path: 'shop.banner',
        from: 'plain',
        to: '\u001b]0;owned\u0007\u001b[2J<img src=x onerror=alert(1)>`x`',
      },
      { path: 'shop.extraHeaders', from: 'a', to: `Cookie: session=${SECRETS.cookie}` },
    ],
  };
  await appendFile(path.join(dir, 'changes.jsonl'), `${JSON.stringify(change)}\n`);
  report = await investigate(dir, { top: 10, now: new Date('2026-03-02T12:00:00Z') });
  // The planted change must be in the report for the assertions below to mean anything.
  expect(JSON.stringify(report.findings.map((f) => f.change?.id))).toContain('shop-8');
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('a report of a bundle written without redaction', () => {
  it('carries none of its secrets, in any reporter, and counts what it redacted', async () => {
    for (const [name, reporter] of Object.entries(reporters)) {
      const out = reporter.render(report);
      for (const [what, secret] of Object.entries(SECRETS))
        expect(out, `${name}: ${what}`).not.toContain(secret);
    }
    // Counted per value found in the report: a diff's value is quoted by its finding's title too.
    for (const kind of ['jwt', 'aws-access-key', 'cookie', 'secret-key'])
      expect(report.redactions?.report[kind], kind).toBeGreaterThanOrEqual(1);
    // The synthetic bundle's writer found nothing to redact: its manifest counts nothing.
    expect(report.redactions?.bundle).toEqual({});
    const raw = await readFile(path.join(tmp, 'bundle', 'changes.jsonl'), 'utf8');
    expect(raw).toContain(SECRETS.pg);
  });

  it("redacts a report built elsewhere too, with the user's patterns", () => {
    const forged: Report = { ...report, summary: `see ${SECRETS.aws} and case ACME-7731` };
    for (const reporter of Object.values(reporters)) {
      const out = reporter.render(forged, { redactPatterns: [/ACME-\d+/] });
      expect(out).not.toContain(SECRETS.aws);
      expect(out).not.toContain('ACME-7731');
    }
  });

  it('shows terminal escape sequences from the bundle as text, never sends them', () => {
    const out = reporters.terminal.render({ ...report, summary: 'moved\u001b[2J\u009b31m\u202e' });
    // eslint-disable-next-line no-control-regex
    expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(out).toContain('moved\\x1b[2J\\x9b31m\\u202e');
  });

  it('lets no raw HTML into the Markdown report, and no value out of its code span', () => {
    const h = report.hypotheses[0];
    if (!h) throw new Error('the story has hypotheses');
    const forged: Report = {
      ...report,
      summary: 'moved <script>alert(1)</script> & more',
      hypotheses: [{ ...h, nextStep: 'run `rm -rf /` <b>now</b>' }],
    };
    const md = reporters.markdown.render(forged);
    // Outside code spans (where Markdown shows text literally) no tag opens.
    expect(md.replace(/(`+)[^`][\s\S]*?\1/g, '')).not.toMatch(/<[a-z/!]/i);
    expect(md).toContain('moved &lt;script>alert(1)&lt;/script> &amp; more');
    expect(md).toContain('Next step: ``run `rm -rf /` <b>now</b>``');
  });
});
