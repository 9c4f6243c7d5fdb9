import { dirname, resolve } from 'node:path';
import { type CliIO, complain, EXIT } from '../io.js';
import { loadPlanFromFile } from '../runtime/load-plan.js';
import type { BackgroundHooks } from '../runtime/run-tunnels.js';
import { type CommandLine, commandLine, type FlagOptions } from './command-line.js';
import { launchPlan } from './launch-plan.js';
import { OUTPUT_FLAGS } from './output-flags.js';

/**
 * `fwd up [tunnels.yaml] [--only a,b] [--open] [--json] [-d [--replace]]`: bring every tunnel up and keep
 * it up, here or (-d) in the background. `background` is set when this process is that
 * background fwd (see daemon/daemon-main.ts).
 */
export async function upCommand(argv: string[], io: CliIO, background?: BackgroundHooks): Promise<number> {
  const parsed = commandLine('up', argv, io, UP_OPTIONS);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    complain(io, `up takes one file, got ${positionals.length}; see fwd up --help`);
    return EXIT.usage;
  }
  if (values.replace && !values.detach) {
    complain(io, '--replace goes with -d (fwd up -d --replace)');
    return EXIT.usage;
  }
  const file = positionals[0] ?? 'tunnels.yaml';
  const only = values.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // The same reading on SIGHUP and `fwd reload`: same file, --only and -F.
  const read = () =>
    loadPlanFromFile(file, io, {
      ...(only ? { only } : {}),
      ...(values['ssh-config'] ? { sshConfig: values['ssh-config'] } : {}),
    });
  const outcome = await read();
  if ('problems' in outcome) {
    for (const p of outcome.problems) io.stderr.write(`${p}\n`);
    return EXIT.usage;
  }
  const path = resolve(io.cwd, file);
  const detach = values.detach
    ? {
        name: (await import('../daemon/daemon-name.js')).daemonNameForFile(path),
        source: path,
        args: ['up', path, ...daemonFlags(values, io.cwd)],
        replace: values.replace === true,
      }
    : undefined;
  return launchPlan(outcome.plan, io, {
    flags: values,
    background,
    detach,
    baseDir: dirname(path),
    reread: read,
  });
}

/** The flags the background fwd runs with: those that shape the run, with paths made absolute. */
function daemonFlags(values: CommandLine<typeof UP_OPTIONS>['values'], cwd: string): string[] {
  const flags: string[] = [];
  if (values.only !== undefined) flags.push('--only', values.only);
  if (values['ssh-config'] !== undefined) flags.push('-F', resolve(cwd, values['ssh-config']));
  if (values.metrics !== undefined) flags.push('--metrics', values.metrics);
  if (values['stats-interval'] !== undefined) flags.push('--stats-interval', values['stats-interval']);
  return flags;
}

const UP_OPTIONS = {
  only: { type: 'string' },
  ...OUTPUT_FLAGS,
  'ssh-config': { type: 'string', short: 'F' },
  detach: { type: 'boolean', short: 'd' },
  replace: { type: 'boolean' },
  // Not passed on to a background fwd: the foreground process opens the browser.
  open: { type: 'boolean' },
} as const;

/** fwd up's flags, for shell completion. */
export const UP_FLAGS: FlagOptions = UP_OPTIONS;
