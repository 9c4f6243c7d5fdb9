/**
 * The closed set of error codes fwd reports. Programs switch on `code`, never on messages.
 */
export const ERROR_CODES = [
  'CONFIG_INVALID',
  'AUTH_FAILED',
  'HOST_KEY_UNKNOWN',
  'HOST_KEY_CHANGED',
  'HOST_KEY_REVOKED',
  'CONNECT_FAILED',
  'CONNECT_TIMEOUT',
  'KEEPALIVE_TIMEOUT',
  'BIND_IN_USE',
  'BIND_DENIED',
  'REMOTE_BIND_REFUSED',
  'CHANNEL_REFUSED',
  'CHANNEL_OPEN_TIMEOUT',
  'TRANSPORT_CLOSED',
  'PROTOCOL_ERROR',
  'RELAY_UNAUTHORIZED',
  'RELAY_TARGET_DENIED',
  'RELAY_FAILED',
  'TLS_FAILED',
  'PROXY_FAILED',
  'SLURM_UNAVAILABLE',
  'SLURM_JOB_NOT_FOUND',
  'SLURM_JOB_ENDED',
  'SLURM_TIMEOUT',
  'COMMAND_FAILED',
  'ABORTED',
] as const;

export type FwdErrorCode = (typeof ERROR_CODES)[number];

/** Codes that retrying cannot fix: a supervisor stops reconnecting on these. */
const FATAL_CODES: ReadonlySet<FwdErrorCode> = new Set<FwdErrorCode>([
  'CONFIG_INVALID',
  'AUTH_FAILED',
  'HOST_KEY_UNKNOWN',
  'HOST_KEY_CHANGED',
  'HOST_KEY_REVOKED',
  'BIND_DENIED',
  'RELAY_UNAUTHORIZED',
  'RELAY_TARGET_DENIED',
  'TLS_FAILED',
  'ABORTED',
]);

/**
 * Every error fwd raises. `message` says what happened and what to do; it never contains
 * secrets (passwords, passphrases, tokens, keys).
 *
 * @example
 * try { await connect(opts) } catch (e) { if (e instanceof FwdError && e.code === 'AUTH_FAILED') ... }
 */
export class FwdError extends Error {
  readonly code: FwdErrorCode;
  override readonly name = 'FwdError';

  constructor(code: FwdErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** True when retrying the same operation cannot succeed (auth, host keys, config). */
  get fatal(): boolean {
    return FATAL_CODES.has(this.code);
  }
}

export function isFwdError(value: unknown): value is FwdError {
  return value instanceof FwdError;
}

/**
 * The error for an operation `what` stopped by `signal`: the signal's own reason when it is a
 * FwdError (a deadline says CONNECT_TIMEOUT this way), CONNECT_TIMEOUT for a DOM TimeoutError,
 * else ABORTED.
 */
export function abortError(signal: AbortSignal | undefined, what: string): FwdError {
  const reason: unknown = signal?.reason;
  if (reason instanceof FwdError) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new FwdError('CONNECT_TIMEOUT', `${what}: timed out`, { cause: reason });
  }
  return new FwdError('ABORTED', `${what}: aborted`, { cause: reason });
}

/**
 * `err` as a FwdError: itself when it is one, else wrapped with `fallbackCode` and its message.
 * For errors that have no better translation (error-translation.ts has the specific ones).
 *
 * @example catch (err) { throw asFwdError(err, 'COMMAND_FAILED') }
 */
export function asFwdError(err: unknown, fallbackCode: FwdErrorCode): FwdError {
  if (err instanceof FwdError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new FwdError(fallbackCode, message, { cause: err });
}
