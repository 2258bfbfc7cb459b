// A stress check for the miner on logs it has never seen, built from the dev eight without copying
// any other data: each ground-truth template of Loghub-2k is given, with a fixed seed, zero, one or
// two "traits" of the systems held out of the dev folder (longer bodies; dates and times inside the
// message; durations, sizes, paths, URLs, ip:port, UUIDs, hex, key=value numbers; host names
// without digits; a variable run of several words), inserted at the start, after the first token or
// at the end of the body. The trait, its format and its place are fixed per template; the values
// are drawn per line from a generator seeded by the line's number, so lines of one template differ
// only in their values, as in a real log. The ground truth gets `<*>` for each inserted value token
// (one `<*>` for a run of several words), and the inserted constant words as they are.
//
// Scored as bench/drain-accuracy.mjs scores (GA, PA, FGA, FTA of Loghub-2.0), with the defaults and
// with leave-one-system-out over the same grid. PA and FTA are given twice: as is, and with every
// token made only of `<*>` and punctuation read as `<*>` on both sides (the ground truth's convention
// for `02:40:20` is the miner's `<*>:<*>:<*>`, which this check does not judge).
//
// With --more, each template also gets, from a generator of its own (so the traits above stay as
// they were), one of seven more traits with a chance of 60%: free text at the end of the line, a
// first word without a digit that varies among a few values, a word glued to numbers (`name_2_0`,
// `v6.1.7601`, `(TID 1)`), a Windows path, values in braces and brackets, `key = value` with
// spaces, and negative numbers or numbers with units.
//
// Run: npx tsc -b packages/drain && node bench/drain-stress.mjs [--options '{"similarity":0.7}'] [--seed 18]
//      [--no-loso] [--show NAME] [--traits 0,3,5 (plant only these, for a breakdown)]
//      [--more [--more-traits 0,2]]
import { seededRandom } from '@hindsight/core';
import { loadDatasets, evaluate, scoreAll, printTable, leaveOneOut } from './drain-loghub.mjs';

const args = process.argv.slice(2);
const argOf = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const options = JSON.parse(argOf('--options') ?? '{}');
const seed = Number(argOf('--seed') ?? 18);

function hash(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// Pseudo-words made of syllables by a seeded generator: words of no real system.
const SYL = [
  'ka',
  'lo',
  'mi',
  'ren',
  'tu',
  'sa',
  'vo',
  'ber',
  'ni',
  'dal',
  'po',
  'gri',
  'fen',
  'ux',
  'ta',
  'mo',
];
const vocab = (() => {
  const r = seededRandom(seed * 7919);
  const out = new Set();
  while (out.size < 300) {
    let w = '';
    const k = 2 + Math.floor(r() * 2);
    for (let i = 0; i < k; i++) w += SYL[Math.floor(r() * SYL.length)];
    out.add(w);
  }
  return [...out];
})();
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n, w = 2) => String(n).padStart(w, '0');

