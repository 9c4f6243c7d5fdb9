import { readFile } from 'node:fs/promises';
import { FwdError, isFwdError, parseHostPort, parseListenAddress, type TcpAddress } from '@fwd/core';
import {
  loadTokenFile,
  parseTokenList,
  type Relay,
  startRelay,
  type TokenVerifier,
  tokenVerifier,
} from '@fwd/ws-transport';
import { parseDuration } from '../config/duration.js';
import { type CliIO, complain, EXIT } from '../io.js';
import { interruptSignal } from '../signals.js';
import { UsageError } from '../usage-error.js';
import { type CommandLine, commandLine, type FlagOptions } from './command-line.js';

interface RelaySettings {
  listen: TcpAddress;
  allow: TcpAddress[];
  tokens: TokenVerifier;
  /** Where the tokens came from, for SIGHUP; undefined when they came from FWD_RELAY_TOKENS. */
  tokenFile?: string;
  tls?: { cert: Buffer; key: Buffer };
  maxConnections?: number;
  idleTimeoutMs?: number;
  drainMs: number;
}

/** Subscribes `listener` to reload requests (SIGHUP); returns the unsubscribe. */
export type ReloadRequests = (listener: () => void) => () => void;

/**
 * `fwd relay`: runs the websocket relay until SIGINT/SIGTERM (or `stop`, for tests and the
 * container entry point) and drains it; SIGHUP (or `onReload`) reads --token-file again.
 * Returns the exit code: 0 after a clean stop, 1 when the relay cannot run (e.g. port in use),
 * 2 for usage or config errors.
 *
 * @example
 * const code = await relayCommand(['--listen', ':8080', '--allow', 'login:22', '--token-file', 'tokens'], io);
 */
export async function relayCommand(
  argv: string[],
  io: CliIO,
  stop?: AbortSignal,
  onReload?: ReloadRequests,
): Promise<number> {
  const line = commandLine('relay', argv, io, RELAY_OPTIONS);
  if (typeof line === 'number') return line;
  let settings: RelaySettings;
  try {
    if (line.positionals.length > 0) {
      throw new UsageError(`relay takes no arguments, got ${JSON.stringify(line.positionals[0])}`);
    }
    settings = await readSettings(line.values, io.env);
  } catch (err) {
    if (err instanceof UsageError || (isFwdError(err) && err.code === 'CONFIG_INVALID')) {
      complain(io, `relay: ${err.message}; see fwd relay --help`);
      return EXIT.usage;
    }
    throw err;
  }

  // Ctrl-C / SIGTERM drain the relay, unless the caller stops it (tests, the container entry point).
  // SIGHUP is not a stop here: a daemon's SIGHUP means "read your files again".
  const interrupt = stop
    ? { signal: stop, dispose: () => {} }
    : interruptSignal(undefined, ['SIGINT', 'SIGTERM']);
  const reloads = onReload ?? (stop ? undefined : processHangups);
  const logLine = (event: object): void => {
    io.stdout.write(`${JSON.stringify(event)}\n`);
  };
  let stopReloads = (): void => {};
  try {
    const relay = await startRelay({
      listen: settings.listen,
      allow: settings.allow,
      tokens: settings.tokens,
      ...(settings.tls ? { tls: settings.tls } : {}),
      ...(settings.maxConnections !== undefined ? { maxConnections: settings.maxConnections } : {}),
      ...(settings.idleTimeoutMs !== undefined ? { idleTimeoutMs: settings.idleTimeoutMs } : {}),
      log: (event) => {
        logLine(event);
        // Whoever reads only stderr (a terminal, journald's priority) still sees what is unsafe.
        if (event.event === 'warning') complain(io, `relay: warning: ${String(event.message)}`);
      },
    });
    const { tokenFile } = settings;
    stopReloads =
      reloads?.(() => {
        if (tokenFile === undefined) {
          complain(
            io,
            'relay: SIGHUP: the tokens come from FWD_RELAY_TOKENS, which cannot change; nothing to reload',
          );
          return;
        }
        void reloadTokens(relay, tokenFile).catch((err: unknown) => {
          const message = err instanceof Error ? err.message : String(err);
          logLine({ ts: new Date().toISOString(), event: 'tokens-reload-failed', message });
          complain(io, `relay: kept the old tokens: ${message}`);
        });
      }) ?? stopReloads;
    const { signal } = interrupt;
    const { drainMs } = settings;
    if (signal.aborted) await relay.close({ drainMs });
    else signal.addEventListener('abort', () => void relay.close({ drainMs }), { once: true });
    await relay.closed;
    return EXIT.ok;
  } catch (err) {
    if (!isFwdError(err)) throw err;
    complain(io, `relay: ${err.message}`);
    return err.code === 'CONFIG_INVALID' ? EXIT.usage : EXIT.failure;
  } finally {
    stopReloads();
    interrupt.dispose();
  }
}

