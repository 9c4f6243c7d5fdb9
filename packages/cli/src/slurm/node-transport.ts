import type { Duplex } from 'node:stream';
import { FwdError, type SshSession, type TcpAddress, type Transport, tcpTransport } from '@fwd/core';

/** The login side of a hop into a node: its name and its live session. */
export interface LoginHop {
  readonly name: string;
  acquire(signal: AbortSignal): Promise<SshSession>;
}

/** A node's sshd closed the connection while we logged in: pam_slurm_adopt or the like said no. */
export class NodeRefusedError extends FwdError {
  readonly node: string;

  constructor(node: string, from: string) {
    super(
      'CONNECT_FAILED',
      `SSH into ${node} was refused: it closed the connection while logging in (from ${from}). ${refusalHint(node, from)}`,
    );
    this.node = node;
  }
}

/** Why a node refuses SSH, and what to try: one sentence, shared by every refusal message. */
export function refusalHint(node: string, from: string): string {
  return (
    `Clusters allow SSH into a compute node only while you have a running job there (pam_slurm_adopt), ` +
    `and some not at all: check with \`ssh ${node}\` on ${from}, or use via: login`
  );
}

export interface NodeTransport {
  readonly transport: Transport;
  /** Call when a session came up over the latest stream: its end is then a normal close, not a refusal. */
  established(): void;
}

/**
 * How a session reaches `node:22`: a channel of the login session (ProxyJump), or plain TCP when
 * fwd runs on the login node. A stream that ends before the session is up becomes a
 * {@link NodeRefusedError}: that is how pam_slurm_adopt's refusal looks from here (sshd sends a
 * banner, then closes). A channel's EOF is answered with ours, so ssh2 sees the close at once
 * instead of waiting out its handshake timeout on a half-open channel.
 */
export function nodeTransport(node: string, login: LoginHop | undefined): NodeTransport {
  const endpoint: TcpAddress = { host: node, port: 22 };
  const from = login ? login.name : 'this machine';
  const direct = tcpTransport(endpoint);
  let latest: { established: boolean } | undefined;
  const transport: Transport = {
    description: login ? `jump ${login.name} → ${node}:22` : direct.description,
    endpoint,
    async connect(signal) {
      const stream = login ? await channelTo(login, endpoint, signal) : await direct.connect(signal);
      const state = { established: false };
      latest = state;
      stream.once('end', () => {
        if (state.established) {
          stream.end();
          return;
        }
        // Emitted by hand: an ssh2 channel's destroy() takes no error. ssh2 listens, and fails the login with it.
        if (stream.listenerCount('error') > 0) stream.emit('error', new NodeRefusedError(node, from));
        stream.destroy();
      });
      return stream;
    },
  };
  return {
    transport,
    established: () => {
      if (latest) latest.established = true;
    },
  };
}

async function channelTo(login: LoginHop, target: TcpAddress, signal: AbortSignal): Promise<Duplex> {
  const where = `${target.host}:${target.port}`;
  const session = await login.acquire(signal);
  let channel: Duplex;
  try {
    channel = await session.openChannel(target);
  } catch (err) {
    if (err instanceof FwdError && err.code === 'CHANNEL_REFUSED') {
      throw new FwdError('CONNECT_FAILED', `${login.name} cannot reach ${where}: ${err.message}`, {
        cause: err,
      });
    }
    throw err;
  }
  if (signal.aborted) {
    channel.destroy();
    // A handshake deadline is a timeout (retried); only a real stop is ABORTED (final).
    const timedOut = signal.reason instanceof Error && signal.reason.name === 'TimeoutError';
    throw new FwdError(
      timedOut ? 'CONNECT_TIMEOUT' : 'ABORTED',
      `jump to ${where}: ${timedOut ? 'timed out' : 'aborted'}`,
    );
  }
  return channel;
}