/** Each trait: (r, variant) => [tokens of the line, tokens of the truth]; V marks a variable token. */
const V = '<*>';
const int = (r, n) => Math.floor(r() * n);
const word = (r) => vocab[int(r, vocab.length)];
const hex = (r, n) => Array.from({ length: n }, () => '0123456789abcdef'[int(r, 16)]).join('');
const hms = (r) => `${pad(int(r, 24))}:${pad(int(r, 60))}:${pad(int(r, 60))}`;
const TRAITS = [
  // ctime, as `date` writes it: a one-digit day is padded with a space.
  (r) => {
    const d = 1 + int(r, 31);
    const line = [
      'at',
      DAYS[int(r, 7)],
      MONTHS[int(r, 12)] + (d < 10 ? ' ' : ''),
      String(d),
      hms(r),
      String(1990 + int(r, 40)),
    ];
    return [line, ['at', V, V, V, V, V]];
  },
  (r) => [
    ['since', MONTHS[int(r, 12)], String(10 + int(r, 18)), hms(r)],
    ['since', V, V, V],
  ],
  (r, v) =>
    v === 0
      ? [
          [
            `${2000 + int(r, 30)}-${pad(1 + int(r, 12))}-${pad(1 + int(r, 28))}T${hms(r)}.${pad(int(r, 1000), 3)}Z`,
            'expires',
          ],
          [V, 'expires'],
        ]
      : [
          [
            'time',
            `${2000 + int(r, 30)}-${pad(1 + int(r, 12))}-${pad(1 + int(r, 28))}`,
            `${hms(r)},${pad(int(r, 1000), 3)}`,
          ],
          ['time', V, V],
        ],
  (r, v) =>
    [
      [
        ['took', String(int(r, 5000)), 'ms'],
        ['took', V, 'ms'],
      ],
      [
        ['in', `${int(r, 90)}.${int(r, 10)}s`],
        ['in', V],
      ],
      [
        ['elapsed', `${int(r, 3)}:${pad(int(r, 60))}:${pad(int(r, 60))}.${pad(int(r, 1000), 3)}`],
        ['elapsed', V],
      ],
    ][v % 3],
  (r, v) =>
    [
      [
        [`(${int(r, 1000)}.${pad(int(r, 100))}`, 'KB)'],
        [V, 'KB)'],
      ],
      [
        [String(int(r, 1e6)), 'bytes'],
        [V, 'bytes'],
      ],
      [[`size=${int(r, 1e5)}B`], ['size=' + V]],
    ][v % 3],
  (r) => {
    const depth = 1 + int(r, 4);
    let p = '';
    for (let i = 0; i < depth; i++) p += `/${word(r)}`;
    return [
      ['file', `${p}/${word(r)}-${int(r, 1000)}.log`],
      ['file', V],
    ];
  },
  (r) => [
    [
      `url=https://${word(r)}.example.net:${1000 + int(r, 9000)}/api/v1/${word(r)}/${int(r, 1e6)}?q=${word(r)}`,
    ],
    ['url=' + V],
  ],
  (r) => [
    ['peer', `${int(r, 256)}.${int(r, 256)}.${int(r, 256)}.${int(r, 256)}:${1 + int(r, 65535)}`],
    ['peer', V],
  ],
  (r) => [
    ['request', `${hex(r, 8)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 12)}`],
    ['request', V],
  ],
  (r) => [
    [`count=${int(r, 1000)}`, `retries=${int(r, 9)}`, `ratio=${int(r, 100)}.${int(r, 100)}`],
    ['count=' + V, 'retries=' + V, 'ratio=' + V],
  ],
  // A variable that spans one to four words: the truth writes one `<*>` for it.
  (r) => {
    const n = 1 + int(r, 4);
    return [
      ['reason:', ...Array.from({ length: n }, () => word(r)), 'end'],
      ['reason:', V, 'end'],
    ];
  },
  (r) => [
    ['host', `${word(r)}.${word(r)}.example.org`],
    ['host', V],
  ],
  (r, v) =>
    v % 2 === 0
      ? [
          ['addr', `0x${hex(r, 8)}`],
          ['addr', V],
        ]
      : [
          ['checksum', hex(r, 32)],
          ['checksum', V],
        ],
  (r) => [
    ['user', word(r)],
    ['user', V],
  ],
];

// More traits (`--more`), planted on top of the ones above with a generator of their own, so the
// figures without the flag stay as they were: what was left after the first passes on unseen
// systems. Each takes (r, variant, w): `w` is a constant word fixed per template.
const MORE = [
  // Free text at the end of the line: a group has no word after the run.
  (r) => {
    const n = 1 + int(r, 4);
    return [
      ['because', ...Array.from({ length: n }, () => word(r))],
      ['because', V],
    ];
  },
  // A name that varies as the line's first token, without a digit (a program or a component),
  // among a few values per template.
  (r, v, w) => [[vocab[(vocab.indexOf(w) + int(r, 4 + 4 * v)) % vocab.length]], [V]],
  // A word and a number glued: `name_2_0`, a version, `(TID 1)`.
  (r, v, w) =>
    [
      [[`${w}_${int(r, 50)}_${int(r, 8)}`], [`${w}_${V}_${V}`]],
      [
        ['version', `v${int(r, 10)}.${int(r, 10)}.${1000 + int(r, 9000)}`],
        ['version', V],
      ],
      [
        ['(TID', `${int(r, 100)})`],
        ['(TID', `${V})`],
      ],
    ][v % 3],
  // A Windows path.
  (r, v, w) => [[`C:\\${w}\\${word(r)}\\${word(r)}.dll`], [V]],
  // Values inside braces and brackets.
  (r, v) =>
    v % 2 === 0
      ? [
          [`{${hex(r, 7)}`, `token=${word(r)}}`],
          [`{${V}`, `token=${V}}`],
        ]
      : [[`[${hex(r, 6)}]`], [`[${V}]`]],
  // key = value, with spaces around `=`.
  (r, v, w) =>
    v % 2 === 0
      ? [
          [w, '=', String(int(r, 1000))],
          [w, '=', V],
        ]
      : [
          [w, '=', word(r)],
          [w, '=', V],
        ],
  // A negative number, a number with a unit as its own token, a number glued to its unit.
  (r, v) =>
    [
      [
        ['offset', `-${1 + int(r, 1000)}`],
        ['offset', V],
      ],
      [
        ['size', `${int(r, 100)}.${int(r, 10)}`, 'KB'],
        ['size', V, 'KB'],
      ],
      [
        ['after', `${int(r, 900)}ms`],
        ['after', V],
      ],
    ][v % 3],
];
// Where a trait of MORE goes: the end of the line for free text, the start for a first word.
const MORE_WHERE = [2, 0];
const more = args.includes('--more');

