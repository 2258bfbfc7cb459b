import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  analyzers,
  investigate,
  quietScenario,
  reporters,
  storyScenario,
  writeSyntheticBundle,
  type Analyzer,
  type Report,
  type SyntheticScenario,
} from './index.js';

let tmp: string;
let n = 0;
async function bundleOf(scenario: SyntheticScenario): Promise<string> {
  const dir = path.join(tmp, `b${n++}`);
  await writeSyntheticBundle(dir, scenario);
  return dir;
}
const fixed = new Date('2026-03-02T12:00:00Z');

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-investigate-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function topPaths(r: Report): string[] {
  const c = r.hypotheses[0]?.cause;
  return c?.type === 'change' ? c.paths : [];
}

describe('investigate', () => {
  let story: Report;
  let storyDir: string;
  beforeAll(async () => {
    storyDir = await bundleOf(storyScenario());
    story = await investigate(storyDir, { now: fixed });
  });

  it('ranks the replicaCount change first when sessions go missing, decoys below', () => {
    expect(story.verdict).toBe('change');
    expect(topPaths(story)).toEqual(['redis.replica.replicaCount']);
    const top = story.hypotheses[0];
    expect(top?.cause).toMatchObject({ type: 'change', release: 'shop', revision: 6, fromRevision: 5 });
    const others = story.hypotheses.slice(1).map((h) => h.score);
    for (const s of others) expect(s).toBeLessThan((top?.score ?? 0) / 2);
  });

  it('names the Redis and session signals that moved as the evidence', () => {
    const top = story.hypotheses[0];
    const explained = story.findings.filter((f) => top?.explains.includes(f.id));
    const titles = explained.map((f) => f.title).join('\n');
    expect(titles).toMatch(/connected replicas up 2 -> 6/);
    expect(titles).toMatch(/write commands up/);
    expect(titles).toMatch(/session missing/);
    const effect = top?.chain.find((s) => s.role === 'effect');
    expect(effect?.title).toMatch(/session missing/);
    expect(top?.nextStep).toMatch(/^roll shop back to revision 5 /);
    expect(top?.nextStep).toMatch(/redis\.replica\.replicaCount=2/);
  });

  it('reports no error lines and no anomaly before the first change', () => {
    const first = Date.parse('2026-03-02T09:10:00Z');
    const early = story.findings.filter(
      (f) => f.kind !== 'change' && f.time < first - 30_000 && f.strength >= 0.25,
    );
    expect(early.map((f) => f.title)).toEqual([]);
  });

  it('gives the same report twice (a total order)', async () => {
    const again = await investigate(storyDir, { now: fixed });
    const strip = (r: Report) => ({ ...r, stats: { ...r.stats, durationMs: 0 } });
    expect(JSON.stringify(strip(again))).toBe(JSON.stringify(strip(story)));
  });

  it('mines the same templates and ranks the same way on two threads as on one', async () => {
    const two = await investigate(storyDir, { now: fixed, workers: 2 });
    expect(two.stats.logLines).toBe(story.stats.logLines);
    expect(two.hypotheses.map((h) => [h.title, h.score])).toEqual(
      story.hypotheses.map((h) => [h.title, h.score]),
    );
    expect(two.findings.map((f) => f.id).sort()).toEqual(story.findings.map((f) => f.id).sort());
  });

  it('still finds the cause when the decoys move closer to it and traffic bursts', async () => {
    for (const [seed, before, after] of [
      [21, 14, 22],
      [22, 16.5, 19.5],
      [23, 5, 35],
    ] as const) {
      const sc = storyScenario({
        seed,
        rps: 3,
        bursts: [{ atMin: 24, minutes: 4, factor: 3 }],
        changes: [
          { atMin: before, revision: 5, diff: [{ path: 'shop.logLevel', from: 'info', to: 'debug' }] },
          { atMin: 18, revision: 6, diff: [{ path: 'redis.replica.replicaCount', from: 2, to: 6 }] },
          { atMin: after, revision: 7, diff: [{ path: 'shop.podLabels.team', from: 'a', to: 'b' }] },
        ],
      });
      const r = await investigate(await bundleOf(sc));
      expect(topPaths(r), `seed ${seed}`).toEqual(['redis.replica.replicaCount']);
    }
  });

  it('credits the change whose signals return when it is reverted, and ranks the revert below it', async () => {
    const r = await investigate(
      await bundleOf(
        storyScenario({
          seed: 41,
          rps: 3,
          changes: [
            { atMin: 10, revision: 5, diff: [{ path: 'shop.logLevel', from: 'info', to: 'debug' }] },
            { atMin: 18, revision: 6, diff: [{ path: 'redis.replica.replicaCount', from: 2, to: 6 }] },
            { atMin: 30, revision: 7, diff: [{ path: 'redis.replica.replicaCount', from: 6, to: 2 }] },
          ],
        }),
      ),
    );
    expect(r.hypotheses[0]?.cause).toMatchObject({ type: 'change', revision: 6 });
    expect(r.hypotheses[0]?.reasons.join(' ')).toMatch(/returned after it was reverted/);
    const revertRank = r.hypotheses.find((h) => h.cause.type === 'change' && h.cause.revision === 7)?.rank;
    expect(revertRank).toBeGreaterThan(1);
  });

  it('fits the analysis to the data when the window declared is much longer', async () => {
    const dir = await bundleOf(
      storyScenario({
        seed: 51,
        rps: 4,
        durationMin: 10,
        bursts: [],
        changes: [
          { atMin: 3, revision: 5, diff: [{ path: 'shop.logLevel', from: 'info', to: 'debug' }] },
          { atMin: 5, revision: 6, diff: [{ path: 'redis.replica.replicaCount', from: 2, to: 6 }] },
          { atMin: 8, revision: 7, diff: [{ path: 'shop.podLabels.team', from: 'a', to: 'b' }] },
        ],
      }),
    );
    // A ten-minute run collected with a three-hour window.
    const file = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(await readFile(file, 'utf8')) as { window: { from: string; to: string } };
    manifest.window.from = new Date(Date.parse(manifest.window.from) - 170 * 60_000).toISOString();
    await writeFile(file, JSON.stringify(manifest));
    const r = await investigate(dir);
    expect(topPaths(r)).toEqual(['redis.replica.replicaCount']);
    expect(r.window.from).toBe(manifest.window.from);
    // The charts and onsets keep the resolution of a ten-minute window (5 s), not of three hours (60 s).
    const replicas = r.findings.find((f) => /connected replicas/.test(f.title));
    const ev = replicas?.evidence.find((e) => e.type === 'series');
    const pts = ev?.type === 'series' ? ev.points : [];
    expect(pts.length).toBeGreaterThan(50);
    expect((pts[1]?.[0] ?? 0) - (pts[0]?.[0] ?? 0)).toBeLessThanOrEqual(10_000);
  });

  it('says plainly that nothing points to a cause on a quiet bundle', async () => {
    const r = await investigate(await bundleOf(quietScenario()));
    expect(r.verdict).toBe('none');
    expect(r.hypotheses).toEqual([]);
    expect(r.summary).toMatch(/no change was recorded and no signal moved/i);
    expect(r.findings.filter((f) => f.strength >= 0.25)).toEqual([]);
    expect(reporters.terminal.render(r)).toMatch(/nothing points to a cause/);
  });

  it('does not take a traffic burst alone for an anomaly', async () => {
    const r = await investigate(
      await bundleOf(quietScenario({ seed: 12, bursts: [{ atMin: 15, minutes: 8, factor: 3 }] })),
    );
    expect(r.findings.filter((f) => f.analyzer === 'log-patterns')).toEqual([]);
    expect(r.verdict).toBe('none');
  });

  it('ranks components when no change was recorded, and says so', async () => {
    // The story's failure with its change record removed: replicas added out of band.
    const dir = await bundleOf(
      storyScenario({
        seed: 31,
        rps: 3,
        changes: [{ atMin: 18, revision: 6, diff: [{ path: 'redis.replica.replicaCount', from: 2, to: 6 }] }],
      }),
    );
    await rm(path.join(dir, 'changes.jsonl'));
    const r = await investigate(dir);
    expect(r.verdict).toBe('component');
    expect(r.summary).toMatch(/no change was found/i);
    expect(r.hypotheses[0]?.cause).toMatchObject({ type: 'component', component: 'redis' });
  });

  it('investigates a bundle with corrupt parts and lists the warnings', async () => {
    const r = await investigate(await bundleOf(storyScenario({ seed: 7, corrupt: true })));
    expect(topPaths(r)).toEqual(['redis.replica.replicaCount']);
    const where = r.warnings.map((w) => w.where ?? w.name).join('\n');
    expect(where).toMatch(/changes\.jsonl:\d+/);
    expect(where).toMatch(/events\.jsonl:\d+/);
    expect(where).toMatch(/topology\.json/);
    expect(where).toMatch(/shop\.log:\d+/);
    expect(where).toMatch(/series\/redis\.jsonl:\d+/);
  });

  it('turns a failing analyzer into a warning and runs the rest', async () => {
    const broken: Analyzer = {
      name: 'broken',
      needs: [],
      analyze: () => Promise.reject(new Error('boom')),
    };
    const r = await investigate(storyDir, { analyzers: [broken, ...analyzers] });
    expect(r.warnings).toContainEqual(
      expect.objectContaining({ stage: 'analyze', name: 'broken', code: 'HINDSIGHT_ANALYZER_FAILED' }),
    );
    expect(topPaths(r)).toEqual(['redis.replica.replicaCount']);
  });

  it('renders every reporter; the HTML is one offline file with charts and the change marked', () => {
    for (const [name, reporter] of Object.entries(reporters)) {
      expect(reporter.render(story).length, name).toBeGreaterThan(100);
    }
    const html = reporters.html.render(story);
    expect(html).toMatch(/<svg/);
    expect(html).toMatch(/class="mark"/);
    expect(html).toMatch(/prefers-color-scheme:dark/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(JSON.parse(reporters.json.render(story))).toMatchObject({
      schema: 'hindsight-report',
      version: 1,
    });
    expect(reporters.markdown.render(story)).toMatch(/`redis\.replica\.replicaCount`/);
  });
});
