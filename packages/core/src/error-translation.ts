import { formatEndpoint, type SocketPath, type TcpAddress } from './endpoints.js';
import { FwdError } from './errors.js';

// The one place where socket and ssh2 errors become FwdErrors with messages that say what to do.

interface ErrnoLike {
  code?: unknown;
  level?: unknown;
  reason?: unknown;
  message?: unknown;
}

function fields(err: unknown): ErrnoLike {
  return typeof err === 'object' && err !== null ? (err as ErrnoLike) : {};
}

/** The message of anything thrown (an Error's, else its text): for wrapping foreign errors. */
export function errorMessage(err: unknown): string {
  const m = fields(err).message;
  return typeof m === 'string' ? m : String(err);
}

/** The errno-style code of anything thrown ('ECONNREFUSED', 'ERR_TLS_...'), if it has one. */
export function errorCode(err: unknown): string | undefined {
  const code = fields(err).code;
  return typeof code === 'string' ? code : undefined;
}

const text = errorMessage;

/** A failure to reach `where` (an SSH server, a relay, a forwarding target) over a socket. */
export function fromSocketError(err: unknown, where: string): FwdError {
  if (err instanceof FwdError) return err;
  const code = fields(err).code;
  switch (code) {
    case 'ECONNREFUSED':
      return new FwdError('CONNECT_FAILED', `connection to ${where} refused: nothing listens there`, {
        cause: err,
      });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new FwdError('CONNECT_FAILED', `cannot resolve ${where}: check the host name`, { cause: err });
    case 'ETIMEDOUT':
      return new FwdError('CONNECT_TIMEOUT', `connection to ${where} timed out`, { cause: err });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENETDOWN':
      return new FwdError('CONNECT_FAILED', `${where} is unreachable from this network (${code})`, {
        cause: err,
      });
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return new FwdError('TRANSPORT_CLOSED', `connection to ${where} was reset`, { cause: err });
    default:
      return new FwdError('CONNECT_FAILED', `cannot connect to ${where}: ${text(err)}`, { cause: err });
  }
}

/** A failure to listen on a local address. */
export function fromBindError(err: unknown, address: string): FwdError {
  if (err instanceof FwdError) return err;
  switch (fields(err).code) {
    case 'EADDRINUSE':
      return new FwdError(
        'BIND_IN_USE',
        `${address} is already in use: another program (or another fwd) listens there; pick another port or stop it`,
        { cause: err },
      );
    case 'EACCES':
    case 'EPERM':
      return new FwdError(
        'BIND_DENIED',
        `not allowed to listen on ${address}: ports below 1024 need root (or CAP_NET_BIND_SERVICE); use a port ≥1024`,
        { cause: err },
      );
    case 'EADDRNOTAVAIL':
      return new FwdError('BIND_DENIED', `cannot listen on ${address}: no such address on this machine`, {
        cause: err,
      });
    default:
      return new FwdError('BIND_DENIED', `cannot listen on ${address}: ${text(err)}`, { cause: err });
  }
}

/** An error event of an ssh2 Client, for the session to `where` ("alice@login:22"). */
export function fromSshError(err: unknown, where: string): FwdError {
  if (err instanceof FwdError) return err;
  const { level, code } = fields(err);
  const message = text(err);
  if (level === 'client-socket') return fromSocketError(err, where);
  if (level === 'client-authentication') {
    return new FwdError('AUTH_FAILED', `authentication to ${where} failed: ${message}`, { cause: err });
  }
  if (level === 'client-timeout') {
    if (/keepalive/i.test(message)) {
      return new FwdError(
        'KEEPALIVE_TIMEOUT',
        `${where} stopped answering keepalives: the network dropped or the server is gone`,
        { cause: err },
      );
    }
    return new FwdError('CONNECT_TIMEOUT', `${where} did not complete the SSH handshake in time`, {
      cause: err,
    });
  }
  // DISCONNECT from the server carries a numeric reason code.
  if (typeof code === 'number') {
    if (code === 14 /* NO_MORE_AUTH_METHODS_AVAILABLE */ || /authentication/i.test(message)) {
      return new FwdError('AUTH_FAILED', `${where} ended authentication: ${message}`, { cause: err });
    }
    return new FwdError('TRANSPORT_CLOSED', `${where} disconnected: ${message}`, { cause: err });
  }
  if (/lost before handshake/i.test(message)) {
    return new FwdError(
      'CONNECT_FAILED',
      `${where} closed the connection before the SSH handshake: is it an SSH server, and does it allow this client?`,
      { cause: err },
    );
  }
  if (level === 'handshake' || level === 'protocol') {
    return new FwdError('PROTOCOL_ERROR', `SSH protocol error with ${where}: ${message}`, { cause: err });
  }
  return new FwdError('TRANSPORT_CLOSED', `session to ${where} failed: ${message}`, { cause: err });
}

const OPEN_FAILURE_REASONS: Record<number, string> = {
  1: 'administratively prohibited (the server forbids this forwarding: AllowTcpForwarding / PermitOpen)',
  2: 'connect failed (nothing listens there, as seen from the server)',
  3: 'unknown channel type (the server does not support this kind of forwarding)',
  4: 'resource shortage (the server has too many channels open)',
};

/** A refused or failed channel open towards `target` ("localhost:8888", "/run/app.sock"). */
export function fromChannelOpenError(err: unknown, target: string, where: string): FwdError {
  if (err instanceof FwdError) return err;
  const { reason } = fields(err);
  if (typeof reason === 'number') {
    const why = OPEN_FAILURE_REASONS[reason] ?? `reason ${reason}`;
    return new FwdError('CHANNEL_REFUSED', `${where} refused to open ${target}: ${why}`, { cause: err });
  }
  const message = text(err);
  // ssh2's words for a connection that went away with the open pending.
  if (/no response|not connected/i.test(message)) {
    return new FwdError('TRANSPORT_CLOSED', `session to ${where} closed while opening ${target}`, {
      cause: err,
    });
  }
  // The server answered the open with CHANNEL_CLOSE: a refusal on a session that is still alive.
  if (/server closed channel/i.test(message)) {
    return new FwdError('CHANNEL_REFUSED', `${where} closed the channel to ${target} instead of opening it`, {
      cause: err,
    });
  }
  return new FwdError('CHANNEL_REFUSED', `${where} refused to open ${target}: ${message}`, { cause: err });
}

/** The server would not listen on `binding` for a remote (`-R`) forward. */
export function describeRemoteRefusal(
  binding: TcpAddress | SocketPath,
  where: string,
  cause: unknown,
): FwdError {
  return new FwdError(
    'REMOTE_BIND_REFUSED',
    `${where} refused to listen on ${formatEndpoint(binding)}: the port may be in use on the server, or the server ` +
      'forbids remote forwarding (AllowTcpForwarding / AllowStreamLocalForwarding, GatewayPorts for non-loopback addresses)',
    { cause },
  );
}
