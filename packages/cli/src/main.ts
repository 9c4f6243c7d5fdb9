#!/usr/bin/env -S node --min-semi-space-size=8 --max-semi-space-size=8 --expose-gc
import { type CliIO, complain, EXIT } from './io.js';

// The shebang fixes V8's young generation at 8 MiB semi-spaces. By default it starts small and
// grows under load, and with it RSS: +28 % over 10k churned connections (82 → 105 MB) with the
// live heap flat at 7 MB. Fixed at 8 MiB: +10 %. Smaller (or --optimize-for-size) tripled GC time
// in uploads (4 % → 12 % of CPU: every SSH packet allocates); 8 MiB keeps it at the default's 4 %.
// --expose-gc: once a bulk transfer is over, one collection frees its dead buffers before
// malloc_trim hands the pages back (runtime/memory-return.ts); nothing else calls gc().

// Commands are imported lazily: `fwd --version` must not pay for ssh2, yaml or ws.

const io: CliIO = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
};

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  switch (first) {
    case '--version':
    case '-V':
    case 'version': {
      const { version } = await import('./version.js');
      io.stdout.write(`fwd ${version()}\n`);
      return EXIT.ok;
    }
    case undefined:
    case '--help':
    case '-h':
    case 'help': {
      const { printHelp } = await import('./commands/help.js');
      return printHelp(io, first === 'help' ? rest[0] : undefined);
    }
    case 'up':
      return (await import('./commands/up.js')).upCommand(rest, io);
    case 'check':
      return (await import('./commands/check.js')).checkCommand(rest, io);
    case 'ps':
      return (await import('./commands/ps.js')).psCommand(rest, io);
    case 'down':
      return (await import('./commands/down.js')).downCommand(rest, io);
    case 'logs':
      return (await import('./commands/logs.js')).logsCommand(rest, io);
    case '__daemon': {
      // The background half of `fwd up -d`; it exits itself: open control connections must not keep it alive.
      const code = await (await import('./daemon/daemon-main.js')).daemonMain(rest, io);
      return process.exit(code);
    }
    case 'relay':
      return (await import('./commands/relay.js')).relayCommand(rest, io);
    case 'init':
      return (await import('./commands/init.js')).initCommand(rest, io);
    case 'reload':
      return (await import('./commands/reload.js')).reloadCommand(rest, io);
    case 'stop':
    case 'start':
      return (await import('./commands/reload.js')).tunnelCommand(first, rest, io);
    case 'service':
      return (await import('./commands/service.js')).serviceCommand(rest, io);
    case 'completion':
      return (await import('./commands/completion.js')).completionCommand(rest, io);
    case '__complete':
      // What completion scripts call at TAB time (completion.ts).
      return (await import('./commands/completion.js')).completeCommand(rest, io);
    case 'schema':
      return (await import('./commands/schema.js')).schemaCommand(rest, io);
    default:
      if (first.startsWith('-')) return (await import('./commands/oneoff.js')).oneoffCommand(argv, io);
      complain(io, `unknown command "${first}"; see fwd --help`);
      return EXIT.usage;
  }
}

// Once a command is over, nothing may keep fwd alive: not a DNS lookup still in libuv's thread
// pool, nor a handle some library forgot. Unref'd, so a clean exit is not delayed by it.
const EXIT_GRACE_MS = 2_000;

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  },
  (err: unknown) => {
    complain(io, `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = EXIT.failure;
  },
);
