import { describe, expect, it } from 'vitest';
import { TemplateMiner, maskToken, mergeTokens, templateId, DEFAULT_OPTIONS } from './index.js';

describe('masks', () => {
  it.each([
    ['10.0.0.1', '<*>'],
    ['/10.10.34.11:45307', '<*>:<*>'],
    ['[fe80::1%eth0]:8080', '[<*>]:<*>'],
    ['b9000564-fe1a-409b-b8cc-1e88b294cd1d]', '<*>]'],
    ['12ms', '<*>'],
    ['1.5s', '<*>'],
    ['512MB', '<*>'],
    ['0x1f3a', '<*>'],
    ['2005-06-03-15.42.50.675872', '<*>'],
    ['/var/log/app.log', '<*>'],
    ['file=/etc/hosts,', 'file=<*>,'],
    ['https://example.com/a?b=1', '<*>'],
    ['ops@example.com', '<*>'],
    ['rhost=192.168.0.5', 'rhost=<*>'],
    ['blk_-6952295868487656571', '<*>'],
    ['obj=true', 'obj=<*>'],
    ['ssh2', 'ssh2'],
    ['jk2_init()', 'jk2_init()'],
    ['org.apache.hadoop.Foo', 'org.apache.hadoop.Foo'],
    ['HTTP/1.1', 'HTTP/<*>'],
    ['(/tmp/x1):', '(<*>):'],
    ['/var/log/a1.log:12', '<*>:<*>'],
    ['/a//b:9', '/a//b:<*>'],
    ['http://h/1', '<*>'],
    ['::1', '<*>'],
    ['x.b9000564-fe1a-409b-b8cc-1e88b294cd1d.7', 'x.<*>'],
    ['a*1.2', 'a*<*>'],
    ['v1.2-rc3', '<*>'],
    ['key=NULL', 'key=<*>'],
    ['Undefined', '<*>'],
    ['Jul', '<*>'],
    ['Sun', '<*>'],
    ['may', 'may'],
    ['at=Mon', 'at=<*>'],
    ['url=https://a.example.net:8443/v1/items/7?q=x', 'url=<*>'],
    ['(see http://h.example/a/b),', '(see <*>),'],
  ])('masks %s as %s', (token, masked) => {
    expect(maskToken(token)).toBe(masked);
  });

  it('keeps the constant prefix and suffix when two tokens differ', () => {
    expect(mergeTokens('user=alice', 'user=bob')).toBe('user=<*>');
    expect(mergeTokens('(alice)', '(bob)')).toBe('(<*>)');
    expect(mergeTokens('alice', 'bob')).toBe('<*>');
  });
});

