import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type CliIO, complain, EXIT } from '../io.js';
import { loadPlanFromFile } from '../runtime/load-plan.js';
import { type RunOptions, runTunnels } from '../runtime/run-tunnels.js';
import { helpFor } from './help.js';
import { OUTPUT_FLAGS, runOptionsFrom } from './output-flags.js';

/** `fwd up [tunnels.yaml] [--only a,b] [--json]`: bring every tunnel up and keep it up. */
export async function upCommand(argv: string[], io: CliIO): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    complain(io, `${(err as Error).message}; see fwd up --help`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(helpFor('up'));
    return EXIT.ok;
  }
  if (positionals.length > 1) {
    complain(io, `up takes one file, got ${positionals.length}; see fwd up --help`);
    return EXIT.usage;
  }
  const file = positionals[0] ?? 'tunnels.yaml';
  const only = values.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const outcome = await loadPlanFromFile(file, io, {
    ...(only ? { only } : {}),
    ...(values['ssh-config'] ? { sshConfig: values['ssh-config'] } : {}),
  });
  if ('problems' in outcome) {
    for (const p of outcome.problems) io.stderr.write(`${p}\n`);
    return EXIT.usage;
  }
  let run: RunOptions;
  try {
    run = runOptionsFrom(values);
  } catch (err) {
    complain(io, (err as Error).message);
    return EXIT.usage;
  }
  return runTunnels(outcome.plan, io, { ...run, baseDir: dirname(resolve(io.cwd, file)) });
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      only: { type: 'string' },
      ...OUTPUT_FLAGS,
      'ssh-config': { type: 'string', short: 'F' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
