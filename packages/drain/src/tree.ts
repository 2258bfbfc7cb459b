import type { Cluster } from './cluster.js';
import { WILDCARD } from './mask.js';
import { scoreLeaf, type Best } from './similarity.js';

interface Node {
  children: Map<string, Node>;
  clusters: Cluster[];
}

const newNode = (): Node => ({ children: new Map(), clusters: [] });

/** The tree key of a leading token: as in Drain, a token holding a digit or a variable shares the `<*>` branch. */
function keyOf(token: string): string {
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c >= 48 && c <= 57) return WILDCARD;
  }
  return token.includes(WILDCARD) ? WILDCARD : token;
}

/**
 * Drain's fixed-depth prefix tree: token count, then the first `depth - 2` tokens, then a leaf of
 * clusters. A node with `maxChildren` children sends new tokens to its `<*>` branch.
 */
export class PrefixTree {
  private readonly root = new Map<number, Node>();
  private readonly prefixDepth: number;
  private readonly best: Best = { cluster: undefined, sim: -1, params: -1 };

  constructor(
    depth: number,
    private readonly maxChildren: number,
  ) {
    this.prefixDepth = Math.max(0, depth - 2);
  }

  /** The most similar cluster among the leaves the line's prefix leads to (exact branch first, then `<*>`), if it scores at least `similarity`. */
  search(tokens: string[], similarity: number): Cluster | undefined {
    const first = this.root.get(tokens.length);
    if (first === undefined) return undefined;
    const best = this.best;
    best.cluster = undefined;
    best.sim = -1;
    best.params = -1;
    this.walk(first, tokens, 0, Math.min(this.prefixDepth, tokens.length));
    const found = best.cluster;
    best.cluster = undefined;
    return found !== undefined && best.sim >= similarity ? found : undefined;
  }

  private walk(node: Node, tokens: string[], d: number, depth: number): void {
    if (d === depth) {
      scoreLeaf(node.clusters, tokens, this.best);
      return;
    }
    const key = keyOf(tokens[d] as string);
    const exact = node.children.get(key);
    if (exact !== undefined) this.walk(exact, tokens, d + 1, depth);
    if (key !== WILDCARD) {
      const wild = node.children.get(WILDCARD);
      if (wild !== undefined) this.walk(wild, tokens, d + 1, depth);
    }
  }

  /** The leaf a new cluster with these tokens belongs to, made along the way when missing. */
  leafFor(tokens: string[]): Cluster[] {
    let node = this.root.get(tokens.length);
    if (node === undefined) {
      node = newNode();
      this.root.set(tokens.length, node);
    }
    const depth = Math.min(this.prefixDepth, tokens.length);
    for (let d = 0; d < depth; d++) {
      let key = keyOf(tokens[d] as string);
      if (!node.children.has(key) && key !== WILDCARD && node.children.size >= this.maxChildren - 1) {
        key = WILDCARD;
      }
      let child: Node | undefined = node.children.get(key);
      if (child === undefined) {
        child = newNode();
        node.children.set(key, child);
      }
      node = child;
    }
    return node.clusters;
  }
}
