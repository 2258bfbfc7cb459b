import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { investigate, reporters, storyScenario, writeSyntheticBundle, type Report } from './index.js';

let tmp: string;
const fixed = new Date('2026-03-02T12:00:00Z');

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-next-step-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function reportOf(
  name: string,
  overrides: Parameters<typeof storyScenario>[0],
  noChanges = false,
): Promise<Report> {
  const dir = path.join(tmp, name);
  await writeSyntheticBundle(dir, storyScenario(overrides));
  if (noChanges) await writeFile(path.join(dir, 'changes.jsonl'), '');
  return investigate(dir, { now: fixed });
}

describe('the next step as commands', () => {
  let story: Report;
  beforeAll(async () => {
    story = await reportOf('story', {});
  });

  it('gives a helm rollback with the namespace, and the values of the revision before for the targeted fix', () => {
    expect(story.hypotheses[0]?.nextCommands).toEqual([
      'helm rollback shop 5 -n shop',
      'helm get values shop --revision 5 -n shop -o yaml > values-rev5.yaml',
    ]);
  });

  it('shell-quotes a release and a namespace a shell would split', async () => {
    const r = await reportOf('quoted', { release: 'on call', namespace: "team a's" });
    expect(r.hypotheses[0]?.nextCommands?.[0]).toBe(`helm rollback 'on call' 5 -n 'team a'\\''s'`);
  });

  it('gives a component verdict the commands that show its pod, in its namespace', async () => {
    const r = await reportOf('component', {}, true);
    expect(r.verdict).toBe('component');
    const top = r.hypotheses[0];
    const cmds = top?.nextCommands ?? [];
    expect(cmds[0]).toMatch(/^kubectl describe pod \S+ -n shop$/);
    expect(cmds[1]).toMatch(
      /^kubectl logs \S+ -n shop --all-containers --timestamps --since-time=2026-03-02T\S+Z$/,
    );
  });

  it('prints each command alone on its line in the terminal, Markdown and HTML reports', () => {
    const cmds = story.hypotheses[0]?.nextCommands ?? [];
    const term = reporters.terminal
      .render(story)
      .split('\n')
      .map((l) => l.trim());
    const md = reporters.markdown.render(story).split('\n');
    const html = reporters.html.render(story);
    for (const c of cmds) {
      expect(term).toContain(c);
      expect(md).toContain(c);
    }
    expect(md[md.indexOf(cmds[0] as string) - 1]).toBe('```sh');
    const escaped = cmds.map((c) => c.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
    expect(html).toContain(`<pre class="commands"><code>${escaped.join('\n')}</code></pre>`);
  });

  it('keeps the next step in words, with no command inside the sentence', () => {
    const json = JSON.parse(reporters.json.render(story)) as Report;
    const step = json.hypotheses[0]?.nextStep ?? '';
    expect(step).toMatch(/^roll shop back to revision 5 \(restore redis\.replica\.replicaCount=2/);
    expect(step).not.toMatch(/helm rollback|--set/);
    expect(json.hypotheses[0]?.nextCommands).toHaveLength(2);
  });

  it('adds the context the bundle was collected with, and names the chart the release record names', async () => {
    const dir = path.join(tmp, 'context');
    await writeSyntheticBundle(dir, storyScenario({}));
    const manifestFile = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, unknown>;
    await writeFile(manifestFile, JSON.stringify({ ...manifest, context: 'prod eu' }));
    const file = path.join(dir, 'changes.jsonl');
    const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l.trim() !== '');
    const withChart = lines.map((l) => {
      const c = JSON.parse(l) as Record<string, unknown>;
      return JSON.stringify(c['kind'] === 'helm' ? { ...c, chart: { name: 'shop', version: '0.1.0' } } : c);
    });
    await writeFile(file, `${withChart.join('\n')}\n`);
    const r = await investigate(dir, { now: fixed });
    expect(r.hypotheses[0]?.nextCommands?.[0]).toBe(`helm rollback shop 5 -n shop --kube-context 'prod eu'`);
    // helm keeps the chart's name and version, never where it is deployed from: said, not printed.
    expect(r.hypotheses[0]?.nextStep).toMatch(/chart shop 0\.1\.0 from where you deploy it/);
    expect(story.hypotheses[0]?.nextStep).toMatch(/the bundle does not name it/);
    await writeFile(file, '');
    const c = await investigate(dir, { now: fixed });
    expect(c.hypotheses[0]?.nextCommands).toEqual([
      expect.stringMatching(/^kubectl describe pod \S+ -n shop --context 'prod eu'$/),
      expect.stringMatching(
        /^kubectl logs \S+ -n shop --all-containers --timestamps \S+ --context 'prod eu'$/,
      ),
    ]);
  });
});
