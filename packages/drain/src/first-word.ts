import type { Cluster } from './cluster.js';
import { WILDCARD } from './mask.js';

// Fewest first words that templates with one tail must hold to be one group with `<*>` there: two
// alone stay apart, as for free text (see the miner's pairByFreeText). Not fitted: on the dev
// eight, two lost FGA (0.929 -> 0.927), three and four gave the same figures.
const MIN_FIRST_WORDS = 3;
// Fewest words (tokens without a digit or a `<*>`) the tail must hold: a short tail (`set to <*>`)
// says too little. Chosen by leave-one-system-out on the dev eight (bench/RESULTS.md): 1 and 2 merge
// Zookeeper's settings (`tickTime set to <*>`, `maxSessionTimeout set to <*>`: FGA 0.843 -> 0.776),
// 3 and 4 give the same figures on every system (and on the stress check); the fold that holds
// Zookeeper out cannot tell them apart and takes the one that merges less, every other fold 3 or 4.
const MIN_TAIL_WORDS = 3;
// First words after which a shorter tail (one word or more) is enough: a position that has taken
// this many words is a variable whatever else the line holds, the tree's rule for its routing
// positions (VARIABLE_SIBLINGS in tree.ts, not fitted; Zookeeper's five settings stay apart).
const MANY_FIRST_WORDS = 8;

/** Whether a token is a word as the tree routes by it: no digit and no `<*>`. */
function isWord(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c >= 48 && c <= 57) return false;
  }
  return !t.includes(WILDCARD);
}

/** The words (tokens without a digit or a `<*>`) after a template's first token. */
function tailWords(tokens: readonly string[]): number {
  let words = 0;
  for (let i = 1; i < tokens.length; i++) if (isWord(tokens[i] as string)) words++;
  return words;
}

/** The text after a template's first token, when that token is a word or `<*>` and a word follows it. */
function tailOf(tokens: readonly string[]): string | undefined {
  const first = tokens[0] as string;
  if (tokens.length < 2 || (first !== WILDCARD && !isWord(first))) return undefined;
  const words = tailWords(tokens);
  if (words < 1) return undefined;
  return tokens.slice(1).join(' ');
}

/**
 * Templates by the text after their first token: where templates that differ only in their first
 * word find one another.
 */
export class Tails {
  private readonly byTail = new Map<string, Set<Cluster>>();
  private readonly keyOf = new Map<Cluster, string>();

  /** Files a cluster under its tail (again, after its template changed). */
  file(c: Cluster): void {
    const key = tailOf(c.tokens);
    const old = this.keyOf.get(c);
    if (old === key) return;
    if (old !== undefined) this.byTail.get(old)?.delete(c);
    if (key === undefined) {
      this.keyOf.delete(c);
      return;
    }
    this.keyOf.set(c, key);
    let set = this.byTail.get(key);
    if (set === undefined) this.byTail.set(key, (set = new Set()));
    set.add(c);
  }

  forget(c: Cluster): void {
    const old = this.keyOf.get(c);
    if (old === undefined) return;
    const set = this.byTail.get(old);
    set?.delete(c);
    if (set?.size === 0) this.byTail.delete(old);
    this.keyOf.delete(c);
  }

  /**
   * For a new template whose first token is a word: the leader of templates with the same tail
   * whose first token is `<*>` already, or the templates (oldest first) with the same tail and
   * other first words, when with it they hold at least MIN_FIRST_WORDS words there (or
   * MANY_FIRST_WORDS, when the tail holds fewer than MIN_TAIL_WORDS words).
   */
  partners(c: Cluster): { leader?: Cluster; others?: Cluster[] } | undefined {
    const key = this.keyOf.get(c);
    if (key === undefined || c.tokens[0] === WILDCARD) return undefined;
    const set = this.byTail.get(key);
    if (set === undefined) return undefined;
    const words = new Set<string>([c.tokens[0] as string]);
    const others: Cluster[] = [];
    for (const d of set) {
      if (d === c || !d.alive || d.leader !== undefined) continue;
      if (d.tokens[0] === WILDCARD) return { leader: d };
      if (d.members.length > 0 || words.has(d.tokens[0] as string)) continue;
      words.add(d.tokens[0] as string);
      others.push(d);
    }
    const enough = tailWords(c.tokens) >= MIN_TAIL_WORDS ? MIN_FIRST_WORDS : MANY_FIRST_WORDS;
    return words.size >= enough ? { others } : undefined;
  }
}
