/** One line of an ssh_config file, split the way OpenSSH's readconf.c splits it. */
export interface SshConfigLine {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** Lower-cased, as OpenSSH matches keywords. */
  readonly keyword: string;
  /** The arguments after argv_split(): quotes removed, `\"` `\'` `\\` `\ ` unescaped, `#...` dropped. */
  readonly args: readonly string[];
  /** The text after the keyword and its separator, as ProxyCommand/ProxyJump see it. */
  readonly rest: string;
}

/** A line OpenSSH would refuse ("no argument after keyword", "invalid quotes", a bad value, ...). */
export class SshConfigError extends Error {
  readonly file: string;
  readonly line: number;

  constructor(file: string, line: number, what: string) {
    super(`${file} line ${line}: ${what}`);
    this.file = file;
    this.line = line;
  }
}

const SPACE = new Set([' ', '\t', '\r', '\n']);

/**
 * Splits `rest` like OpenSSH's argv_split(.., terminate_on_comment=1): whitespace separates,
 * '...' and "..." group (and may sit inside a word), a `#` that starts a word ends the line.
 * Returns undefined for an unclosed quote.
 *
 * @example argvSplit('"~/.ssh/id with space" x#y # z') // ['~/.ssh/id with space', 'x#y']
 */
export function argvSplit(rest: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  while (i < rest.length) {
    const c = rest[i] as string;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#') break;
    let quote = '';
    let word = '';
    for (; i < rest.length; i++) {
      const ch = rest[i] as string;
      const next = rest[i + 1];
      if (ch === '\\') {
        if (next === "'" || next === '"' || next === '\\' || (quote === '' && next === ' ')) i++;
        word += rest[i];
      } else if (quote === '' && (ch === ' ' || ch === '\t')) break;
      else if (quote === '' && (ch === '"' || ch === "'")) quote = ch;
      else if (quote !== '' && ch === quote) quote = '';
      else word += ch;
    }
    if (quote !== '') return undefined;
    out.push(word);
  }
  return out;
}

/** The keyword and what follows it, like strdelim(): `Key value`, `Key=value`, `Key = value`, `"Key" value`. */
function splitKeyword(text: string): { keyword: string; rest: string } | undefined {
  let i = 0;
  while (i < text.length && SPACE.has(text[i] as string)) i++;
  let keyword: string;
  if (text[i] === '"') {
    const close = text.indexOf('"', i + 1);
    if (close < 0) return undefined;
    keyword = text.slice(i + 1, close);
    i = close + 1;
  } else {
    const start = i;
    while (i < text.length && !SPACE.has(text[i] as string) && text[i] !== '"' && text[i] !== '=') i++;
    keyword = text.slice(start, i);
    // One `=` may stand in for, or sit within, the whitespace after the keyword.
    const equals = text[i] === '=';
    if (i < text.length && text[i] !== '"') i++;
    while (i < text.length && SPACE.has(text[i] as string)) i++;
    if (!equals && text[i] === '=') i++;
  }
  while (i < text.length && SPACE.has(text[i] as string)) i++;
  return { keyword, rest: text.slice(i) };
}

/**
 * Parses ssh_config text into keyword lines (comments and blank lines dropped). Throws
 * SshConfigError where OpenSSH stops: a keyword without an argument, an unclosed quote.
 *
 * @example parseSshConfig('Host a\n  Port=2222\n', '~/.ssh/config')[1] // { keyword: 'port', args: ['2222'], ... }
 */
export function parseSshConfig(text: string, file: string): SshConfigLine[] {
  const out: SshConfigLine[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    // Trailing whitespace goes; a form feed is allowed at the end only.
    const raw = (lines[n] as string).replace(/[ \t\r\n\f]+$/, '');
    const split = splitKeyword(raw);
    if (split === undefined) throw new SshConfigError(file, n + 1, 'invalid quotes');
    const { keyword, rest } = split;
    if (keyword === '' || keyword.startsWith('#')) continue;
    if (rest === '') throw new SshConfigError(file, n + 1, `no argument after keyword "${keyword}"`);
    const args = argvSplit(rest);
    if (args === undefined) throw new SshConfigError(file, n + 1, 'invalid quotes');
    out.push({ file, line: n + 1, keyword: keyword.toLowerCase(), args, rest });
  }
  return out;
}
