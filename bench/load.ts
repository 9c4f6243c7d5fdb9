// The load generator: clients that drive one forwarder's local port against the sink (sink.ts).
// Every byte is checked against the pattern; anything wrong throws CorrectnessError, which the
// bench reports as a failure instead of a number.
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { patternSlice } from './pattern.js';
import { CMD_DOWNLOAD, CMD_ECHO, CMD_UPLOAD, UPLOAD_REPLY_BYTES } from './sink.js';

/** The tunnel lost, changed or reordered bytes, or lost a half-close: not a performance problem. */
export class CorrectnessError extends Error {
  override name = 'CorrectnessError';
}

const HOST = '127.0.0.1';
const WRITE_CHUNK = 256 * 1024;

export interface Transfer {
  readonly bytes: number;
  readonly seconds: number;
}

function open(port: number): Socket {
  return connect({ host: HOST, port, noDelay: true });
}

const since = (t0: number): number => (performance.now() - t0) / 1000;

/** Sends `bytes` pattern bytes, half-closes, and requires the sink's count (sent after our EOF). */
export function upload(port: number, bytes: number, idleMs: number): Promise<Transfer> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const socket = open(port);
    const reply: Buffer[] = [];
    let sent = 0;
    let halfClosed = false;
    let settled = false;
    const settle = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (err) reject(err);
      else resolve({ bytes, seconds: since(t0) });
    };
    const pump = (): void => {
      while (sent < bytes) {
        const n = Math.min(WRITE_CHUNK, bytes - sent);
        const more = socket.write(patternSlice(sent, n));
        sent += n;
        if (!more) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.end(); // half-close: the sink replies only after it sees this EOF
    };
    socket.once('connect', () => {
      socket.write(Buffer.of(CMD_UPLOAD));
      pump();
    });
    socket.once('finish', () => {
      halfClosed = true;
    });
    socket.setTimeout(idleMs, () =>
      settle(
        new CorrectnessError(
          halfClosed
            ? `no reply ${idleMs / 1000} s after half-close: the tunnel did not carry our EOF (half-close lost)`
            : `upload stalled after ${sent} of ${bytes} bytes`,
        ),
      ),
    );
    socket.on('data', (chunk: Buffer) => reply.push(chunk));
    socket.once('end', () => settle(checkUploadReply(Buffer.concat(reply), bytes, halfClosed)));
    socket.once('close', () =>
      settle(
        new CorrectnessError(
          halfClosed
            ? 'connection closed after our half-close without the sink’s reply (half-close lost)'
            : `connection closed after ${sent} of ${bytes} bytes`,
        ),
      ),
    );
    socket.on('error', (err: NodeJS.ErrnoException) =>
      settle(new CorrectnessError(`upload: ${err.code ?? err.message} after ${sent} of ${bytes} bytes`)),
    );
  });
}

function checkUploadReply(reply: Buffer, bytes: number, halfClosed: boolean): Error | undefined {
  if (reply.length !== UPLOAD_REPLY_BYTES) {
    return new CorrectnessError(
      `upload: got ${reply.length} reply bytes instead of ${UPLOAD_REPLY_BYTES}` +
        (halfClosed ? ' (half-close lost or reply cut)' : ' before our EOF'),
    );
  }
  const counted = Number(reply.readBigUInt64BE(0));
  if (reply.readUInt8(8) !== 1) {
    return new CorrectnessError(`upload: the sink saw a wrong byte at offset ${reply.readBigInt64BE(9)}`);
  }
  if (counted !== bytes) return new CorrectnessError(`upload: the sink counted ${counted} of ${bytes} bytes`);
  return undefined;
}

/** Asks for `bytes`, half-closes at once (the download must go on), checks every byte and the EOF. */
export function download(port: number, bytes: number, idleMs: number): Promise<Transfer> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const socket = open(port);
    let received = 0;
    let firstBad = -1;
    let seconds = 0;
    let settled = false;
    const settle = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (err) reject(err);
      else resolve({ bytes, seconds });
    };
    socket.once('connect', () => {
      const request = Buffer.alloc(9);
      request[0] = CMD_DOWNLOAD;
      request.writeBigUInt64BE(BigInt(bytes), 1);
      socket.end(request);
    });
    socket.setTimeout(idleMs, () =>
      settle(new CorrectnessError(`download stalled after ${received} of ${bytes} bytes`)),
    );
    socket.on('data', (chunk: Buffer) => {
      if (firstBad < 0 && received + chunk.length <= bytes) {
        const i = mismatch(chunk, received);
        if (i >= 0) firstBad = received + i;
      }
      received += chunk.length;
    });
    socket.once('end', () => {
      seconds = since(t0);
      if (received !== bytes) {
        settle(
          new CorrectnessError(
            `download: EOF after ${received} of ${bytes} bytes (did our half-close end the whole connection?)`,
          ),
        );
      } else if (firstBad >= 0) settle(new CorrectnessError(`download: wrong byte at offset ${firstBad}`));
      else settle(undefined);
    });
    socket.once('close', () =>
      settle(
        new CorrectnessError(`download: connection closed without EOF after ${received} of ${bytes} bytes`),
      ),
    );
    socket.on('error', (err: NodeJS.ErrnoException) =>
      settle(
        new CorrectnessError(`download: ${err.code ?? err.message} after ${received} of ${bytes} bytes`),
      ),
    );
  });
}

/** Index of the first byte of `chunk` that differs from the pattern at `offset`, or -1. */
function mismatch(chunk: Buffer, offset: number): number {
  for (let at = 0; at < chunk.length; ) {
    const n = Math.min(chunk.length - at, WRITE_CHUNK);
    const got = chunk.subarray(at, at + n);
    const want = patternSlice(offset + at, n);
    if (!got.equals(want)) {
      let i = 0;
      while (got[i] === want[i]) i++;
      return at + i;
    }
    at += n;
  }
  return -1;
}

