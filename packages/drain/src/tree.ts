import type { Cluster, Stamp } from './cluster.js';
import { WILDCARD } from './mask.js';
import { scoreLeaf, type Best } from './similarity.js';

interface Node {
  children: Map<string, Node>;
  clusters: Cluster[];
}

// A routing position that has seen this many words is a variable whatever their frequencies (Brain:
// a column with many distinct values is a variable): its siblings are all looked at. Not fitted: on
// the dev eight, 4, 8 and 16 give the same figures with the defaults; at depth 5 and similarity 0.8,
// without it, OpenSSH's frequent user names kept apart gave FGA 0.465 (0.780 with it).
const VARIABLE_SIBLINGS = 8;

/**
 * Lines held by the clusters under a node whose template still holds the word `key` (counted up to
 * `cap`): the evidence that the word is a constant. A template that generalised it is evidence of
 * the opposite.
 */
function linesUnder(node: Node, key: string, cap: number): number {
  let n = 0;
  for (const c of node.clusters) if (c.tokens.includes(key)) n += c.count;
  for (const child of node.children.values()) {
    if (n >= cap) break;
    n += linesUnder(child, key, cap - n);
  }
  return n;
}

const newNode = (): Node => ({ children: new Map(), clusters: [] });

/** The stamp of a first routing word that has a branch, made when first asked for. */
function wordStamp(s: LengthStamps, word: string): Stamp {
  let w = s.byWord.get(word);
  if (w === undefined) {
    w = { v: 0 };
    s.byWord.set(word, w);
  }
  return w;
}

/** The stamps of one length: that of each first routing word, and that of everything else. */
interface LengthStamps {
  all: Stamp;
  byWord: Map<string, Stamp>;
  /** The stamps of first routing words without a branch, by a hash of the word (see stampOf). */
  unbranched: Stamp[];
}

// Stamps shared by the first routing words of one length that have no branch (a word hashed to one
// of them): bounded, however many such words a log holds.
const UNBRANCHED_STAMPS = 64;

/** The stamp a first routing word without a branch shares with the words of its hash. */
function unbranchedStamp(s: LengthStamps, word: string): Stamp {
  let h = 0x811c9dc5;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 0x01000193);
  return s.unbranched[(h >>> 0) % UNBRANCHED_STAMPS] as Stamp;
}

/**
 * The tree key of a leading token: as in Drain, a token holding a digit or a variable shares the
 * `<*>` branch, and so does a `key=value` pair.
 */
function keyOf(token: string): string {
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c >= 48 && c <= 57) return WILDCARD;
    // A `key=value` pair holds a value even when it is a word (`token=abc}`, `mode=fast`): routing
    // by it made a branch per value. (A `:` inside a token too was measured: no figure moved.)
    if (c === 61 && i > 0 && i < token.length - 1) return WILDCARD;
  }
  return token.includes(WILDCARD) ? WILDCARD : token;
}

/**
 * Drain's fixed-depth prefix tree: token count, then the first `depth - 2` tokens that are words
 * (values skipped), then a leaf of clusters. A node with `maxChildren` children sends new tokens to
 * its `<*>` branch.
 */
export class PrefixTree {
  private readonly root = new Map<number, Node>();
  private readonly prefixDepth: number;
  private readonly best: Best = { cluster: undefined, sim: -1, params: -1 };
  private readonly keys: string[] = [];
  private readonly stamps = new Map<number, LengthStamps>();
  /** The stamp of the cluster of the last {@link PrefixTree.leafFor}. */
  lastStamp: Stamp = { v: 0 };
  /**
   * The stamp to bump when the last {@link PrefixTree.leafFor} made a branch for a first word (the
   * searches of lines with that word, which saw only `<*>` before), else undefined.
   */
  lastBranched: Stamp | undefined;

  constructor(
    depth: number,
    private readonly maxChildren: number,
    private readonly constantAfter: number,
  ) {
    this.prefixDepth = Math.max(0, depth - 2);
  }

  /**
   * The most similar cluster among the leaves the line's words lead to (exact branch first, then
   * `<*>`), if it scores at least `similarity`; failing that, among the siblings of its last word.
   */
  search(tokens: string[], similarity: number): Cluster | undefined {
    const first = this.root.get(tokens.length);
    if (first === undefined) return undefined;
    const best = this.best;
    best.cluster = undefined;
    best.sim = -1;
    best.params = -1;
    const keys = this.keysOf(tokens);
    this.walk(first, tokens, keys, 0, keys.length);
    // Nothing similar enough: the last key may be a value that is a word (a user or host name),
    // which would otherwise start a branch per value. Look at its siblings too, but not at one that
    // routed `constantAfter` lines or more: a word that recurs there is a constant (Brain, Yu et al.
    // 2023: constants are the frequent values of a position), and a line with another word there is
    // another event (`Failed password ...` and `Failed none ...`).
    if (this.constantAfter > 0 && keys.length > 1 && (best.cluster === undefined || best.sim < similarity))
      this.walk(first, tokens, keys, 0, keys.length - 1);
    const found = best.cluster;
    best.cluster = undefined;
    return found !== undefined && best.sim >= similarity ? found : undefined;
  }

