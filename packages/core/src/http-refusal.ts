import type { Socket } from 'node:net';
import type { FwdError } from './errors.js';

// An HTTP/1 request line, as a browser or curl sends it first; anything else (TLS, a database
// protocol, HTTP/2 prior knowledge) is not answered in HTTP.
const REQUEST_LINE = /^(?:GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH) \S+ HTTP\/1\.[01]\r?\n/;

// The listener reads nothing before a connection is carried, so a request the client already sent
// still waits in the kernel: one read brings it. A client that sent nothing by then is reset.
const FIRST_BYTES_MS = 100;

/** How long a refused HTTP client may take to close after our answer, before it is dropped. */
const LINGER_MS = 5_000;

/**
 * Refuses a `-L` connection fwd will not carry (the tunnel failed while it waited, it waited too
 * long, the server would not open the target), telling an HTTP client why: when the client's
 * first bytes are an HTTP/1 request, the answer is a 503 whose body is the reason, so a browser
 * shows it instead of "connection reset". Any other client is reset, as before. Always takes the
 * socket over and closes it (returns true: the caller must not reset it).
 */
export function refuseTellingHttp(socket: Socket, error: FwdError): true {
  if (socket.destroyed) return true;
  // The caller's early-error guard goes once we return: a client reset must not crash fwd.
  socket.on('error', () => socket.destroy());
  const reset = (): void => {
    clearTimeout(timer);
    socket.off('data', onFirst);
    if (!socket.destroyed) socket.resetAndDestroy();
  };
  const onFirst = (head: Buffer): void => {
    clearTimeout(timer);
    socket.off('end', reset);
    if (REQUEST_LINE.test(head.subarray(0, 1024).toString('latin1'))) answer503(socket, head, error);
    else reset();
  };
  const timer = setTimeout(reset, FIRST_BYTES_MS);
  socket.once('data', onFirst);
  socket.once('end', reset);
  socket.resume();
  return true;
}

function answer503(socket: Socket, head: Buffer, error: FwdError): void {
  const body = `fwd: ${error.message} (${error.code})\n`;
  const headOnly = head.subarray(0, 5).toString('latin1') === 'HEAD ';
  socket.end(
    'HTTP/1.1 503 Service Unavailable\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Cache-Control: no-store\r\n' +
      'Connection: close\r\n\r\n' +
      (headOnly ? '' : body),
  );
  // Read (and drop) the rest of the request: closing with unread bytes would send a reset, which
  // can reach the browser before it has read the answer. Then close once the client has.
  socket.on('data', () => undefined);
  socket.once('end', () => socket.destroy());
  const linger = setTimeout(() => socket.destroy(), LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
}
