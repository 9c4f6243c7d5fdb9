import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type CliIO, complain, EXIT } from '../io.js';
import { helpFor } from './help.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** A command's flags as parseArgs takes them, for shell completion (commands/completion-spec.ts). */
export type FlagOptions = Readonly<
  Record<
    string,
    { readonly type: 'string' | 'boolean'; readonly short?: string; readonly multiple?: boolean }
  >
>;
type WithHelp<T extends Options> = T & { help: { type: 'boolean'; short: 'h' } };

/** The values and positionals of a command line, as node:util parseArgs types them. */
export type CommandLine<T extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; allowPositionals: true; tokens: true; options: WithHelp<T> }>
>;

/**
 * Parses a command's arguments the same way for every command: `-h/--help` prints its help
 * (exit 0), a usage error says what is wrong and where the help is (exit 2). Returns the parse,
 * or the exit code when the command has nothing left to do.
 *
 * @example
 * const line = commandLine('ps', argv, io, { json: { type: 'boolean' } });
 * if (typeof line === 'number') return line;
 */
export function commandLine<const T extends Options>(
  command: string,
  argv: string[],
  io: CliIO,
  options: T,
): CommandLine<T> | number {
  const withHelp = { ...options, help: { type: 'boolean', short: 'h' } } as WithHelp<T>;
  const helpHint = command === 'oneoff' ? 'fwd --help' : `fwd ${command} --help`;
  let parsed: CommandLine<T>;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, tokens: true, options: withHelp });
  } catch (err) {
    complain(io, `${(err as Error).message}; see ${helpHint}`);
    return EXIT.usage;
  }
  if ((parsed.values as { help?: boolean }).help) {
    io.stdout.write(helpFor(command));
    return EXIT.ok;
  }
  return parsed;
}