/** An echo payload: 'E' then pattern bytes, `bytes` in all. */
export function echoPayload(bytes: number): Buffer {
  const payload = Buffer.alloc(bytes);
  patternSlice(0, bytes).copy(payload);
  payload[0] = CMD_ECHO;
  return payload;
}

/**
 * Connects, sends `payload`, and resolves with the still-open socket once the whole payload came
 * back. Rejects with CorrectnessError if a byte differs, with an Error for anything else.
 */
export function echoOnce(port: number, payload: Buffer, idleMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = open(port);
    let received = 0;
    let settled = false;
    const settle = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      socket.setTimeout(0);
      socket.removeListener('data', onData);
      if (err) {
        socket.destroy();
        reject(err);
      } else resolve(socket);
    };
    const onData = (chunk: Buffer): void => {
      const want = payload.subarray(received, received + chunk.length);
      if (chunk.length > want.length || !chunk.equals(want)) {
        settle(new CorrectnessError(`echo: wrong bytes at offset ${received} of ${payload.length}`));
        return;
      }
      received += chunk.length;
      if (received === payload.length) settle(undefined);
    };
    socket.once('connect', () => socket.write(payload));
    socket.on('data', onData);
    socket.setTimeout(idleMs, () =>
      settle(new Error(`timeout after ${received} of ${payload.length} bytes`)),
    );
    socket.on('error', (err: NodeJS.ErrnoException) => settle(new Error(err.code ?? err.message)));
    socket.once('close', () => settle(new Error(`closed after ${received} of ${payload.length} bytes`)));
  });
}

export interface ConnectionRun {
  /** Connections that completed their echo. */
  readonly connections: number;
  readonly errors: number;
  readonly firstError: string | undefined;
  readonly seconds: number;
}

export interface Sequential extends ConnectionRun {
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * Up to `max` sequential connections (stopping after `maxSeconds`), each connect + 1-byte echo,
 * then dropped: the connect path's latency and rate.
 */
export async function sequential(
  port: number,
  max: number,
  maxSeconds: number,
  idleMs: number,
): Promise<Sequential> {
  const payload = echoPayload(1);
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  for (let i = 0; i < max && since(t0) < maxSeconds; i++) {
    const t = performance.now();
    try {
      (await echoOnce(port, payload, idleMs)).destroy();
      latencies.push(performance.now() - t);
    } catch (err) {
      if (err instanceof CorrectnessError) throw err;
      errors++;
      firstError ??= (err as Error).message;
    }
  }
  const seconds = since(t0);
  latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0;
  return { connections: latencies.length, errors, firstError, seconds, p50Ms: at(0.5), p99Ms: at(0.99) };
}

/** `count` connections at once, each echoing `bytes`: wall time until the last one is done. */
export async function parallel(
  port: number,
  count: number,
  bytes: number,
  idleMs: number,
): Promise<ConnectionRun> {
  const payload = echoPayload(bytes);
  const t0 = performance.now();
  const results = await Promise.allSettled(
    Array.from({ length: count }, async () => (await echoOnce(port, payload, idleMs)).destroy()),
  );
  return tally(results, since(t0));
}

function tally(results: PromiseSettledResult<unknown>[], seconds: number): ConnectionRun {
  let errors = 0;
  let firstError: string | undefined;
  for (const r of results) {
    if (r.status === 'fulfilled') continue;
    if (r.reason instanceof CorrectnessError) throw r.reason;
    errors++;
    firstError ??= (r.reason as Error).message;
  }
  return { connections: results.length - errors, errors, firstError, seconds };
}

/** Runs `task` `total` times with at most `concurrency` at once. */
async function pool<T>(
  total: number,
  concurrency: number,
  task: () => Promise<T>,
): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      next++;
      try {
        results.push({ status: 'fulfilled', value: await task() });
      } catch (reason) {
        results.push({ status: 'rejected', reason });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return results;
}

export interface IdleHold extends ConnectionRun {
  /** Ends every held connection and waits for them to close. */
  release(): Promise<void>;
}

/** Opens `count` connections (at most `concurrency` connecting at once), echoes once, keeps them open. */
export async function holdIdle(
  port: number,
  count: number,
  concurrency: number,
  idleMs: number,
): Promise<IdleHold> {
  const payload = echoPayload(1);
  const sockets: Socket[] = [];
  const t0 = performance.now();
  const results = await pool(count, concurrency, async () => {
    sockets.push(await echoOnce(port, payload, idleMs));
  });
  const run = tally(results, since(t0));
  return {
    ...run,
    async release() {
      await Promise.all(sockets.map((s) => closeGracefully(s, idleMs)));
    },
  };
}

/** `total` connections, `concurrency` at a time, each: connect, echo, close, wait for the close. */
export async function churn(
  port: number,
  total: number,
  concurrency: number,
  idleMs: number,
): Promise<ConnectionRun> {
  const payload = echoPayload(1);
  const t0 = performance.now();
  const results = await pool(total, concurrency, async () => {
    await closeGracefully(await echoOnce(port, payload, idleMs), idleMs);
  });
  return tally(results, since(t0));
}

/** end(), then wait for the peer's EOF and the close; destroy if that takes longer than `idleMs`. */
async function closeGracefully(socket: Socket, idleMs: number): Promise<void> {
  if (socket.destroyed) return;
  socket.on('error', () => {});
  socket.resume();
  socket.setTimeout(idleMs, () => socket.destroy());
  const closed = once(socket, 'close');
  socket.end();
  await closed;
}