  /**
   * The keys a line is routed by: its first `depth - 2` tokens that are words, skipping values (a
   * token holding a digit or a `<*>`, and `key=value` pairs). Drain routes by the first tokens whatever they are, so a line
   * that starts with a date, an address or key=value pairs sent every template to one leaf.
   */
  private keysOf(tokens: string[]): string[] {
    const keys = this.keys;
    keys.length = 0;
    for (let i = 0; i < tokens.length && keys.length < this.prefixDepth; i++) {
      const k = keyOf(tokens[i] as string);
      if (k !== WILDCARD) keys.push(k);
    }
    return keys;
  }

  /** Scores the leaves the keys lead to; from level `any` on, every child is followed. */
  private walk(node: Node, tokens: string[], keys: string[], d: number, any: number): void {
    if (d === keys.length) {
      scoreLeaf(node.clusters, tokens, this.best);
      return;
    }
    if (d >= any) {
      const many = node.children.size >= VARIABLE_SIBLINGS;
      for (const [key, child] of node.children)
        if (many || linesUnder(child, key, this.constantAfter) < this.constantAfter)
          this.walk(child, tokens, keys, d + 1, any);
      return;
    }
    const key = keys[d] as string;
    const exact = node.children.get(key);
    if (exact !== undefined) this.walk(exact, tokens, keys, d + 1, any);
    const wild = node.children.get(WILDCARD);
    if (wild !== undefined) this.walk(wild, tokens, keys, d + 1, any);
  }

  private lengthStamps(n: number): LengthStamps {
    let s = this.stamps.get(n);
    if (s === undefined) {
      s = {
        all: { v: 0 },
        byWord: new Map(),
        unbranched: Array.from({ length: UNBRANCHED_STAMPS }, () => ({ v: 0 })),
      };
      this.stamps.set(n, s);
    }
    return s;
  }

  /**
   * What a search for these tokens depends on, besides {@link PrefixTree.allStampOf}: the clusters
   * under its first routing word. A search looks only at the templates of its length under that
   * word and under `<*>` (the walk across a word never crosses the first), so a change elsewhere
   * leaves a cached answer valid. On the long fresh corpus (bench/drain-long.mjs) one stamp per
   * length sent 17,800 of 200,000 lines back to the tree search; see the miner's caches.
   */
  stampOf(tokens: string[]): Stamp {
    const n = tokens.length;
    const s = this.lengthStamps(n);
    const keys = this.keysOf(tokens);
    if (keys.length === 0) return s.all;
    // A word with no branch yet: the search sees only `<*>`, and a branch made for the word later
    // bumps the stamp it shares with the words of its hash (see lastBranched). So only words with
    // a branch have a stamp of their own, and making one leaves the answers of other words valid
    // (bumping the length's stamp instead sent 12,500 more of the first 200,000 lines of the
    // repeated long corpus back to the search).
    const word = keys[0] as string;
    if (this.root.get(n)?.children.has(word) !== true) return unbranchedStamp(s, word);
    return wordStamp(s, word);
  }

  /** The stamp of the clusters of `n` tokens that every search of that length sees (under `<*>` or no word). */
  allStampOf(n: number): Stamp {
    return this.lengthStamps(n).all;
  }

  /**
   * The leaf a new cluster with these tokens belongs to, made along the way when missing; its
   * stamp is left in {@link PrefixTree.lastStamp}.
   */
  leafFor(tokens: string[]): Cluster[] {
    let node = this.root.get(tokens.length);
    if (node === undefined) {
      node = newNode();
      this.root.set(tokens.length, node);
    }
    const keys = this.keysOf(tokens);
    const stamps = this.lengthStamps(tokens.length);
    this.lastStamp = stamps.all;
    this.lastBranched = undefined;
    for (let d = 0; d < keys.length; d++) {
      let key = keys[d] as string;
      if (!node.children.has(key) && key !== WILDCARD && node.children.size >= this.maxChildren - 1) {
        key = WILDCARD;
      }
      let child: Node | undefined = node.children.get(key);
      if (child === undefined) {
        child = newNode();
        node.children.set(key, child);
        if (d === 0 && key !== WILDCARD) this.lastBranched = unbranchedStamp(stamps, key);
        else if (d === 0) this.lastBranched = stamps.all;
      }
      if (d === 0 && key !== WILDCARD) this.lastStamp = wordStamp(stamps, key);
      node = child;
    }
    return node.clusters;
  }
}
