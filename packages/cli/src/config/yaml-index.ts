import {
  type Alias,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Node,
  type Pair,
  type YAMLMap,
} from 'yaml';

/** Deeper than any tunnels.yaml needs (it uses 6 levels); deep enough to never be in the way. */
export const MAX_NESTING = 64;
/**
 * Values that aliases may add to the document. Sharing `defaults` across a few hundred tunnels
 * stays far below it; nine aliases of nine aliases of ... (an alias bomb) exceed it in a few lines.
 */
export const MAX_ALIAS_EXPANSION = 100_000;

/** A problem found while indexing, at a source offset. */
export interface IndexProblem {
  readonly offset: number;
  readonly message: string;
}

/** What one pass over a YAML document knows: map keys, alias targets, and what is wrong with them. */
export interface YamlIndex {
  /** The pair of `map` whose scalar key reads `key` (the first one, as duplicates are reported). */
  pair(map: YAMLMap, key: string): Pair | undefined;
  /** The node an alias stands for: the latest anchor of its name before it. */
  target(alias: Alias): Node | undefined;
  /** Duplicate keys, unknown or self-containing aliases, too deep nesting, an alias bomb. */
  readonly problems: readonly IndexProblem[];
}

/** The text of a key as tunnels.yaml means it (`1:` and `"1":` are the same key in JSON). */
export function keyText(key: unknown): string | undefined {
  if (!isScalar(key)) return undefined;
  return key.value === null ? '' : String(key.value);
}

type Entry = { node: unknown; depth: number; exit: boolean };

/**
 * Indexes a document in one iterative pass (no recursion: a hostile file cannot overflow the
 * stack) so that every later lookup is linear in the file: the yaml library's own duplicate-key
 * check and alias resolution scan all earlier keys and nodes each time, which took minutes on a
 * 1 MiB file. Alias expansion is counted as it would be materialized (post-order: an anchor's
 * size is known before any alias to it), and the alias that crosses the budget is named.
 */
export function indexDocument(root: Node | null): YamlIndex {
  const pairs = new WeakMap<YAMLMap, Map<string, Pair>>();
  const targets = new Map<Alias, Node | undefined>();
  const anchors = new Map<string, Node>();
  const open = new Set<Node>();
  const sizes = new Map<unknown, number>();
  const problems: IndexProblem[] = [];
  const offsetOf = (node: unknown): number => (node as Node | undefined)?.range?.[0] ?? 0;
  let expansion = 0;
  let tooDeep = false;

  const stack: Entry[] = [{ node: root, depth: 0, exit: false }];
  while (stack.length > 0) {
    const { node, depth, exit } = stack.pop() as Entry;
    if (exit) {
      const children = childrenOf(node);
      let size = 1;
      for (const child of children) size += sizes.get(child) ?? 0;
      sizes.set(node, Math.min(size, Number.MAX_SAFE_INTEGER));
      open.delete(node as Node);
      continue;
    }
    if (depth > MAX_NESTING) {
      if (!tooDeep)
        problems.push({ offset: offsetOf(node), message: `nested more than ${MAX_NESTING} levels deep` });
      tooDeep = true;
      continue;
    }
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      targets.set(node, target);
      if (target === undefined) {
        problems.push({
          offset: offsetOf(node),
          message: `alias *${node.source} has no anchor &${node.source} before it`,
        });
      } else if (open.has(target)) {
        problems.push({ offset: offsetOf(node), message: `alias *${node.source} is inside its own anchor` });
      } else {
        const size = sizes.get(target) ?? 0;
        sizes.set(node, size);
        expansion += size;
        if (expansion > MAX_ALIAS_EXPANSION && expansion - size <= MAX_ALIAS_EXPANSION) {
          problems.push({
            offset: offsetOf(node),
            message: `aliases expand to more than ${MAX_ALIAS_EXPANSION} values by here (an alias bomb?); write the values out`,
          });
        }
      }
      continue;
    }
    const anchor = (node as Node | null)?.anchor;
    if (anchor) {
      anchors.set(anchor, node as Node);
      open.add(node as Node);
    }
    if (isMap(node)) indexPairs(node, pairs, problems, offsetOf);
    stack.push({ node, depth, exit: true });
    const children = childrenOf(node);
    for (let i = children.length - 1; i >= 0; i--)
      stack.push({ node: children[i], depth: depth + 1, exit: false });
  }

  return {
    pair: (map, key) => pairs.get(map)?.get(key),
    target: (alias) => targets.get(alias),
    problems,
  };
}

/** A node's children in document order: a map's keys and values, a sequence's items. */
function childrenOf(node: unknown): unknown[] {
  if (isSeq(node)) return node.items;
  if (isMap(node)) return node.items.flatMap((p) => (isPair(p) ? [p.key, p.value] : []));
  return [];
}

function indexPairs(
  map: YAMLMap,
  pairs: WeakMap<YAMLMap, Map<string, Pair>>,
  problems: IndexProblem[],
  offsetOf: (node: unknown) => number,
): void {
  const byKey = new Map<string, Pair>();
  for (const pair of map.items) {
    const key = keyText(pair.key);
    if (key === undefined) {
      problems.push({
        offset: offsetOf(pair.key),
        message: 'a key must be a plain word, not a list, mapping or alias',
      });
      continue;
    }
    if (byKey.has(key)) {
      problems.push({
        offset: offsetOf(pair.key),
        message: 'duplicate key (each key may appear once in a mapping)',
      });
    } else {
      byKey.set(key, pair);
    }
  }
  pairs.set(map, byKey);
}
