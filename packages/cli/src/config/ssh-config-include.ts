import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parseSshConfig, SshConfigError, type SshConfigLine } from './ssh-config-lexer.js';

/** Reads a file, or undefined when it does not exist (a missing config is an empty one). */
export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    // fopen() of a directory succeeds and getline() then ends at once: an empty file to OpenSSH.
    if (code === 'EISDIR') return '';
    throw error;
  }
}

/** Expands a leading `~` or `~/`. */
export function expandTilde(path: string, homeDir: string): string {
  return path === '~' ? homeDir : path.startsWith('~/') ? join(homeDir, path.slice(2)) : path;
}

/** One path component of a glob(3) pattern as a RegExp: `*`, `?`, `[...]`/`[!...]`. */
function componentRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] as string;
    const close = ch === '[' ? glob.indexOf(']', i + 2) : -1;
    if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else if (close > 0) {
      const body = glob.slice(i + 1, close).replace(/\\/g, '\\\\');
      out += body.startsWith('!') ? `[^${body.slice(1)}]` : `[${body}]`;
      i = close;
    } else out += ch.replace(/[.+^${}()|\\[\]]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** Expands a glob(3) pattern, sorted; `*` does not match a leading `.`; no match is an empty list. */
export function expandGlob(pattern: string): string[] {
  let paths = [pattern.startsWith('/') ? '/' : '.'];
  for (const part of pattern.split('/').filter((p) => p !== '')) {
    const next: string[] = [];
    for (const dir of paths) {
      if (!/[*?[]/.test(part)) {
        next.push(join(dir, part));
        continue;
      }
      const re = componentRegExp(part);
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
      statSync(p);
      return true;
    } catch {
      return false;
    }
  });
}

/** OpenSSH's READCONF_MAX_DEPTH: files nested deeper than this make ssh stop. */
export const MAX_INCLUDE_DEPTH = 16;

/** Reads config files for one resolution: each file parsed once, Include paths resolved like ssh. */
export class ConfigFiles {
  readonly #parsed = new Map<string, SshConfigLine[] | undefined>();
  readonly #homeDir: string;
  readonly #read: (path: string) => string | undefined;
  /** Files opened so far (a file included twice counts twice): what an Include loop would run up. */
  opened = 0;

  constructor(homeDir: string, read: (path: string) => string | undefined = readIfExists) {
    this.#homeDir = homeDir;
    this.#read = read;
  }

  /** The lines of a file, or undefined when it does not exist. `text` stands in for the file (tests, -F). */
  lines(path: string, text?: string): SshConfigLine[] | undefined {
    this.opened++;
    if (!this.#parsed.has(path)) {
      const source = text ?? this.#read(path);
      this.#parsed.set(path, source === undefined ? undefined : parseSshConfig(source, path));
    }
    return this.#parsed.get(path);
  }

  /**
   * The files one Include argument names, as readconf.c finds them: relative to ~/.ssh in the
   * user's config and /etc/ssh in the system one (where `~` is refused), then glob(3).
   */
  include(arg: string, userConf: boolean, at: SshConfigLine): string[] {
    if (arg.startsWith('~') && !userConf)
      throw new SshConfigError(at.file, at.line, `bad include path ${arg}`);
    const anchored =
      isAbsolute(arg) || arg.startsWith('~') ? arg : `${userConf ? '~/.ssh' : '/etc/ssh'}/${arg}`;
    return expandGlob(expandTilde(anchored, this.#homeDir));
  }
}
