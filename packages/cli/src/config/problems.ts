/** A 1-based position in a source file. Line 0 means "no position" (e.g. a command-line argument). */
export interface SourcePosition {
  line: number;
  col: number;
}

/** One thing wrong with a configuration, located precisely enough for an editor to jump to it. */
export interface ConfigProblem {
  /** File name as the user gave it (`tunnels.yaml`), or `command line` for one-off arguments. */
  file: string;
  line: number;
  col: number;
  /** Key path inside the file, e.g. `tunnels.notebook.local[1]`; empty for the document itself. */
  path: string;
  message: string;
}

/** The outcome of parsing one value: the value, or a human-readable reason it is wrong. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** A path segment: a map key or a sequence index. */
export type PathSegment = string | number;

/**
 * Renders a path the way users write it: `tunnels.notebook.local[1]`.
 *
 * @example formatPath(['tunnels', 'notebook', 'local', 1]) // 'tunnels.notebook.local[1]'
 */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}

/**
 * Formats a problem as one line, `file:line:col  path: message`, like compilers do so that terminals
 * and editors can link it.
 *
 * @example
 * formatProblem({ file: 'tunnels.yaml', line: 12, col: 5, path: 'tunnels.notebook.local[1]', message: 'bad forward "x"' })
 * // 'tunnels.yaml:12:5  tunnels.notebook.local[1]: bad forward "x"'
 */
export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line > 0 ? `${problem.file}:${problem.line}:${problem.col}` : problem.file;
  const path = clip(problem.path, MAX_PATH_CHARS);
  const message = clip(clipQuoted(problem.message), MAX_MESSAGE_CHARS);
  const what = path === '' ? message : `${path}: ${message}`;
  return `${where}  ${what}`;
}

/** Longest quoted value shown in a message: enough to recognize it, never a pasted megabyte. */
const MAX_QUOTED_CHARS = 80;
const MAX_PATH_CHARS = 200;
const MAX_MESSAGE_CHARS = 1000;

/** `text` cut to `max` characters, saying how long it was. */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max - 20)}… (${text.length} characters)`;
}

/**
 * Quoted values in a message (`unknown host "…"`) cut to {@link MAX_QUOTED_CHARS}: a value is
 * quoted to be recognized, and a 50 MB scalar was echoed whole.
 *
 * @example clipQuoted(`bad forward "${'x'.repeat(1000)}"`) // 'bad forward "xxx…x… (1000 characters)"'
 */
export function clipQuoted(message: string): string {
  return message.replace(/"([^"]*)"/g, (quoted, inner: string) =>
    inner.length <= MAX_QUOTED_CHARS ? quoted : `"${clip(inner, MAX_QUOTED_CHARS)}"`,
  );
}

/** Orders problems by position so that a listing reads top to bottom. */
export function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
}
