import { parseArgs } from 'node:util';
import { describePlan } from '../config/index.js';
import { type CliIO, complain, EXIT } from '../io.js';
import { loadPlanFromFile } from '../runtime/load-plan.js';
import { helpFor } from './help.js';

/** `fwd check [tunnels.yaml]`: validate and resolve, print the plan, touch no network. */
export async function checkCommand(argv: string[], io: CliIO): Promise<number> {
  let values: { help?: boolean; 'ssh-config'?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { help: { type: 'boolean', short: 'h' }, 'ssh-config': { type: 'string', short: 'F' } },
    }));
  } catch (err) {
    complain(io, `${(err as Error).message}; see fwd check --help`);
    return EXIT.usage;
  }
  if (values.help) {
    io.stdout.write(helpFor('check'));
    return EXIT.ok;
  }
  const file = positionals[0] ?? 'tunnels.yaml';
  const outcome = await loadPlanFromFile(
    file,
    io,
    values['ssh-config'] ? { sshConfig: values['ssh-config'] } : {},
  );
  if ('problems' in outcome) {
    for (const p of outcome.problems) io.stderr.write(`${p}\n`);
    io.stderr.write(
      `${outcome.problems.length} problem${outcome.problems.length === 1 ? '' : 's'} in ${file}\n`,
    );
    return EXIT.usage;
  }
  io.stdout.write(`${describePlan(outcome.plan)}\n`);
  io.stdout.write(
    `${file}: ok (${plural(outcome.plan.tunnels.length, 'tunnel')}, ${plural(outcome.plan.hosts.length, 'host')})\n`,
  );
  return EXIT.ok;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
