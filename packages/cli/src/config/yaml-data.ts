import { isAlias, isMap, isPair, isScalar, isSeq, type Node } from 'yaml';
import { keyText, type YamlIndex } from './yaml-index.js';

/**
 * Converts an indexed document (free of index problems) to plain data, as `doc.toJS()` would:
 * scalars to their values, maps to objects, sequences to arrays, an alias to the very value of
 * its anchor (shared, not copied). Ours because the library resolves each alias by scanning every
 * earlier node, quadratic in a file of many anchors; here each is one lookup in the index.
 */
export function toPlainData(root: Node | null, index: YamlIndex): unknown {
  const converted = new Map<Node, unknown>();
  // Post-order without recursion: a node's value is built once its children's are.
  const stack: { node: unknown; exit: boolean }[] = [{ node: root, exit: false }];
  const plainValue = (node: unknown): unknown => {
    if (isAlias(node)) {
      const target = index.target(node);
      return target === undefined ? null : plainValue(target);
    }
    if (isScalar(node)) return node.value;
    return node === null || node === undefined ? null : converted.get(node as Node);
  };
  while (stack.length > 0) {
    const { node, exit } = stack.pop() as { node: unknown; exit: boolean };
    if (isSeq(node)) {
      if (exit) converted.set(node, node.items.map(plainValue));
      else {
        stack.push({ node, exit: true });
        for (let i = node.items.length - 1; i >= 0; i--) stack.push({ node: node.items[i], exit: false });
      }
    } else if (isMap(node)) {
      if (exit) {
        const object: Record<string, unknown> = {};
        for (const pair of node.items) {
          if (!isPair(pair)) continue;
          // defineProperty: a key named __proto__ is data, never the object's prototype.
          Object.defineProperty(object, keyText(pair.key) ?? '', {
            value: plainValue(pair.value),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        converted.set(node, object);
      } else {
        stack.push({ node, exit: true });
        for (let i = node.items.length - 1; i >= 0; i--)
          stack.push({ node: node.items[i]?.value, exit: false });
      }
    }
  }
  return plainValue(root);
}