/** One dataset with traits planted: bodies as lines (format `<Content>`), the truth to match. */
function stress(d) {
  const plan = new Map();
  const lines = [];
  const truth = [];
  for (let i = 0; i < d.contents.length; i++) {
    const t = d.truth[i];
    if (!plan.has(t)) {
      const r = seededRandom(hash(`${seed}\n${t}`));
      const k = r() < 0.25 ? 0 : r() < 0.7 ? 1 : 2;
      const picks = [];
      for (let j = 0; j < k; j++)
        picks.push({ trait: int(r, TRAITS.length), variant: int(r, 3), where: int(r, 3) });
      if (more) {
        const r2 = seededRandom(hash(`${seed}\nmore\n${t}`));
        if (r2() < 0.6) {
          const trait = int(r2, MORE.length);
          picks.push({
            trait,
            more: true,
            variant: int(r2, 3),
            where: MORE_WHERE[trait] ?? int(r2, 3),
            w: word(r2),
          });
        }
      }
      plan.set(t, picks);
    }
    let body = d.contents[i].split(' ');
    let tpl = t.split(' ');
    const r = seededRandom(seed * 1_000_003 + i);
    for (const p of plan.get(t)) {
      const [ins, insT] = p.more ? MORE[p.trait](r, p.variant, p.w) : TRAITS[p.trait](r, p.variant);
      const insLine = ins.join(' ').split(' ');
      // After the first token only where body and truth align token by token.
      const where = p.where === 1 && body.length !== tpl.length ? 2 : p.where;
      if (where === 0) {
        body = [...insLine, ...body];
        tpl = [...insT, ...tpl];
      } else if (where === 1) {
        body = [body[0], ...insLine, ...body.slice(1)];
        tpl = [tpl[0], ...insT, ...tpl.slice(1)];
      } else {
        body = [...body, ...insLine];
        tpl = [...tpl, ...insT];
      }
    }
    lines.push(body.join(' '));
    truth.push(tpl.join(' '));
  }
  return { name: d.name, lines, truth, format: '<Content>' };
}

const norm = (t) =>
  t
    .split(' ')
    .map((x) => (x.includes(V) && /^(?:<\*>|[^A-Za-z0-9])+$/.test(x) ? V : x))
    .join(' ');
const only = argOf('--traits')?.split(',').map(Number);
if (only !== undefined)
  for (let k = 0; k < TRAITS.length; k++) if (!only.includes(k)) TRAITS[k] = () => [[], []];
// With --more, --more-traits 0,3 plants only those of MORE (numbered from 0).
const onlyMore = argOf('--more-traits')?.split(',').map(Number);
if (onlyMore !== undefined)
  for (let k = 0; k < MORE.length; k++) if (!onlyMore.includes(k)) MORE[k] = () => [[], []];
const datasets = loadDatasets().map(stress);
if (argOf('--show') !== undefined) {
  const d = datasets.find((x) => x.name === argOf('--show'));
  for (let i = 0; i < d.lines.length; i += 97) console.log(`${d.lines[i]}\n  ${d.truth[i]}`);
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const score = (d, m) => {
  const e = evaluate(d.truth, m.templates);
  const n = evaluate(d.truth.map(norm), m.templates.map(norm));
  return { ...e, PAn: n.PA, FTAn: n.FTA, GAid: evaluate(d.truth, m.ids).GA };
};
const rows = scoreAll(datasets, options, score);
console.log(
  `stress (seed ${seed}), options: ${JSON.stringify(options)}; mean body ${Math.round(mean(datasets.flatMap((d) => d.lines.map((l) => l.length))))} chars`,
);
printTable(rows);
console.log(
  `punctuation-normalised PA ${mean(rows.map((r) => r.PAn)).toFixed(3)}, FTA ${mean(rows.map((r) => r.FTAn)).toFixed(3)}; GA grouped by id as read ${mean(rows.map((r) => r.GAid)).toFixed(3)}`,
);
if (!args.includes('--no-loso')) {
  const { fitted, loso } = leaveOneOut(datasets, options, score);
  for (const [name, rs] of [
    ['fitted', fitted],
    ['leave-one-system-out', loso],
  ])
    console.log(
      `${name}: punctuation-normalised PA ${mean(rs.map((r) => r.PAn)).toFixed(3)}, FTA ${mean(rs.map((r) => r.FTAn)).toFixed(3)}`,
    );
}
