import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { daemonNameForFile } from '../daemon/daemon-name.js';
import { type CliIO, complain, EXIT } from '../io.js';
import { loadPlanFromFile } from '../runtime/load-plan.js';
import { removeServiceFile, runAll, serviceManager, writeServiceFile } from '../service/service-install.js';
import { SERVICE_STATS_INTERVAL, type ServiceSpec } from '../service/service-spec.js';
import { version } from '../version.js';
import { commandLine, type FlagOptions } from './command-line.js';

/**
 * `fwd service install [FILE] [--print] [--no-start] [--force]` and `fwd service remove [FILE]`:
 * runs `fwd up FILE` at login, under systemd (Linux, a user unit) or launchd (macOS, an agent),
 * restarted when it fails. The file is checked first: a service that can only fail is not
 * installed.
 */
export async function serviceCommand(argv: string[], io: CliIO): Promise<number> {
  const parsed = commandLine('service', argv, io, SERVICE_OPTIONS);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const [action, file = 'tunnels.yaml', ...extra] = positionals;
  if ((action !== 'install' && action !== 'remove') || extra.length > 0) {
    complain(io, 'service takes install or remove, then one file; see fwd service --help');
    return EXIT.usage;
  }
  const manager = serviceManager(process.platform, io.env);
  if (!manager) {
    complain(io, `no service manager fwd knows on ${process.platform} (systemd on Linux, launchd on macOS)`);
    return EXIT.failure;
  }
  const path = resolve(io.cwd, file);
  const name = daemonNameForFile(path);
  const where = manager.path(name);

  if (action === 'remove') {
    if (!values['no-start']) await runAll(manager.stopCommands(name));
    const removed = await removeServiceFile(where);
    if (removed === 'foreign') {
      complain(io, `${where} was not written by fwd; left alone`);
      return EXIT.failure;
    }
    if (!removed) {
      complain(io, `no fwd service for ${path} (${where})`);
      return EXIT.failure;
    }
    if (manager.kind === 'systemd' && !values['no-start'])
      await runAll([['systemctl', '--user', 'daemon-reload']]);
    io.stdout.write(`removed ${where}\n`);
    return EXIT.ok;
  }

  // The same check as fwd check: the service would only restart into the same error.
  const checked = await loadPlanFromFile(file, io);
  if ('problems' in checked) {
    for (const p of checked.problems) io.stderr.write(`${p}\n`);
    complain(io, `not installed: fix ${file} first (fwd check ${file})`);
    return EXIT.usage;
  }
  const spec: ServiceSpec = {
    name,
    file: path,
    argv: [
      process.execPath,
      ...process.execArgv,
      realpathSync(process.argv[1] ?? ''),
      'up',
      path,
      '--stats-interval',
      SERVICE_STATS_INTERVAL,
    ],
    version: version(),
    ...(io.env.SSH_AUTH_SOCK ? { agentSocket: io.env.SSH_AUTH_SOCK } : {}),
  };
  const rendered = manager.render(spec);
  if (values.print) {
    io.stdout.write(rendered);
    return EXIT.ok;
  }
  const outcome = await writeServiceFile(where, rendered, values.force === true);
  if ('foreign' in outcome) {
    complain(io, `${where} exists and was not written by fwd; --force replaces it`);
    return EXIT.failure;
  }
  io.stdout.write(`wrote ${where}\n`);
  if (values['no-start']) {
    const commands = manager.startCommands(name).map((c) => c.join(' '));
    io.stdout.write(`start it with:\n${commands.map((c) => `  ${c}\n`).join('')}`);
    return EXIT.ok;
  }
  const failed = await runAll(manager.startCommands(name));
  if (failed) {
    complain(io, `written, but not started: ${failed}`);
    return EXIT.failure;
  }
  io.stdout.write(
    manager.kind === 'systemd'
      ? `started; it starts at each login (loginctl enable-linger keeps it running without one). Log: journalctl --user -u fwd-${name}\n`
      : `started; it starts at each login. Log: ~/Library/Logs/fwd/${name}.log\n`,
  );
  return EXIT.ok;
}

const SERVICE_OPTIONS = {
  print: { type: 'boolean' },
  'no-start': { type: 'boolean' },
  force: { type: 'boolean' },
} as const;

/** fwd service's flags, for shell completion. */
export const SERVICE_FLAGS: FlagOptions = SERVICE_OPTIONS;
