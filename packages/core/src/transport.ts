import type { Duplex } from 'node:stream';

/**
 * Something that yields a byte stream carrying SSH: a TCP socket, a channel of another SSH
 * session (ProxyJump), a websocket through a relay.
 *
 * @example
 * const t: Transport = tcpTransport({ host: 'login.example.edu', port: 22 });
 * const stream = await t.connect(AbortSignal.timeout(10_000));
 */
export interface Transport {
  /** For messages and logs: "tcp login:22", "jump login:22 → node17:22", "ws wss://relay/ssh". */
  readonly description: string;
  /**
   * The SSH server this transport finally reaches, as known_hosts names it. Host keys are
   * checked against this, never against a relay or jump host in between.
   */
  readonly endpoint?: { readonly host: string; readonly port: number };
  /**
   * False when a bare connect is not cheap or harmless (a ProxyCommand may prompt, start a cloud
   * session...): fwd then never connects just to see whether the server answers again. Default true.
   */
  readonly probe?: boolean;
  /** Resolves with a connected stream, or rejects with a FwdError (ABORTED when `signal` fires). */
  connect(signal: AbortSignal): Promise<Duplex>;
}
