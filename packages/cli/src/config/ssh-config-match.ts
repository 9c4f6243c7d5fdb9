import { spawnSync } from 'node:child_process';
import { matchPattern, matchPatternList, percentExpand } from '@fwd/core';
import { SshConfigError, type SshConfigLine } from './ssh-config-lexer.js';
import { tokenTable } from './ssh-config-tokens.js';

/** What Host and Match lines are evaluated against (readconf.c's host, original_host, pw, options). */
export interface MatchSubject {
  /** The name Host patterns see: the name given on the first pass, the resolved HostName on the final one. */
  host: string;
  /** The name as given (`Match originalhost`, `%n`). */
  originalHost: string;
  /** For `Match host`: HostName obtained so far (its %h expanded), else the name. */
  currentHostName(): string;
  /** For `Match user`: User obtained so far, else the local user. */
  currentUser(): string;
  /** For `Match tagged`: Tag obtained so far. */
  currentTag(): string | undefined;
  /** For `Match exec`'s %p and %k: Port and HostKeyAlias obtained so far. */
  currentPort(): number;
  currentHostKeyAlias(): string | undefined;
  localUser: string;
  /** For `Match exec`'s %d. */
  homeDir: string;
  finalPass: boolean;
  /**
   * Runs a `Match exec` command (its tokens expanded) and says whether it exited 0; absent, the
   * command is not run and its block is taken as not matching, with a note.
   */
  exec?: (command: string) => boolean;
}

/**
 * `Match exec` as OpenSSH runs it (readconf.c execute_in_shell): `$SHELL -c COMMAND`, else
 * /bin/sh; stdin and stdout on /dev/null, stderr the user's; a match when it exits 0.
 */
export function runMatchExec(command: string): boolean {
  const shell = process.env.SHELL || '/bin/sh';
  const run = spawnSync(shell, ['-c', command], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (run.error) throw new Error(`Match exec: cannot run ${shell}: ${run.error.message}`);
  return run.status === 0;
}

/** match_cfg_line()'s tokens for exec: %C %L %d %h %k %l %n %p %r %u (no ${VAR}: the shell sees those). */
function execCommand(line: SshConfigLine, pattern: string, subject: MatchSubject): string {
  const host = subject.currentHostName();
  const table = tokenTable({
    alias: subject.originalHost,
    hostName: host,
    port: subject.currentPort(),
    user: subject.currentUser(),
    localUser: subject.localUser,
    homeDir: subject.homeDir,
  });
  const tokens: Record<string, string> = { ...table, k: subject.currentHostKeyAlias() ?? host };
  delete tokens.i;
  return percentExpand(pattern, tokens, (key) => {
    throw new SshConfigError(line.file, line.line, `Match exec: unknown token %${key}`);
  });
}

/** The outcome of a Host or Match line. */
export interface SectionOutcome {
  active: boolean;
  /** Whether a pattern other than a bare `*` (or a Match host/originalhost criterion) selected this name. */
  byName: boolean;
  /** Match final was seen: OpenSSH then reads the files a second time. */
  wantsFinalPass?: boolean;
  /** Something fwd could not evaluate the way ssh would (Match exec, newer criteria). */
  note?: string;
}

/**
 * A `Host` line, as readconf.c evaluates it: each argument is one pattern (case-sensitive, `*`
 * and `?`); the first `!pattern` that matches makes the block inactive whatever else matched.
 */
export function hostLine(line: SshConfigLine, host: string): SectionOutcome {
  let active = false;
  let byName = false;
  for (const arg of line.args) {
    if (arg === '') throw new SshConfigError(line.file, line.line, 'keyword host empty argument');
    const negated = arg.startsWith('!');
    const pattern = negated ? arg.slice(1) : arg;
    if (!matchPattern(host, pattern)) continue;
    if (negated) return { active: false, byName: false };
    active = true;
    if (pattern !== '*') byName = true;
  }
  return { active, byName };
}

/** OpenSSH's match_hostname(): the host lower-cased against a lower-cased pattern list. */
const hostMatches = (host: string, patterns: string): boolean =>
  matchPatternList(host.toLowerCase(), patterns, true) === 1;

/** Criteria of newer OpenSSH that fwd does not evaluate; taken as not matching, with a note. */
const NOT_EVALUATED = new Set(['localnetwork', 'version', 'sessiontype', 'command']);

/**
 * A `Match` line, as readconf.c's match_cfg_line() evaluates it: every criterion must hold,
 * `!criterion` negates one, `all` stands alone, `canonical`/`final` hold on the final pass only.
 * `exec` runs its command through `subject.exec`, as ssh does, only while the criteria before it
 * held; without a runner it counts as not matching, with a note.
 */
export function matchLine(line: SshConfigLine, subject: MatchSubject): SectionOutcome {
  const fail = (what: string): never => {
    throw new SshConfigError(line.file, line.line, what);
  };
  const args = line.args;
  let result = true;
  let attributes = 0;
  let byName = false;
  let wantsFinalPass = false;
  let note: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const raw = args[i] as string;
    const negate = raw.startsWith('!');
    const attribute = (negate ? raw.slice(1) : raw).toLowerCase();
    if (attribute === 'all') {
      if (attributes > 1 || i + 1 < args.length)
        fail(`'${raw}' cannot be combined with other Match attributes`);
      if (result) result = !negate;
      return { active: result, byName: false };
    }
    attributes++;
    if (attribute === 'canonical' || attribute === 'final') {
      if (attribute === 'final') wantsFinalPass = true;
      if (subject.finalPass === negate) result = false;
      continue;
    }
    const argument = args[++i];
    if (argument === undefined || argument === '') fail(`Missing Match criteria for ${attribute}`);
    const pattern = argument as string;
    let matched: boolean;
    switch (attribute) {
      case 'host':
        matched = hostMatches(subject.currentHostName(), pattern);
        if (matched && !negate) byName = true;
        break;
      case 'originalhost':
        matched = hostMatches(subject.originalHost, pattern);
        if (matched && !negate) byName = true;
        break;
      case 'user':
        matched = matchPatternList(subject.currentUser(), pattern, false) === 1;
        break;
      case 'localuser':
        matched = matchPatternList(subject.localUser, pattern, false) === 1;
        break;
      case 'tagged':
        matched = matchPatternList(subject.currentTag() ?? '', pattern, false) === 1;
        break;
      case 'exec':
        // OpenSSH skips the command once an earlier criterion failed: the block is off anyway.
        if (!result) continue;
        if (subject.exec) matched = subject.exec(execCommand(line, pattern, subject));
        else {
          note = `Match exec ${JSON.stringify(pattern)} is not run here; its block is taken as not matching`;
          matched = false;
        }
        break;
      default:
        if (!NOT_EVALUATED.has(attribute)) fail(`Unsupported Match attribute ${attribute}`);
        note = `Match ${attribute} is not evaluated by fwd; its block is taken as not matching`;
        matched = negate;
    }
    if (matched === negate) result = false;
  }
  if (attributes === 0) fail('One or more attributes required for Match');
  const outcome: SectionOutcome = { active: result, byName: result && byName };
  if (wantsFinalPass) outcome.wantsFinalPass = true;
  if (note !== undefined) outcome.note = `${line.file} line ${line.line}: ${note}`;
  return outcome;
}
