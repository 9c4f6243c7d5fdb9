import { formatPath, type PathSegment } from './problems.js';
import { didYouMean } from './suggest.js';

/** A schema problem before it is given a file position. */
export interface SchemaIssue {
  path: PathSegment[];
  /**
   * `value`: the value at `path` is wrong; `key`: the key ending `path` should not be there;
   * `missing`: the mapping at `path` lacks a key (the mapping itself is fine).
   */
  kind: 'value' | 'key' | 'missing';
  message: string;
}

/** Options for `validateAgainstSchema`. */
export interface ValidateOptions {
  /** True for paths whose string may be read as the integer or boolean a key wants (interpolated values). */
  coercible?: (path: string) => boolean;
}

type Schema = Record<string, unknown>;

// Keywords this interpreter understands; anything else in the schema is a programming error.
const KNOWN = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'patternProperties',
  'const',
  'anyOf',
  'items',
  'minimum',
  'maximum',
  'minItems',
  'pattern',
  'description',
  'errorMessage',
  'patternErrorMessage',
  'title',
]);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function typeOf(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value === 'object' ? 'object' : typeof value;
}

const NOUN: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  null: 'nothing',
};

/** How the offending value is named in "got ...". */
function got(value: unknown): string {
  if (value === null || value === undefined) return 'the value is empty';
  return typeof value === 'boolean' ? `got ${value}` : `got ${NOUN[typeOf(value)]}`;
}

function describe(schema: Schema): string {
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Schema[]).map(describe).join(' or ');
  return NOUN[String(schema.type)] ?? 'a value';
}

/** Whether a value has the JSON type a schema asks for (ignoring everything else). */
function typeFits(schema: Schema, value: unknown): boolean {
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Schema[]).some((s) => typeFits(s, value));
  const actual = typeOf(value);
  return (
    schema.type === undefined || schema.type === actual || (schema.type === 'number' && actual === 'integer')
  );
}

/**
 * Checks data against the (TypeBox-built) JSON Schema of tunnels.yaml and reports every problem in
 * words a user understands: `unknown key "hots" (did you mean "hosts"?)`, `expected a duration like 15s`.
 * It interprets only the keywords that schema uses. Returns the data with coercions applied.
 */
