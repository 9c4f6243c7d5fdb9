// The websocket row's relay: @fwd/ws-transport's startRelay in a process of its own.
//   node bench/.build/candidates/ws-relay.js --listen 127.0.0.1:PORT --allow 127.0.0.1:SSHPORT --token T
import { parseArgs } from 'node:util';
import { parseHostPort, type TcpAddress } from '@fwd/core';
import { startRelay } from '@fwd/ws-transport';

const { values } = parseArgs({
  options: { listen: { type: 'string' }, allow: { type: 'string' }, token: { type: 'string' } },
});
const hostPort = (text: string | undefined): TcpAddress => {
  const parsed = parseHostPort(text ?? '');
  if (!parsed) throw new Error(`expected host:port, got ${text}`);
  return parsed;
};
const target = hostPort(values.allow);
await startRelay({
  listen: hostPort(values.listen),
  allow: [target],
  defaultTarget: target,
  tokens: values.token === undefined ? [] : [values.token],
});
console.log('ready');
process.once('SIGTERM', () => process.exit(0));
