// Entry point of the sink child process: listens on a free port and prints it.
import type { AddressInfo } from 'node:net';
import { createSink } from './sink.js';

const server = createSink();
server.on('error', (err) => {
  console.error(`sink: ${err.message}`);
  process.exit(1);
});
server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
  console.log(`listening ${(server.address() as AddressInfo).port}`);
});
process.once('SIGTERM', () => process.exit(0));
