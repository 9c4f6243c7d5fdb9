import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import SSHConfig, { type Directive, type Line, LineType, type Section } from 'ssh-config';

/** OpenSSH's limit on nested Include. */
const MAX_DEPTH = 16;
const MARKER = 'FwdActiveMarker';

/** Where Include looks and how deep it may go. */
export interface IncludeContext {
  /** Relative Include paths are resolved here (~/.ssh for the user's file, /etc/ssh for the system one). */
  baseDir: string;
  homeDir: string;
  /** Read a file; undefined when it does not exist. */
  read(path: string): string | undefined;
}

/** Reads a file, or undefined when it does not exist (a missing config is an empty one). */
export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Expands a leading `~/`. */
export function expandTilde(path: string, homeDir: string): string {
  return path === '~' ? homeDir : path.startsWith('~/') ? join(homeDir, path.slice(2)) : path;
}

function globToRegExp(glob: string): RegExp {
  let out = '';
  for (const ch of glob) {
    if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else out += ch.replace(/[.+^${}()|\\[\]]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** Expands `*` and `?` in any path component, sorted like glob(3); hidden files need a leading `.`. */
export function expandGlob(pattern: string): string[] {
  let paths = [pattern.startsWith('/') ? '/' : '.'];
  for (const part of pattern.split('/').filter((p) => p !== '')) {
    const next: string[] = [];
    for (const dir of paths) {
      if (!/[*?]/.test(part)) {
        next.push(join(dir, part));
        continue;
      }
      const re = globToRegExp(part);
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names.sort()) {
        if (re.test(name) && (part.startsWith('.') || !name.startsWith('.'))) next.push(join(dir, name));
      }
    }
    paths = next;
  }
  return paths.filter((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

const directive = (line: Line): line is Directive => line.type === LineType.DIRECTIVE;
const isSection = (line: Line): line is Section =>
  directive(line) && /^(host|match)$/i.test(line.param) && 'config' in line;
const isInclude = (line: Line): boolean => directive(line) && /^include$/i.test(line.param);
const valuesOf = (line: Directive): string[] =>
  typeof line.value === 'string'
    ? line.value.split(/\s+/).filter((v) => v !== '')
    : line.value.map((v) => v.val);

function hostStar(config: Line[]): Section {
  const section = {
    type: LineType.DIRECTIVE,
    param: 'Host',
    separator: ' ',
    value: '*',
    before: '',
    after: '\n',
  };
  return Object.assign(section, { config: Object.assign(new SSHConfig(), config) }) as Section;
}

/** Whether a Host/Match section applies to `host`, given everything before it (Match host sees HostName). */
function sectionActive(before: SSHConfig, section: Section, host: string): boolean {
  const marker: Directive = {
    type: LineType.DIRECTIVE,
    param: MARKER,
    separator: ' ',
    value: 'yes',
    before: '',
    after: '',
  };
  const probe = Object.assign(new SSHConfig(), before, [
    { ...section, config: Object.assign(new SSHConfig(), [marker]) },
  ]);
  return probe.compute(host, { ignoreCase: true, matchExec: false })[MARKER.toLowerCase()] !== undefined;
}

function includedFiles(line: Directive, ctx: IncludeContext): string[] {
  return valuesOf(line).flatMap((raw) => {
    const expanded = expandTilde(raw, ctx.homeDir);
    return expandGlob(isAbsolute(expanded) ? expanded : join(ctx.baseDir, expanded));
  });
}

function includeInto(
  out: SSHConfig,
  line: Directive,
  host: string,
  ctx: IncludeContext,
  depth: number,
): void {
  if (depth >= MAX_DEPTH) throw new Error(`ssh config: Include nested deeper than ${MAX_DEPTH} (a loop?)`);
  for (const file of includedFiles(line, ctx)) {
    const text = ctx.read(file);
    if (text !== undefined) flattenInto(out, SSHConfig.parse(text), host, ctx, depth + 1);
  }
}

/**
 * Appends `lines` to `out` with every Include replaced by the files it names, as OpenSSH reads
 * them for `host`: an Include inside a Host/Match block counts only when that block applies.
 */
function flattenInto(
  out: SSHConfig,
  lines: readonly Line[],
  host: string,
  ctx: IncludeContext,
  depth: number,
): void {
  for (const line of lines) {
    if (isInclude(line)) {
      includeInto(out, line as Directive, host, ctx, depth);
    } else if (isSection(line) && line.config.some(isInclude)) {
      const first = line.config.findIndex(isInclude);
      const active = sectionActive(out, line, host);
      out.push({ ...line, config: Object.assign(new SSHConfig(), line.config.slice(0, first)) } as Section);
      if (!active) continue;
      let rest: Line[] = [];
      for (const inner of line.config.slice(first)) {
        if (!isInclude(inner)) {
          rest.push(inner);
          continue;
        }
        if (rest.length > 0) out.push(hostStar(rest));
        rest = [];
        includeInto(out, inner as Directive, host, ctx, depth);
      }
      // The block goes on after the included file; it is known to apply, hence `Host *`.
      if (rest.length > 0) out.push(hostStar(rest));
    } else {
      out.push(line);
    }
  }
}

/** Parses config text and inlines its Includes for one host. */
export function flattenSshConfig(text: string, host: string, ctx: IncludeContext): SSHConfig {
  const out = new SSHConfig();
  flattenInto(out, SSHConfig.parse(text), host, ctx, 0);
  return out;
}

/** Every literal name of a `Host` line (no wildcards, no negation), following all Includes. */
export function literalHostNames(text: string, ctx: IncludeContext, depth = 0): Set<string> {
  const names = new Set<string>();
  const visit = (lines: readonly Line[], level: number): void => {
    for (const line of lines) {
      if (isInclude(line) && level < MAX_DEPTH) {
        for (const file of includedFiles(line as Directive, ctx)) {
          const text = ctx.read(file);
          if (text !== undefined) visit(SSHConfig.parse(text), level + 1);
        }
      } else if (isSection(line)) {
        if (/^host$/i.test(line.param))
          for (const name of valuesOf(line)) if (!/[*?!]/.test(name)) names.add(name);
        visit(line.config, level);
      }
    }
  };
  visit(SSHConfig.parse(text), depth);
  return names;
}
