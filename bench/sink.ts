// The far end of every tunnel: a sink, source and echo server in one. The first byte of a
// connection says what it wants:
//   'U' upload   — bytes follow until the client's EOF; only then the reply: u64 count, u8 ok,
//                  u64 offset of the first wrong byte. A tunnel that loses half-close never
//                  delivers the EOF, so the client never sees the reply: it fails, loudly.
//   'D' download — u64 length follows; the server sends that many pattern bytes, then EOF.
//   'E' echo     — everything, the 'E' included, comes back; EOF ends the echo.
import { createServer, type Server, type Socket } from 'node:net';
import { PatternCheck, patternSlice } from './pattern.js';

export const CMD_UPLOAD = 0x55;
export const CMD_DOWNLOAD = 0x44;
export const CMD_ECHO = 0x45;
export const UPLOAD_REPLY_BYTES = 17;
const SEND_CHUNK = 256 * 1024;

export function createSink(): Server {
  // allowHalfOpen: after the client's EOF we still answer (upload reply, rest of the echo).
  const server = createServer({ allowHalfOpen: true, noDelay: true }, serve);
  server.maxConnections = 100_000;
  return server;
}

function serve(socket: Socket): void {
  socket.on('error', () => {}); // clients destroy connections on purpose
  let head: Buffer = Buffer.alloc(0);
  const onHead = (chunk: Buffer): void => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    const cmd = head[0];
    if (cmd === CMD_DOWNLOAD && head.length < 9) return; // the length may arrive split
    socket.off('data', onHead);
    socket.off('end', onEmpty);
    if (cmd === CMD_UPLOAD) upload(socket, head.subarray(1));
    else if (cmd === CMD_DOWNLOAD) download(socket, Number(head.readBigUInt64BE(1)));
    else {
      socket.write(head);
      socket.pipe(socket);
    }
  };
  const onEmpty = (): void => void socket.end(); // a connection that sent nothing
  socket.on('data', onHead);
  socket.on('end', onEmpty);
}

function upload(socket: Socket, first: Buffer): void {
  const check = new PatternCheck();
  check.feed(first);
  socket.on('data', (chunk: Buffer) => check.feed(chunk));
  socket.on('end', () => {
    const reply = Buffer.alloc(UPLOAD_REPLY_BYTES);
    reply.writeBigUInt64BE(BigInt(check.received), 0);
    reply.writeUInt8(check.ok ? 1 : 0, 8);
    reply.writeBigInt64BE(BigInt(check.firstBad), 9);
    socket.end(reply);
  });
}

function download(socket: Socket, length: number): void {
  socket.resume(); // nothing more is expected, but the client's EOF must still be read
  let sent = 0;
  const pump = (): void => {
    while (sent < length) {
      const n = Math.min(SEND_CHUNK, length - sent);
      const more = socket.write(patternSlice(sent, n));
      sent += n;
      if (!more) {
        socket.once('drain', pump);
        return;
      }
    }
    socket.end();
  };
  pump();
}
