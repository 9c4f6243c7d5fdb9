import { crossCheck } from './cross-checks.js';
import { type Env, interpolateSource } from './interpolate.js';
import { normalizeFile, type TunnelsConfig } from './normalize.js';
import { type ConfigProblem, type PathSegment, sortProblems } from './problems.js';
import { type TunnelsFile, tunnelsFileSchema } from './schema.js';
import { validateAgainstSchema } from './validate.js';
import { parseYamlSource, problemAt, problemAtKey } from './yaml-source.js';

/** Options for `loadConfig`. */
export interface LoadOptions {
  /**
   * Whether ~/.ssh/config applies to this name through a Host pattern other than `*` (`cluster`,
   * `node*`) or a Match host, so that `host:` and `jump:` may name it without a `hosts:` entry,
   * as `ssh` connects to it. Without it, only names under `hosts:` are defined.
   */
  knownSshHosts?: (name: string) => boolean;
}

/** The outcome of loading: a config only when there are no problems at all. */
export interface LoadResult {
  config?: TunnelsConfig;
  problems: ConfigProblem[];
}

/** Keys of `path` and of each of its prefixes, shortest first (`[]` included). */
function prefixKeys(path: readonly PathSegment[]): string[] {
  const keys = [''];
  let key = '';
  for (const segment of path) {
    // Typed, so that `local[1]` and a key named "1" stay apart, as === keeps them apart.
    key += `\0${typeof segment === 'number' ? 'n' : 's'}${segment}`;
    keys.push(key);
  }
  return keys;
}

/**
 * Whether a path is trustworthy: nothing at or under it is wrong, and no enclosing value has the
 * wrong type. Two sets, so that each question costs the path's length, not the number of problems
 * (a file of 20 000 wrong keys asked it 20 000 times).
 */
function cleanPaths(wrong: PathSegment[][], wrongValues: PathSegment[][]): (path: PathSegment[]) => boolean {
  const wrongAtOrBelow = new Set(wrong.flatMap(prefixKeys));
  const wrongValueAt = new Set(wrongValues.map((p) => prefixKeys(p).at(-1) as string));
  return (path) => {
    const keys = prefixKeys(path);
    return !wrongAtOrBelow.has(keys.at(-1) as string) && !keys.some((k) => wrongValueAt.has(k));
  };
}

/**
 * Loads tunnels.yaml text: YAML syntax, `${ENV}` interpolation, schema, forward specs, durations,
 * host references, jump cycles, colliding binds. Every problem is collected (sorted by position)
 * rather than stopping at the first, so one `fwd check` shows them all. Pure: no file or network
 * access.
 *
 * @example
 * const { config, problems } = loadConfig(text, 'tunnels.yaml', process.env, { knownSshHosts });
 * for (const p of problems) console.error(formatProblem(p));
 */
export function loadConfig(text: string, fileName: string, env: Env, options: LoadOptions = {}): LoadResult {
  const source = parseYamlSource(text, fileName);
  // After a syntax error the document's shape is a guess; other messages would mislead.
  if (source.syntaxProblems.length > 0) return { problems: sortProblems(source.syntaxProblems) };

  const { problems: envProblems, interpolated } = interpolateSource(source, env);
  const problems: ConfigProblem[] = [...envProblems];
  const data = source.toData();
  if (data === null || data === undefined) {
    return {
      problems: [
        { file: fileName, line: 1, col: 1, path: '', message: 'the file is empty; start with "version: 1"' },
      ],
    };
  }

  const { value, issues } = validateAgainstSchema(tunnelsFileSchema, data, {
    coercible: (path) => interpolated.has(path),
  });
  for (const issue of issues) {
    // A missing key is best shown at the key of the mapping that lacks it.
    const locate = issue.kind === 'value' ? problemAt : problemAtKey;
    problems.push(locate(source, issue.path, issue.message));
  }
  const wrong = [
    ...issues.filter((i) => i.kind !== 'missing').map((i) => i.path),
    ...envProblemPaths(envProblems),
  ];
  const wrongValues = [
    ...issues.filter((i) => i.kind === 'value').map((i) => i.path),
    ...envProblemPaths(envProblems),
  ];
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { problems: sortProblems(problems) };

  const file = value as TunnelsFile;
  const report = (path: PathSegment[], message: string, atKey = false) =>
    problems.push((atKey ? problemAtKey : problemAt)(source, path, message));
  const { config, forwardPaths, slurmDeclared } = normalizeFile(file, {
    file: fileName,
    clean: cleanPaths(wrong, wrongValues),
    keyPosition: (path) => source.keyAt(path),
    report,
  });
  const hostNames = new Set(
    typeof file.hosts === 'object' && file.hosts !== null ? Object.keys(file.hosts) : [],
  );
  crossCheck(config, {
    hostNames,
    ...(options.knownSshHosts ? { knownSshHosts: options.knownSshHosts } : {}),
    forwardPaths,
    slurmDeclared,
    report,
  });
  const sorted = sortProblems(problems);
  return sorted.length === 0 ? { config, problems: [] } : { problems: sorted };
}

/** Paths of values whose interpolation failed; they hold `${...}` text, not a real value. */
function envProblemPaths(problems: ConfigProblem[]): PathSegment[][] {
  return problems.map((p) =>
    p.path
      .split(/\.|(?=\[)/)
      .filter((s) => s !== '')
      .map((s) => (s.startsWith('[') ? Number(s.slice(1, -1)) : s)),
  );
}
