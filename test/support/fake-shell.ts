import type { CommandResult, RunCommandOptions } from '@fwd/core';
import type { RemoteShell } from '../../packages/cli/src/slurm/slurm-commands.js';

/** What a command returned: exit 0 and nothing printed, unless `fields` say otherwise. */
export function commandResult(fields: Partial<CommandResult> = {}): CommandResult {
  return { code: 0, signal: undefined, stdout: '', stderr: '', truncated: false, ...fields };
}

/** A login node's shell (alice@login:22) in which `answer` plays every command. */
export function fakeShell(
  answer: (command: string, options: RunCommandOptions) => CommandResult | Promise<CommandResult>,
): RemoteShell {
  return { where: 'alice@login:22', exec: async (command, options = {}) => answer(command, options) };
}
