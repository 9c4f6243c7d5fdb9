import { type ConfigProblem, formatPath, type ParseResult } from './problems.js';
import { problemAt, visitValueScalars, type YamlSource } from './yaml-source.js';

/** Environment variables as `process.env` has them. */
export type Env = Record<string, string | undefined>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Expands `${VAR}`, `${VAR:-default}` (unset or empty), `${VAR-default}` (unset only) and `$$`
 * (a literal `$`), as docker compose does. The error names the variable, never a value, so a
 * secret cannot leak through it.
 *
 * @example interpolate('wss://${RELAY:-relay.example.edu}/ssh', {}) // { ok: true, value: 'wss://relay.example.edu/ssh' }
 */
export function interpolate(text: string, env: Env): ParseResult<string> {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) break;
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
      continue;
    }
    if (next !== '{') {
      out += '$';
      i = dollar + 1;
      continue;
    }
    const close = text.indexOf('}', dollar + 2);
    if (close < 0) return { ok: false, error: 'unterminated "${" (write "$$" for a literal "$")' };
    const expression = text.slice(dollar + 2, close);
    const expanded = expand(expression, env);
    if (!expanded.ok) return expanded;
    out += expanded.value;
    i = close + 1;
  }
  return { ok: true, value: out + text.slice(i) };
}

function expand(expression: string, env: Env): ParseResult<string> {
  const operator = /:-|-/.exec(expression);
  const name = operator ? expression.slice(0, operator.index) : expression;
  if (!NAME.test(name))
    return { ok: false, error: `"\${${expression}}" is not a variable reference like \${NAME}` };
  const value = env[name];
  if (operator) {
    const fallback = expression.slice(operator.index + operator[0].length);
    const useFallback = operator[0] === ':-' ? value === undefined || value === '' : value === undefined;
    return { ok: true, value: useFallback ? fallback : (value as string) };
  }
  if (value === undefined) {
    return { ok: false, error: `environment variable ${name} is not set (or write \${${name}:-default})` };
  }
  return { ok: true, value };
}

/** What interpolating a whole file did. */
export interface InterpolationResult {
  problems: ConfigProblem[];
  /** Paths (as `formatPath` renders them) whose value came from interpolation. */
  interpolated: Set<string>;
}

/**
 * Interpolates every string value of a parsed file in place, so that positions stay those of the
 * original text. The validator may then read an interpolated `"2222"` as the integer a key wants
 * (`port: ${SSH_PORT}`), which is why the interpolated paths are returned.
 */
export function interpolateSource(source: YamlSource, env: Env): InterpolationResult {
  const problems: ConfigProblem[] = [];
  const interpolated = new Set<string>();
  visitValueScalars(source.root, ({ node, path }) => {
    if (typeof node.value !== 'string' || !node.value.includes('$')) return;
    const result = interpolate(node.value, env);
    if (!result.ok) {
      problems.push(problemAt(source, path, result.error));
      return;
    }
    node.value = result.value;
    interpolated.add(formatPath(path));
  });
  return { problems, interpolated };
}
