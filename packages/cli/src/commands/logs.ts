import { watch } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { fwdDirsOrExit, logPath } from '../daemon/daemon-dirs.js';
import { listDaemons } from '../daemon/daemon-registry.js';
import { resolveTarget } from '../daemon/daemon-target.js';
import { type CliIO, complain, EXIT, isTTY } from '../io.js';
import { formatLogLine } from '../render/log-line.js';
import { interruptSignal } from '../signals.js';
import { commandLine, type FlagOptions } from './command-line.js';

/**
 * `fwd logs [-f] [--json] [--stats] [name|file]`: a background fwd's NDJSON log, for people on a
 * terminal (raw NDJSON with --json or off a terminal). -f follows it until that fwd stops.
 */
export async function logsCommand(argv: string[], io: CliIO): Promise<number> {
  const parsed = commandLine('logs', argv, io, LOGS_OPTIONS);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    complain(io, 'logs takes one name; see fwd logs --help');
    return EXIT.usage;
  }
  const dirs = await fwdDirsOrExit(io);
  if (typeof dirs === 'number') return dirs;
  const logs = (await readdir(dirs.state)).filter((f) => f.endsWith('.log')).map((f) => f.slice(0, -4));
  const { daemons } = await listDaemons(dirs);
  const sources = new Map(
    daemons.flatMap((d) => ('status' in d ? [[d.name, d.status.source] as const] : [])),
  );
  // Without a name, a running fwd's log is the one meant when there is just one.
  const running = logs.filter((name) => sources.has(name));
  const pool = positionals[0] === undefined && running.length === 1 ? running : logs;
  const target = resolveTarget(
    positionals[0],
    pool.map((name) => ({ name, source: sources.get(name) })),
    io.cwd,
    'log of a background fwd',
  );
  if ('problem' in target) {
    complain(io, target.problem);
    return EXIT.failure;
  }
  const name = target.found[0]?.name ?? '';
  const human = !values.json && isTTY(io.stdout);
  const color = human && io.env.NO_COLOR === undefined;
  const show = (line: string): void => {
    const text = human ? formatLogLine(line, { color, stats: values.stats === true }) : line;
    if (text !== undefined) io.stdout.write(`${text}\n`);
  };
  return printLog(logPath(dirs, name), show, values.follow === true);
}

/** Prints the log's lines; with `follow`, then every line appended, until a `stopped` event or Ctrl-C. */
async function printLog(path: string, show: (line: string) => void, follow: boolean): Promise<number> {
  const file = await open(path, 'r');
  const interrupt = interruptSignal();
  try {
    let offset = 0;
    let pending = '';
    let stopped = false;
    const readMore = async (): Promise<void> => {
      const { size } = await file.stat();
      // A new `fwd up -d` of the same file starts the log afresh.
      if (size < offset) offset = 0;
      while (offset < size) {
        const { bytesRead, buffer } = await file.read({
          buffer: Buffer.alloc(Math.min(size - offset, 1 << 16)),
          position: offset,
        });
        if (bytesRead === 0) break;
        offset += bytesRead;
        pending += buffer.subarray(0, bytesRead).toString();
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          if (!line) continue;
          show(line);
          if (line.includes('"event":"stopped"')) stopped = true;
        }
      }
    };
    await readMore();
    if (!follow || stopped) return EXIT.ok;
    return await new Promise<number>((resolve) => {
      let finished = false;
      let reading = Promise.resolve();
      // Reads are chained so that lines come out in order, and none starts once we are done.
      const pump = (): void => {
        reading = reading
          .then(async () => {
            if (finished) return;
            await readMore();
            if (stopped) done(EXIT.ok);
          })
          .catch(() => done(EXIT.failure));
      };
      const watcher = watch(path, pump);
      const done = (code: number): void => {
        if (finished) return;
        finished = true;
        watcher.close();
        void reading.then(() => resolve(code));
      };
      interrupt.signal.addEventListener('abort', () => done(EXIT.interrupted), { once: true });
      // Lines written between the first read and the watch starting.
      pump();
    });
  } finally {
    interrupt.dispose();
    await file.close();
  }
}

const LOGS_OPTIONS = {
  follow: { type: 'boolean', short: 'f' },
  json: { type: 'boolean' },
  stats: { type: 'boolean' },
} as const;

/** fwd logs's flags, for shell completion. */
export const LOGS_FLAGS: FlagOptions = LOGS_OPTIONS;
