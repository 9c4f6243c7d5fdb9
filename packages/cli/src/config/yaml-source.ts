import { isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type Scalar } from 'yaml';
import { type ConfigProblem, formatPath, type PathSegment, type SourcePosition } from './problems.js';
import { toPlainData } from './yaml-data.js';
import { indexDocument } from './yaml-index.js';

/** A parsed YAML file that can say where any key path is, for precise error positions. */
export interface YamlSource {
  file: string;
  /** The parsed document; its scalars may be rewritten in place (interpolation). */
  root: Node | null;
  /** YAML syntax problems, already located. */
  syntaxProblems: ConfigProblem[];
  /** Position of the value at `path`, or of the nearest enclosing key that exists. */
  valueAt(path: readonly PathSegment[]): SourcePosition;
  /** Position of the key that ends `path` (for "unknown key"), falling back like `valueAt`. */
  keyAt(path: readonly PathSegment[]): SourcePosition;
  /** Converts the (possibly rewritten) document to plain data. */
  toData(): unknown;
}

/** A string scalar found while walking the document. */
export interface ScalarVisit {
  node: Scalar;
  path: PathSegment[];
}

/**
 * Parses YAML text keeping positions. Syntax errors are reported by position only: the yaml
 * library's pretty errors quote source lines, which could contain a secret.
 */
export function parseYamlSource(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  // Duplicate keys are found by indexDocument: the library's own check is quadratic.
  const doc = parseDocument(shieldBraces(text), { lineCounter, prettyErrors: false, uniqueKeys: false });
  const root = doc.contents as Node | null;
  restoreBraces(root);
  const index = indexDocument(root);
  const at = (offset: number): SourcePosition => lineCounter.linePos(offset);
  const syntaxProblems: ConfigProblem[] = [];
  const problemLines = new Set<number>();
  const found = [
    ...[...doc.errors, ...doc.warnings].map((e) => ({
      offset: e.pos[0],
      message: yamlMessage(e.code, e.message),
    })),
    ...index.problems,
  ];
  for (const { offset, message } of found) {
    const position = at(offset);
    // One error tends to cascade along its line; the first says what is wrong.
    if (problemLines.has(position.line)) continue;
    problemLines.add(position.line);
    syntaxProblems.push({ file, ...position, path: '', message });
  }

  /** Walks `path`, returning the last pair key and value reached. */
  const walk = (
    path: readonly PathSegment[],
  ): { key?: Node; value: Node | null | undefined; complete: boolean } => {
    let value: Node | null | undefined = root;
    let key: Node | undefined;
    for (const segment of path) {
      if (isAlias(value)) value = index.target(value);
      if (typeof segment === 'number' && isSeq(value)) {
        const item: unknown = value.items[segment];
        if (item === undefined) return { ...(key ? { key } : {}), value, complete: false };
        value = item as Node;
        continue;
      }
      if (!isMap(value)) return { ...(key ? { key } : {}), value, complete: false };
      const pair = index.pair(value, String(segment));
      if (pair === undefined) return { ...(key ? { key } : {}), value, complete: false };
      key = pair.key as Node;
      value = pair.value as Node | null;
    }
    return { ...(key ? { key } : {}), value, complete: true };
  };
  const positionOf = (node: Node | null | undefined): SourcePosition | undefined => {
    const range = node?.range;
    return range ? at(range[0]) : undefined;
  };
  const start = { line: 1, col: 1 };

  return {
    file,
    root,
    syntaxProblems,
    valueAt(path) {
      const { key, value, complete } = walk(path);
      // An empty value (`host:`) has a zero-width range after the colon; its key is more useful.
      const emptyValue = isScalar(value) && value.value === null && value.source === '';
      if (complete && value && !emptyValue) return positionOf(value) ?? start;
      return positionOf(key) ?? positionOf(value) ?? start;
    },
    keyAt(path) {
      const { key, value } = walk(path);
      return positionOf(key) ?? positionOf(value) ?? start;
    },
    toData() {
      return toPlainData(root, index);
    },
  };
}

// Stand-ins of equal length for the braces of `{node}` and `${VAR}`, so positions stay exact.
const OPEN = '\uE000';
const CLOSE = '\uE001';

/**
 * Lets `[8888:{node}:8888]` and `[${PORT}:x:80]` be written unquoted, as the design shows: inside
 * `[ ]` YAML would read the braces as a mapping. Braces around a bare word are swapped for private
 * characters before parsing and restored in every scalar after it.
 */
function shieldBraces(text: string): string {
  return text.replace(/(\$?)\{([A-Za-z_][A-Za-z0-9_]*(?::?-[^{}\s,[\]]*)?)\}/g, `$1${OPEN}$2${CLOSE}`);
}

function restoreBraces(root: Node | null): void {
  // A loop, not recursion: this runs before nesting depth is checked.
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const node = pending.pop();
    if (isScalar(node) && typeof node.value === 'string' && node.value.includes(OPEN)) {
      node.value = node.value.replaceAll(OPEN, '{').replaceAll(CLOSE, '}');
    } else if (isSeq(node)) {
      for (const item of node.items) pending.push(item);
    } else if (isMap(node)) {
      for (const pair of node.items) pending.push(pair.key, pair.value);
    }
  }
}

/** Visits every scalar in value position (never keys), with its path. Aliases are skipped: their anchor is visited. */
export function visitValueScalars(root: Node | null, visit: (scalar: ScalarVisit) => void): void {
  const go = (node: unknown, path: PathSegment[]): void => {
    if (isScalar(node)) visit({ node, path });
    else if (isSeq(node)) {
      for (const [i, item] of node.items.entries()) go(item, [...path, i]);
    } else if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        go(pair.value, [...path, key]);
      }
    }
  };
  go(root, []);
}

/** A problem at the value of `path`. */
export function problemAt(source: YamlSource, path: readonly PathSegment[], message: string): ConfigProblem {
  return { file: source.file, ...source.valueAt(path), path: formatPath(path), message };
}

/** A problem at the key that ends `path` (e.g. an unknown key). */
export function problemAtKey(
  source: YamlSource,
  path: readonly PathSegment[],
  message: string,
): ConfigProblem {
  return { file: source.file, ...source.keyAt(path), path: formatPath(path), message };
}

/** Rewords the few yaml messages that users meet most often. */
function yamlMessage(code: string, message: string): string {
  if (code === 'DUPLICATE_KEY') return 'duplicate key (each key may appear once in a mapping)';
  if (code === 'TAB_AS_INDENT') return 'tabs are not allowed for indentation; use spaces';
  if (code === 'MISSING_CHAR' && message.includes('quote'))
    return 'YAML syntax: a quoted string is not closed';
  // Some yaml messages quote the offending source text, which might be a secret.
  const safe = message.replace(/:\s*".*$/s, '').replace(/\s+at node end$/, '');
  return `YAML syntax: ${safe.charAt(0).toLowerCase()}${safe.slice(1)}`;
}
