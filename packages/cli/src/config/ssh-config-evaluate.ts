import { matchPatternList, percentExpand } from '@fwd/core';
import { type ConfigFiles, MAX_INCLUDE_DEPTH } from './ssh-config-include.js';
import { lookupKeyword } from './ssh-config-keywords.js';
import { SshConfigError, type SshConfigLine } from './ssh-config-lexer.js';
import { hostLine, type MatchSubject, matchLine } from './ssh-config-match.js';
import { applyValue, type Obtained, type SshConfigValues } from './ssh-config-values.js';

/** A config file to read, in order: the user's (~/.ssh/config or -F), then the system one. */
export interface ConfigSource {
  path: string;
  /** Stands in for the file's content (tests, an in-memory config). */
  text?: string;
  /** The user's file: Include may use `~` and is relative to ~/.ssh (else to /etc/ssh). */
  userConf: boolean;
}

/** A keyword that applied to the host but that fwd does not act on. */
export interface IgnoredKeyword {
  /** As OpenSSH spells it (`Ciphers`), or as written when OpenSSH does not know it. */
  keyword: string;
  /** The first value that applied, as written (SetEnv values are left out: they may be secrets). */
  value: string;
  file: string;
  line: number;
  /** How many lines of it applied (LocalForward and the like accumulate). */
  count: number;
  /** OpenSSH itself does not know the keyword (ssh may refuse the file). */
  unknown?: boolean;
}

/** The outcome of reading the files for one host. */
export interface Evaluated {
  values: SshConfigValues;
  ignored: IgnoredKeyword[];
  /** Things fwd evaluated differently from ssh, with file and line (Match exec not run, ...). */
  notes: string[];
  /** A Host pattern other than `*`, or a Match host/originalhost, applied to this name. */
  byName: boolean;
}

export interface EvaluateInput {
  sources: ConfigSource[];
  files: ConfigFiles;
  /** The name being resolved, as given (ssh's host_arg). */
  name: string;
  localUser: string;
  /** Given before any file is read (a `user@` in the destination, a YAML `user:`): first obtained, so it wins. */
  preset?: { user?: string; port?: number };
  /** For `Match exec`'s %d. */
  homeDir?: string;
  /** Runs `Match exec` commands (see MatchSubject.exec); absent, they are not run. */
  matchExec?: (command: string) => boolean;
}

const PRESET = { file: 'the command line', line: 0 };

/**
 * HostName with `%h` (the name as given) and `%%` expanded, as ssh.c does before using it;
 * lower-cased unless it is an IP address.
 */
export function expandHostName(hostName: Obtained<string>, name: string): string {
  const expanded = percentExpand(hostName.value, { h: name }, (key) => {
    throw new SshConfigError(
      hostName.file,
      hostName.line,
      `HostName: unknown token %${key} (only %h and %%)`,
    );
  });
  return /^[0-9.]+$|:/.test(expanded) ? expanded : expanded.toLowerCase();
}

/**
 * Reads the config files for one name the way OpenSSH's readconf.c does: lines apply under
 * the Host/Match that precedes them, the first value obtained for a keyword wins, Include is
 * followed where it stands (also inside blocks that do not apply, which are parsed only), and
 * `Match final` (or CanonicalizeHostname) makes a second pass over the files with the resolved
 * HostName. Throws SshConfigError where ssh would stop, including an Include nested more than
 * 16 deep, which is found after at most 17 files whatever the fan-out.
 */
