import { join } from 'node:path';
import type { SshConfigOptions } from './ssh-config.js';
import { ConfigFiles, MAX_INCLUDE_DEPTH, readIfExists } from './ssh-config-include.js';
import { SshConfigError } from './ssh-config-lexer.js';

/**
 * The names one can type after `ssh` because a `Host` line of ~/.ssh/config names them literally
 * (`Host cluster login2`; not `*`, `node?`, `!bad`), in file order, Include files followed the way
 * ssh follows them. For `fwd init`'s question and shell completion: a list to choose from, not a
 * resolution (that is `resolveSshHost`). A config ssh would refuse gives what was read before it.
 */
export function sshHostAliases(options: SshConfigOptions): string[] {
  const files = new ConfigFiles(options.homeDir, options.read ?? readIfExists);
  const aliases = new Set<string>();
  const visit = (path: string, text: string | undefined, depth: number): void => {
    if (depth > MAX_INCLUDE_DEPTH) return;
    for (const line of files.lines(path, text) ?? []) {
      if (line.keyword === 'host') {
        for (const pattern of line.args) if (!/[*?!]/.test(pattern)) aliases.add(pattern);
      } else if (line.keyword === 'include') {
        for (const arg of line.args)
          for (const included of files.include(arg, true, line)) visit(included, undefined, depth + 1);
      }
    }
  };
  try {
    visit(options.configPath ?? join(options.homeDir, '.ssh', 'config'), options.configText, 0);
  } catch (error) {
    if (!(error instanceof SshConfigError)) throw error;
  }
  return [...aliases];
}