export function validateAgainstSchema(
  schema: object,
  data: unknown,
  options: ValidateOptions = {},
): { value: unknown; issues: SchemaIssue[] } {
  const coercible = options.coercible ?? (() => false);

  const check = (
    s: Schema,
    value: unknown,
    path: PathSegment[],
  ): { value: unknown; issues: SchemaIssue[] } => {
    for (const key of Object.keys(s))
      if (!KNOWN.has(key)) throw new Error(`validator: unsupported keyword ${key}`);
    const fail = (message: string) => ({ value, issues: [{ path, kind: 'value' as const, message }] });
    const custom = (s.errorMessage as string | undefined) ?? undefined;
    if (Array.isArray(s.anyOf)) return checkAnyOf(s, s.anyOf as Schema[], value, path);

    if (typeof value === 'string' && coercible(formatPath(path))) {
      if ((s.type === 'integer' || s.type === 'number') && /^\d+$/.test(value)) value = Number(value);
      else if (s.type === 'boolean' && /^(true|false)$/.test(value)) value = value === 'true';
    }
    if (!typeFits(s, value)) {
      return fail(custom ?? `expected ${describe(s)}, ${got(value)}`);
    }
    if ('const' in s && value !== s.const) return fail(custom ?? `expected ${describe(s)}`);
    if (typeof value === 'number') {
      if (
        (typeof s.minimum === 'number' && value < s.minimum) ||
        (typeof s.maximum === 'number' && value > s.maximum)
      )
        return fail(custom ?? `expected a number from ${s.minimum} to ${s.maximum}`);
    }
    if (
      typeof value === 'string' &&
      typeof s.pattern === 'string' &&
      !new RegExp(s.pattern, 'u').test(value)
    ) {
      return fail((s.patternErrorMessage as string | undefined) ?? custom ?? `does not match ${s.pattern}`);
    }
    if (Array.isArray(value)) {
      if (typeof s.minItems === 'number' && value.length < s.minItems)
        return fail(custom ?? 'the list is empty');
      const items = value.map((item, i) => check(s.items as Schema, item, [...path, i]));
      return { value: items.map((r) => r.value), issues: items.flatMap((r) => r.issues) };
    }
    if (isRecord(value)) return checkObject(s, value, path);
    return { value, issues: [] };
  };

  const checkObject = (s: Schema, value: Record<string, unknown>, path: PathSegment[]) => {
    const properties = (s.properties ?? {}) as Record<string, Schema>;
    const patterns = Object.entries((s.patternProperties ?? {}) as Record<string, Schema>);
    const issues: SchemaIssue[] = [];
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // Own properties only: a key named __proto__ or constructor is not in the schema.
      const schemaFor =
        (Object.hasOwn(properties, key) ? properties[key] : undefined) ??
        patterns.find(([p]) => new RegExp(p, 'u').test(key))?.[1];
      const extra = s.additionalProperties;
      if (schemaFor === undefined && (extra === false || extra === undefined)) {
        const message =
          patterns.length > 0
            ? `invalid name "${key}": use lowercase letters, digits and -`
            : `unknown key "${key}"${didYouMean(key, Object.keys(properties)) || ` (expected ${Object.keys(properties).join(', ')})`}`;
        issues.push({ path: [...path, key], kind: 'key', message });
        continue;
      }
      const result = check(schemaFor ?? (extra as Schema), item, [...path, key]);
      // defineProperty: a key named __proto__ is data here, never the object's prototype.
      Object.defineProperty(out, key, {
        value: result.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      // A loop: spreading 100 000 issues as arguments overflows the stack.
      for (const issue of result.issues) issues.push(issue);
    }
    for (const key of (s.required ?? []) as string[]) {
      if (!(key in value)) issues.push({ path, kind: 'missing', message: `missing required key "${key}"` });
    }
    return { value: out, issues };
  };

  const checkAnyOf = (s: Schema, branches: Schema[], value: unknown, path: PathSegment[]) => {
    const results = branches.map((b) => check(b, value, path));
    const passed = results.find((r) => r.issues.length === 0);
    if (passed) return passed;
    const custom = s.errorMessage as string | undefined;
    const candidates = results.filter((_, i) => typeFits(branches[i] as Schema, value));
    if (candidates.length === 0) {
      const got = value === null || value === undefined ? 'the value is empty' : `got ${NOUN[typeOf(value)]}`;
      return {
        value,
        issues: [{ path, kind: 'value' as const, message: custom ?? `expected ${describe(s)}, ${got}` }],
      };
    }
    const discriminated = discriminate(branches, value, path);
    if (typeof discriminated === 'object') return discriminated;
    const pick =
      typeof discriminated === 'number'
        ? (results[discriminated] as { value: unknown; issues: SchemaIssue[] })
        : candidates.reduce((a, b) => (b.issues.length < a.issues.length ? b : a));
    // A union's own message explains a failure of the value as a whole better than one branch's does.
    const issues = pick.issues.map((issue) =>
      custom !== undefined && issue.path.length === path.length && issue.kind !== 'key'
        ? { ...issue, message: custom }
        : issue,
    );
    return { value, issues: dedupe(issues) };
  };

  return check(schema as Schema, data, []);
}

/**
 * For unions of objects told apart by a constant property (`type: tcp | websocket`), returns the
 * matching branch index, or an issue when the property is missing or has no matching branch.
 */
function discriminate(
  branches: Schema[],
  value: unknown,
  path: PathSegment[],
): number | { value: unknown; issues: SchemaIssue[] } | undefined {
  if (!isRecord(value) || !branches.every((b) => b.type === 'object')) return undefined;
  const first = (branches[0]?.properties ?? {}) as Record<string, Schema>;
  const key = Object.keys(first).find((k) =>
    branches.every((b) => 'const' in (((b.properties ?? {}) as Record<string, Schema>)[k] ?? {})),
  );
  if (key === undefined) return undefined;
  const constants = branches.map((b) => ((b.properties as Record<string, Schema>)[key] as Schema).const);
  const index = constants.indexOf(value[key]);
  if (index >= 0) return index;
  const choices = constants.map(String).join(' or ');
  const issue: SchemaIssue =
    key in value
      ? { path: [...path, key], kind: 'value', message: `expected ${choices}` }
      : { path, kind: 'missing', message: `missing required key "${key}" (${choices})` };
  return { value, issues: [issue] };
}

function dedupe(issues: SchemaIssue[]): SchemaIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const id = `${formatPath(i.path)}\0${i.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