export function evaluateSshConfig(input: EvaluateInput): Evaluated {
  const values: SshConfigValues = { identityFiles: [], certificateFiles: [] };
  if (input.preset?.user !== undefined) values.user = { value: input.preset.user, ...PRESET };
  if (input.preset?.port !== undefined) values.port = { value: input.preset.port, ...PRESET };
  const ignored = new Map<string, IgnoredKeyword>();
  const out: Evaluated = { values, ignored: [], notes: [], byName: false };
  let wantsFinalPass = false;

  const pass = (host: string, finalPass: boolean): void => {
    const subject: MatchSubject = {
      host,
      originalHost: input.name,
      currentHostName: () =>
        values.hostName === undefined
          ? input.name
          : finalPass
            ? values.hostName.value
            : expandHostName(values.hostName, input.name),
      currentUser: () => values.user?.value ?? input.localUser,
      currentTag: () => values.tag?.value,
      currentPort: () => values.port?.value ?? 22,
      currentHostKeyAlias: () => values.hostKeyAlias?.value,
      localUser: input.localUser,
      homeDir: input.homeDir ?? '',
      finalPass,
      ...(input.matchExec ? { exec: input.matchExec } : {}),
    };
    const run = (
      lines: readonly SshConfigLine[],
      active: { value: boolean },
      userConf: boolean,
      neverMatch: boolean,
      chain: string[],
    ): void => {
      for (const line of lines) {
        if (line.keyword === 'host') {
          const outcome = neverMatch ? { active: false, byName: false } : hostLine(line, host);
          active.value = outcome.active;
          if (outcome.byName) out.byName = true;
        } else if (line.keyword === 'match') {
          const outcome = matchLine(line, subject);
          if (outcome.wantsFinalPass) wantsFinalPass = true;
          active.value = !neverMatch && outcome.active;
          if (active.value && outcome.byName) out.byName = true;
          if (!neverMatch && outcome.note !== undefined && !out.notes.includes(outcome.note))
            out.notes.push(outcome.note);
        } else if (line.keyword === 'include') {
          for (const arg of line.args) {
            if (arg === '') throw new SshConfigError(line.file, line.line, 'keyword include empty argument');
            for (const path of input.files.include(arg, userConf, line)) {
              if (chain.length > MAX_INCLUDE_DEPTH) throw includeLoop(line, [...chain, path]);
              const included = input.files.lines(path);
              if (included === undefined) continue;
              const before = active.value;
              // An Include where no block applies is still read, but nothing in it applies.
              run(included, active, userConf, neverMatch || !before, [...chain, path]);
              active.value = before;
            }
          }
        } else {
          other(line, active.value);
        }
      }
    };
    for (const source of input.sources) {
      const lines = input.files.lines(source.path, source.text);
      if (lines !== undefined) run(lines, { value: true }, source.userConf, false, [source.path]);
    }
  };

  const other = (line: SshConfigLine, active: boolean): void => {
    const keyword = lookupKeyword(line.keyword);
    if (keyword === undefined) {
      const skip =
        values.ignoreUnknown && matchPatternList(line.keyword, values.ignoreUnknown.value, true) === 1;
      if (!skip) note(line.keyword, line, true);
      return;
    }
    if (applyValue(values, line, active)) return;
    if (active && keyword.use === 'ignored') note(keyword.name, line, false);
  };
  const counted = new Set<string>();
  const note = (name: string, line: SshConfigLine, unknown: boolean): void => {
    // The final pass reads the same lines again; count each line once.
    const where = `${line.file}:${line.line}`;
    if (counted.has(where)) return;
    counted.add(where);
    const seen = ignored.get(name);
    if (seen) {
      seen.count++;
      return;
    }
    const value = name === 'SetEnv' ? line.args.map((a) => a.split('=')[0]).join(' ') : line.rest;
    ignored.set(name, {
      keyword: name,
      value,
      file: line.file,
      line: line.line,
      count: 1,
      ...(unknown ? { unknown } : {}),
    });
  };

  pass(input.name, false);
  const canonicalize = ignored.get('CanonicalizeHostname')?.value.toLowerCase();
  if (wantsFinalPass || canonicalize === 'yes' || canonicalize === 'always') {
    // ssh.c: the second pass sees the resolved name, both in Host patterns and in Match host.
    const host = values.hostName ? expandHostName(values.hostName, input.name) : input.name.toLowerCase();
    values.hostName = { ...(values.hostName ?? PRESET), value: host };
    pass(host, true);
  }
  out.ignored = [...ignored.values()];
  return out;
}

function includeLoop(at: SshConfigLine, chain: string[]): SshConfigError {
  const last = chain[chain.length - 1] as string;
  // The shortest loop that ends here: the file's previous appearance in the chain.
  const previous = chain.lastIndexOf(last, chain.length - 2);
  const loop = previous >= 0 ? chain.slice(previous) : chain;
  const what = previous >= 0 ? 'an Include loop' : 'Includes nested too deep';
  return new SshConfigError(
    at.file,
    at.line,
    `${what}: ${loop.join(' → ')} (OpenSSH stops after ${MAX_INCLUDE_DEPTH} nested Includes: "Too many recursive configuration includes")`,
  );
}