function processHangups(listener: () => void): () => void {
  process.on('SIGHUP', listener);
  return () => process.off('SIGHUP', listener);
}

async function reloadTokens(relay: Relay, file: string): Promise<void> {
  relay.setTokens(tokenVerifier(await loadTokenFile(file)));
}

const RELAY_OPTIONS = {
  listen: { type: 'string' },
  allow: { type: 'string', multiple: true },
  'token-file': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'max-connections': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'drain-timeout': { type: 'string' },
} as const;

/** fwd relay's flags, for shell completion. */
export const RELAY_FLAGS: FlagOptions = RELAY_OPTIONS;

async function readSettings(
  values: CommandLine<typeof RELAY_OPTIONS>['values'],
  env: Record<string, string | undefined>,
): Promise<RelaySettings> {
  if (values.listen === undefined) throw new UsageError('--listen is required (e.g. --listen 0.0.0.0:8080)');
  const listen = parseListen(values.listen);
  const allowText = (values.allow ?? []).flatMap((v) => v.split(',')).filter((v) => v.trim() !== '');
  if (allowText.length === 0)
    throw new UsageError('--allow is required: the SSH hosts clients may reach (login:22)');
  const allow = allowText.map((text) => {
    const target = parseHostPort(text);
    if (!target) throw new UsageError(`--allow ${JSON.stringify(text)}: expected host:port, e.g. login:22`);
    return target;
  });

  const fromEnv = env.FWD_RELAY_TOKENS;
  if (values['token-file'] !== undefined && fromEnv !== undefined) {
    throw new UsageError('give tokens either with --token-file or in FWD_RELAY_TOKENS, not both');
  }
  let tokens: string[];
  if (values['token-file'] !== undefined) tokens = await loadTokenFile(values['token-file']);
  else if (fromEnv !== undefined) tokens = parseTokenList(fromEnv);
  else
    throw new UsageError(
      'no tokens: pass --token-file FILE or set FWD_RELAY_TOKENS (the relay never runs open)',
    );
  if (tokens.length === 0) throw new UsageError('FWD_RELAY_TOKENS holds no token');
  const verifier = tokenVerifier(tokens);

  const certFile = values['tls-cert'];
  const keyFile = values['tls-key'];
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new UsageError('--tls-cert and --tls-key go together');
  }
  const settings: RelaySettings = {
    listen,
    allow,
    tokens: verifier,
    drainMs: duration('--drain-timeout', values['drain-timeout'] ?? '10s'),
    ...(values['token-file'] !== undefined ? { tokenFile: values['token-file'] } : {}),
  };
  if (certFile !== undefined && keyFile !== undefined) {
    settings.tls = { cert: await readPem(certFile, '--tls-cert'), key: await readPem(keyFile, '--tls-key') };
  }
  if (values['max-connections'] !== undefined) {
    const n = Number(values['max-connections']);
    if (!/^\d+$/.test(values['max-connections']) || n < 1 || !Number.isSafeInteger(n)) {
      throw new UsageError(
        `--max-connections ${JSON.stringify(values['max-connections'])}: expected a positive integer`,
      );
    }
    settings.maxConnections = n;
  }
  if (values['idle-timeout'] !== undefined)
    settings.idleTimeoutMs = duration('--idle-timeout', values['idle-timeout']);
  return settings;
}

/** `0.0.0.0:8080`, `[::]:8080`, `:8080` (all interfaces) or `8080` (loopback). */
function parseListen(text: string): TcpAddress {
  const listen = parseListenAddress(text);
  if (!listen)
    throw new UsageError(`--listen ${JSON.stringify(text)}: expected host:port, e.g. 0.0.0.0:8080`);
  return listen;
}

function duration(flag: string, text: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new UsageError(`${flag} ${JSON.stringify(text)}: ${parsed.error}`);
  return parsed.value;
}

async function readPem(path: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new FwdError('CONFIG_INVALID', `${flag} ${path}: cannot read (${String(code ?? err)})`, {
      cause: err,
    });
  }
}
