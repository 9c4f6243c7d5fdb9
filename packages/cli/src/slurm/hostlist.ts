/**
 * Slurm hostlist expressions, as squeue and scontrol print node lists: `node[1-3,7]`,
 * `gpu-a[01-02],cpu-b5`, `rack[1-2]-n[01-02]`. Ranges keep the zero padding of their first bound.
 */

/** Thrown for text that is not a hostlist (unbalanced brackets, a range like `[a-3]`). */
export class HostlistError extends Error {
  override readonly name = 'HostlistError';
}

/**
 * Every host name of `hostlist`, in the order written (duplicates kept, as Slurm does).
 *
 * @example expandHostlist('gpu-a[01-02],cpu-b5') // ['gpu-a01', 'gpu-a02', 'cpu-b5']
 */
export function expandHostlist(hostlist: string): string[] {
  return [...hostsOf(hostlist)];
}

/** The first host of `hostlist` without expanding the rest (a job's batch host); undefined when empty. */
export function firstHost(hostlist: string): string | undefined {
  for (const host of hostsOf(hostlist)) return host;
  return undefined;
}

/** Host names one by one: a 10 000-node range costs nothing until it is read. */
export function* hostsOf(hostlist: string): Generator<string> {
  for (const item of splitTopLevel(hostlist.trim(), hostlist)) {
    yield* expandItem(parseItem(item, hostlist));
  }
}

/** An item such as `rack[1-2]-n[01-02]`: literal text and bracketed alternatives, in order. */
type Segment = string | readonly Range[];

interface Range {
  readonly from: number;
  readonly to: number;
  readonly width: number;
}

/** Splits on commas outside brackets: `a[1,3],b` → `a[1,3]`, `b`. */
function splitTopLevel(text: string, whole: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '[') depth++;
    else if (ch === ']') depth--;
    if (depth < 0 || depth > 1) throw new HostlistError(`unbalanced brackets in hostlist "${whole}"`);
    if (ch === ',' && depth === 0) {
      items.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw new HostlistError(`unbalanced brackets in hostlist "${whole}"`);
  items.push(text.slice(start));
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

function parseItem(item: string, whole: string): Segment[] {
  const segments: Segment[] = [];
  let rest = item;
  while (rest !== '') {
    const open = rest.indexOf('[');
    if (open === -1) {
      segments.push(rest);
      break;
    }
    const close = rest.indexOf(']', open);
    if (open > 0) segments.push(rest.slice(0, open));
    segments.push(parseRanges(rest.slice(open + 1, close), whole));
    rest = rest.slice(close + 1);
  }
  return segments;
}

function parseRanges(inside: string, whole: string): Range[] {
  return inside.split(',').map((part) => {
    const match = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!match?.[1]) throw new HostlistError(`bad range "${part}" in hostlist "${whole}"`);
    const low = match[1];
    const from = Number(low);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (to < from) throw new HostlistError(`descending range "${part}" in hostlist "${whole}"`);
    return { from, to, width: low.length };
  });
}

/** The cartesian product of the segments, leftmost varying slowest (Slurm's order). */
function* expandItem(segments: readonly Segment[], prefix = ''): Generator<string> {
  const [head, ...tail] = segments;
  if (head === undefined) {
    yield prefix;
    return;
  }
  if (typeof head === 'string') {
    yield* expandItem(tail, prefix + head);
    return;
  }
  for (const range of head) {
    for (let n = range.from; n <= range.to; n++) {
      yield* expandItem(tail, prefix + String(n).padStart(range.width, '0'));
    }
  }
}