describe('TemplateMiner', () => {
  it('groups lines that differ in their variables and generalises the template', () => {
    const m = new TemplateMiner();
    const a = m.add('Invalid user admin1 from 10.0.0.1 port 22');
    expect(a.change).toBe('created');
    const b = m.add('Invalid user webmaster from 10.0.0.2 port 2222');
    expect(b.change).toBe('updated');
    expect(b.id).toBe(a.id);
    expect(b.previousId).toBeUndefined();
    expect(b.template).toBe('Invalid user <*> from <*> port <*>');
    const c = m.add('Invalid user guest from 10.9.9.9 port 80');
    expect(c).toMatchObject({ id: b.id, change: 'none', count: 3 });
    expect(m.add('Connection closed by 10.0.0.1 [preauth]').id).not.toBe(b.id);
  });

  it('gives a cluster the same id in every run: a hash of the template it was created with', () => {
    const lines = [
      'Deleting block blk_1 file /a/b',
      'Deleting block blk_2 file /c/d',
      'PacketResponder 1 terminating',
    ];
    const run = () => {
      const m = new TemplateMiner();
      return lines.map((l) => m.add(l).id);
    };
    const ids = run();
    expect(ids[0]).toBe(templateId('Deleting block blk_1 file <*>'));
    expect(ids[1]).toBe(ids[0]);
    expect(run()).toEqual(ids);
    // Pinned so a change of hash function (and of every stored id) cannot pass unnoticed.
    expect(ids[1]).toBe('8b6bcc2a3968b917');
    expect(templateId('')).toBe('cbf29ce484222325');
  });

  it("keeps a cluster's id for life while its template generalises, time after time", () => {
    const m = new TemplateMiner();
    const first = m.add('session opened for alice on tty1 at home');
    const seen = new Set([first.id]);
    const templates = new Set([first.template]);
    for (const line of [
      'session opened for bob on tty1 at home',
      'session opened for bob on tty2 at home',
      'session opened for carol on tty3 at home',
      'session opened for dave on tty9 at home',
    ]) {
      const r = m.add(line);
      seen.add(r.id);
      templates.add(r.template);
    }
    expect(templates.size).toBeGreaterThan(2);
    expect([...seen]).toEqual([first.id]);
    expect(m.templates().map((t) => t.id)).toEqual([first.id]);
    expect(m.get(first.id)?.template).toBe('session opened for <*> on <*> at home');
  });

  it('keeps the ids of a saved state when it is loaded', () => {
    const m = new TemplateMiner();
    m.add('worker alpha started in 3ms');
    m.add('worker beta started in 5ms');
    m.add('cache warmed');
    const loaded = TemplateMiner.load(JSON.parse(JSON.stringify(m.save())));
    expect(loaded.ok && loaded.miner.templates().map((t) => [t.id, t.template])).toEqual(
      m.templates().map((t) => [t.id, t.template]),
    );
    expect(loaded.ok && loaded.miner.match('worker gamma started in 9ms')?.id).toBe(
      m.match('worker delta started in 1ms')?.id,
    );
  });

  it('counts lines per template per time bucket', () => {
    const m = new TemplateMiner({ bucketMs: 60_000 });
    const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
    m.add('GET /a 200 12ms', t0);
    m.add('GET /b 200 15ms', t0 + 30_000);
    m.add('GET /c 500 9ms', t0 + 61_000);
    const [t] = m.templates();
    expect(t?.template).toBe('GET <*> <*> <*>');
    expect(t?.buckets).toEqual([
      [t0, 2],
      [t0 + 60_000, 1],
    ]);
  });

  it('saves and loads its state, and goes on with the same templates and counts', () => {
    const m = new TemplateMiner();
    for (let i = 0; i < 5; i++) m.add(`worker ${i} started in ${i * 3}ms`, i * 1000);
    m.add('shutting down now');
    const state = JSON.parse(JSON.stringify(m.save())) as unknown;
    const loaded = TemplateMiner.load(state);
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    expect(loaded.miner.templates()).toEqual(m.templates());
    const r = loaded.miner.add('worker 9 started in 1ms');
    expect(r).toMatchObject({ template: 'worker <*> started in <*>', count: 6, change: 'none' });
    expect(loaded.miner.stats().lines).toBe(7);
  });

  it('returns an error value for a malformed state instead of throwing', () => {
    expect(TemplateMiner.load(null).ok).toBe(false);
    expect(TemplateMiner.load({ version: 1, clusters: [{ tokens: 'x' }] })).toMatchObject({ ok: false });
  });

  it('keeps at most maxTemplates templates, evicting the least recently seen', () => {
    const m = new TemplateMiner({ maxTemplates: 50 });
    const words = (i: number) =>
      `alpha${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}`;
    for (let i = 0; i < 500; i++) m.add(`${words(i)} ${words(i + 7)} ${words(i + 13)}`);
    const s = m.stats();
    expect(s.templates).toBeLessThanOrEqual(50);
    expect(s.evicted).toBeGreaterThan(0);
  });

  it('cuts a huge or binary line instead of failing', () => {
    const m = new TemplateMiner();
    const huge = Array.from({ length: 100_000 }, (_, i) => `w${i % 7}x`).join(' ');
    const r = m.add(huge);
    expect(r.template.split(' ').length).toBeLessThanOrEqual(DEFAULT_OPTIONS.maxTokens);
    const binary = String.fromCharCode(...Array.from({ length: 5000 }, (_, i) => i % 256));
    expect(() => m.add(binary)).not.toThrow();
    expect(m.stats().truncated).toBeGreaterThanOrEqual(1);
    expect(m.add('').template).toBe('');
  });

  it('applies extra masks given as regular expression sources, and keeps them in its state', () => {
    const m = new TemplateMiner({ extraMasks: ['^web-[a-z]+$'] });
    m.add('served by web-alpha');
    expect(m.add('served by web-beta')).toMatchObject({ template: 'served by <*>', count: 2 });
    const loaded = TemplateMiner.load(JSON.parse(JSON.stringify(m.save())));
    expect(loaded.ok && loaded.miner.match('served by web-gamma')?.template).toBe('served by <*>');
    expect(TemplateMiner.load({ ...m.save(), options: { extraMasks: ['('] } })).toMatchObject({ ok: false });
  });

  it('matches a line to a template token with inner constants only when they are there', () => {
    const m = new TemplateMiner();
    const a = m.add('r24=0x00 r25=0x01 state');
    expect(a.template).toBe('<*>=<*> <*>=<*> state');
    expect(m.add('r26=0x1f r27=0x2e state').id).toBe(a.id);
    expect(m.add('Machine Register: state').id).not.toBe(a.id);
  });

  it('gives a line seen before the template it has now, not the one it had then', () => {
    const m = new TemplateMiner({ maxTemplates: 2 });
    m.add('alpha one x y');
    expect(m.add('alpha one x y')).toMatchObject({ change: 'none', count: 2 });
    m.add('beta two p q');
    m.add('gamma three r s');
    expect(m.stats().evicted).toBe(1);
    expect(m.add('alpha one x y')).toMatchObject({ change: 'created', count: 1 });
  });

  it('gives a line with new values the template its shape has now', () => {
    const m = new TemplateMiner();
    for (let i = 0; i < 50; i++) m.add(`job ${i} ran on alpha`);
    expect(m.add('job 77 ran on beta')).toMatchObject({ template: 'job <*> ran on <*>', change: 'updated' });
    expect(m.add('job 123 ran on alpha')).toMatchObject({ template: 'job <*> ran on <*>', change: 'none' });
  });

  it('mines a line the same whatever whitespace separates its tokens', () => {
    const m = new TemplateMiner();
    for (let i = 0; i < 20; i++) m.add(`worker ${i} started on node-${i}`);
    const t = m.add('worker 20 started on node-20');
    expect(t.template).toBe('worker <*> started on <*>');
    for (const line of [
      'worker  21 started on node-21',
      ' worker 22 started on node-22 ',
      'worker\t23 started on\tnode-23',
    ]) {
      expect(m.add(line)).toMatchObject({ id: t.id, change: 'none' });
    }
  });

  it('matches without learning', () => {
    const m = new TemplateMiner();
    m.add('disk sda1 is 91% full');
    m.add('disk sdb2 is 95% full');
    expect(m.match('disk sdc3 is 99% full')?.template).toBe('disk <*> is <*>% full');
    expect(m.match('completely different words here')).toBeUndefined();
    expect(m.stats().lines).toBe(2);
  });

  it('groups lines that start with values by the words that follow them', () => {
    const m = new TemplateMiner();
    const a = m.add('2026-03-01 12:00:01 peer=10.0.0.1:80 connection reset by peer');
    const b = m.add('2026-03-01 12:00:02 peer=10.0.0.2:81 connection reset by peer');
    const c = m.add('2026-03-01 12:00:03 peer=10.0.0.3:82 disk quota exceeded on vol');
    expect(b.id).toBe(a.id);
    expect(c.id).not.toBe(a.id);
  });

  it('joins user names in a routing position into one template, but keeps a frequent constant word apart', () => {
    const m = new TemplateMiner();
    const names = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
    const ids = names.map((u) => m.add(`user ${u} logged in from 10.0.0.1 port 22`).id);
    expect(new Set(ids).size).toBe(1);
    expect(m.templates().map((t) => t.template)).toEqual(['user <*> logged in from <*> port <*>']);
    const password = Array.from({ length: 6 }, (_, i) =>
      m.add(`Failed password for user${i} from 10.0.0.${i} port 22`),
    );
    const none = m.add('Failed none for user9 from 10.0.0.9 port 22');
    expect(none.id).not.toBe(password[0]?.id);
  });

  it('gives one id and one template to lines whose variable spans a varying number of words', () => {
    const m = new TemplateMiner();
    const lines = [
      'job 1 failed reason: timeout end of report',
      'job 2 failed reason: killed end of report',
      'job 3 failed reason: disk full end of report',
      'job 4 failed reason: out of memory end of report',
      'job 5 failed reason: no space end of report',
      'job 6 failed reason: lost end of report',
      'job 7 failed reason: quota exceeded on volume end of report',
    ];
    const results = lines.map((l) => m.add(l));
    const last = results.at(-1);
    expect(m.templates().map((t) => t.template)).toEqual(['job <*> failed reason: <*> end of report']);
    expect(m.templates()[0]?.count).toBe(lines.length);
    expect(last?.template).toBe('job <*> failed reason: <*> end of report');
    // Every id handed out ends in the group's: directly, or by a merge announced with previousId.
    const into = new Map(results.filter((r) => r.previousId).map((r) => [r.previousId, r.id]));
    const final = results.map((r) => {
      let id = r.id;
      while (into.has(id)) id = into.get(id) as string;
      return id;
    });
    expect(new Set(final)).toEqual(new Set([last?.id]));
    const loaded = TemplateMiner.load(JSON.parse(JSON.stringify(m.save())));
    if (!loaded.ok) throw new Error(loaded.error);
    expect(loaded.miner.add('job 8 failed reason: gone end of report').id).toBe(last?.id);
    expect(loaded.miner.templates().map((t) => [t.template, t.count])).toEqual([
      ['job <*> failed reason: <*> end of report', lines.length + 1],
    ]);
  });

  it('gives one template to a run of free text seen once at each of three lengths', () => {
    const m = new TemplateMiner();
    const results = [
      'job 1 failed reason: timeout end of report',
      'job 2 failed reason: quota exceeded on volume end of report',
      'job 3 failed reason: disk is full end of report',
    ].map((l) => m.add(l));
    expect(m.templates().map((t) => [t.template, t.count])).toEqual([
      ['job <*> failed reason: <*> end of report', 3],
    ]);
    // The template that ended in the group is announced with the line that made the group.
    const into = new Map(results.filter((r) => r.previousId).map((r) => [r.previousId, r.id]));
    const final = results.map((r) => into.get(r.id) ?? r.id);
    expect(new Set(final)).toEqual(new Set([m.templates()[0]?.id]));
  });

  it('keeps apart two events that differ in a run of words, and a run that held its words for many lines', () => {
    const m = new TemplateMiner();
    m.add('Task succeeded with attempt 1');
    m.add('Task cleanup failed for attempt 2');
    expect(m.templates()).toHaveLength(2);
    const n = new TemplateMiner();
    for (let i = 0; i < 5; i++) n.add(`Received disconnect from 10.0.0.${i}: 11: Bye Bye [preauth]`);
    n.add('Received disconnect from 10.0.0.9: 11: Closed due to user request. [preauth]');
    n.add('Received disconnect from 10.0.0.8: 11: Normal Shutdown, Thank you for playing [preauth]');
    expect(n.templates()).toHaveLength(3);
  });
  it('gives one template to free text that ends the line, at whatever lengths it comes', () => {
    const m = new TemplateMiner();
    const results = [
      'job 1 stopped by the operator because disk full',
      'job 2 stopped by the operator because timeout',
      'job 3 stopped by the operator because quota exceeded on volume',
      'job 4 stopped by the operator because killed',
      'job 5 stopped by the operator because out of memory',
      'job 6 stopped by the operator because no space left',
      'job 7 stopped by the operator because lost',
    ].map((l) => m.add(l));
    expect(m.templates().map((t) => [t.template, t.count])).toEqual([
      ['job <*> stopped by the operator because <*>', 7],
    ]);
    const into = new Map(results.filter((r) => r.previousId).map((r) => [r.previousId, r.id]));
    const final = results.map((r) => {
      let id = r.id;
      while (into.has(id)) id = into.get(id) as string;
      return id;
    });
    expect(new Set(final)).toEqual(new Set([m.templates()[0]?.id]));
    // So is a trailing list of values, as Loghub's ground truth writes it (HDFS: `to delete <*>`).
    const n = new TemplateMiner();
    for (const l of [
      'ask 10.0.0.1 to delete 1',
      'ask 10.0.0.2 to delete 1 2',
      'ask 10.0.0.3 to delete 3 4 5',
    ])
      n.add(l);
    expect(n.templates().map((t) => [t.template, t.count])).toEqual([['ask <*> to delete <*>', 3]]);
  });

  it('gives one template to lines that differ only in a first word that takes three values or more', () => {
    const m = new TemplateMiner();
    const results = ['kalo', 'miren', 'tusa', 'vober', 'kalo', 'tusa'].map((w, i) =>
      m.add(`${w} opened session ${i} for user root`),
    );
    expect(m.templates().map((t) => [t.template, t.count])).toEqual([
      ['<*> opened session <*> for user root', 6],
    ]);
    const into = new Map(results.filter((r) => r.previousId).map((r) => [r.previousId, r.id]));
    const final = results.map((r) => into.get(r.id) ?? r.id);
    expect(new Set(final)).toEqual(new Set([m.templates()[0]?.id]));
    // Two first words alone are two events; so are settings whose tail holds few words.
    const n = new TemplateMiner();
    for (const w of ['Started', 'Stopped', 'Started']) n.add(`${w} the backup job for volume home`);
    expect(n.templates()).toHaveLength(2);
    const k = new TemplateMiner();
    const settings = [
      'tickTime',
      'maxSessionTimeout',
      'minSessionTimeout',
      'purgeInterval',
      'snapRetainCount',
    ];
    for (const w of settings) k.add(`${w} set to 2000`);
    expect(k.templates()).toHaveLength(5);
  });
  it('does not route lines by a key=value pair whose value is a word', () => {
    const m = new TemplateMiner();
    for (const v of ['fast', 'slow', 'fast', 'safe']) m.add(`mode=${v} job started on worker pool main`);
    expect(m.templates().map((t) => [t.template, t.count])).toEqual([
      ['mode=<*> job started on worker pool main', 4],
    ]);
  });
  it('gives one template to eight first words or more before a short rest, and announces every id that ends', () => {
    const m = new TemplateMiner();
    const words = ['kalo', 'miren', 'tusa', 'vober', 'dalpo', 'grifen', 'uxta', 'moni'];
    const results = [...words, ...words].map((w, i) => m.add(`${w} computed total=${i}`));
    expect(m.templates().map((t) => [t.template, t.count])).toEqual([['<*> computed total=<*>', 16]]);
    const into = new Map(results.filter((r) => r.previousId).map((r) => [r.previousId, r.id]));
    const final = results.map((r) => {
      let id = r.id;
      while (into.has(id)) id = into.get(id) as string;
      return id;
    });
    expect(new Set(final)).toEqual(new Set([m.templates()[0]?.id]));
  });
});
