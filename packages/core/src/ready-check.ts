import type { Duplex } from 'node:stream';
import { FwdError } from './errors.js';

/** When a tunnel counts as up: the target accepts a connection, or answers HTTP on `path`. */
export type ReadyCheck = { readonly kind: 'tcp' } | { readonly kind: 'http'; readonly path: string };

const CHECK_TIMEOUT_MS = 5_000;

/**
 * One readiness attempt through a freshly opened channel. The channel opening at all proves a
 * TCP listener (sshd confirms only after its connect succeeded); for HTTP, any status below 500
 * proves the app answers. Rejects with a FwdError saying what was seen.
 */
export async function checkReadyOnce(
  open: () => Promise<Duplex>,
  check: ReadyCheck,
  what: string,
): Promise<void> {
  const channel = await open();
  if (check.kind === 'tcp') {
    channel.destroy();
    return;
  }
  try {
    const status = await firstStatusLine(channel, check.path, what);
    if (status >= 500)
      throw new FwdError('CHANNEL_REFUSED', `${what} answered HTTP ${status} on ${check.path}`);
  } finally {
    channel.destroy();
  }
}

function firstStatusLine(channel: Duplex, path: string, what: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let head = '';
    const timer = setTimeout(
      () => finish(new FwdError('CONNECT_TIMEOUT', `${what} did not answer HTTP within 5 s`)),
      CHECK_TIMEOUT_MS,
    );
    const finish = (result: number | FwdError): void => {
      clearTimeout(timer);
      channel.off('data', onData);
      if (typeof result === 'number') resolve(result);
      else reject(result);
    };
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n');
      if (end === -1 && head.length < 4096) return;
      const match = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(head);
      finish(match?.[1] ? Number(match[1]) : new FwdError('CHANNEL_REFUSED', `${what} did not answer HTTP`));
    };
    channel.on('data', onData);
    channel.once('end', () =>
      finish(new FwdError('CHANNEL_REFUSED', `${what} closed the connection without an HTTP answer`)),
    );
    channel.once('error', (err: Error) =>
      finish(new FwdError('CHANNEL_REFUSED', `${what}: ${err.message}`, { cause: err })),
    );
    channel.write(
      `GET ${path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: fwd-ready-check\r\nConnection: close\r\n\r\n`,
    );
  });
}
