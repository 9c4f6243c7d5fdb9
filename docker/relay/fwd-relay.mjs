// Entry point of the fwd/relay image: `fwd relay ARGS` from the built fwd tree at $FWD_HOME.
// SIGTERM/SIGINT drain gracefully (--drain-timeout); a second signal exits at once; SIGHUP reloads tokens.
import { pathToFileURL } from 'node:url';

const home = process.env.FWD_HOME ?? '/opt/fwd';
const { relayCommand } = await import(pathToFileURL(`${home}/packages/cli/dist/commands/relay.js`).href);

const controller = new AbortController();
for (const name of ['SIGTERM', 'SIGINT']) {
  process.on(name, () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  });
}
// `signal` in io too: an older built tree (another checkout sharing this image) reads it there.
const io = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
};
// SIGHUP reads --token-file again (token rotation without dropping open tunnels).
const onReload = (listener) => {
  process.on('SIGHUP', listener);
  return () => process.off('SIGHUP', listener);
};
process.exitCode = await relayCommand(process.argv.slice(2), io, controller.signal, onReload);
