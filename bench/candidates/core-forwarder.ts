// Stand-in candidate until the fwd CLI exists: `-L` through @fwd/core, with the CLI's one-off
// syntax (a subset), so the bench's candidate template stays the same when the CLI drops in.
//   node bench/.build/candidates/core-forwarder.js -L 127.0.0.1:LPORT:HOST:PORT -p SSHPORT -i KEY
//        [-o Ciphers=C] [--known-hosts FILE] [--ws URL --token T] USER@HOST
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  connect,
  formatEndpoint,
  knownHosts,
  nativeCryptoAvailable,
  type Transport,
  tcpTransport,
} from '@fwd/core';
import type { CipherAlgorithm } from 'ssh2';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    L: { type: 'string', short: 'L' },
    p: { type: 'string', short: 'p', default: '22' },
    i: { type: 'string', short: 'i' },
    o: { type: 'string', short: 'o', multiple: true, default: [] },
    'known-hosts': { type: 'string' },
    ws: { type: 'string' },
    token: { type: 'string' },
  },
});
const [destination] = positionals;
const forward = /^(?:(.+):)?(\d+):(.+):(\d+)$/.exec(values.L ?? '');
const at = destination?.lastIndexOf('@') ?? -1;
if (!forward || destination === undefined || at < 1 || values.i === undefined) {
  console.error('usage: core-forwarder -L [bind:]port:host:hostport -p PORT -i KEY USER@HOST');
  process.exit(2);
}
const [, bindHost = '127.0.0.1', bindPort = '0', targetHost = '', targetPort = '0'] = forward;
const host = destination.slice(at + 1);
const port = Number(values.p);
const ciphers = values.o.flatMap((o) =>
  /^Ciphers=/i.test(o) ? (o.slice(8).split(',') as CipherAlgorithm[]) : [],
);

// The websocket row's transport; loaded only when asked, so a TCP run carries none of its modules.
async function wsTransport(url: string, token: string | undefined): Promise<Transport> {
  const { websocketTransport } = await import('@fwd/ws-transport');
  return websocketTransport({
    url,
    target: { host, port },
    agent: false,
    ...(token === undefined ? {} : { token }),
  });
}

const session = await connect({
  transport:
    values.ws === undefined ? tcpTransport({ host, port }) : await wsTransport(values.ws, values.token),
  username: destination.slice(0, at),
  privateKey: readFileSync(values.i),
  hostKeys: knownHosts({
    files: [values['known-hosts'] ?? join(homedir(), '.ssh', 'known_hosts')],
    globalFiles: [],
  }),
  ...(ciphers.length > 0 ? { algorithms: { cipher: ciphers } } : {}),
});
const listener = await session.forwardLocal({
  bind: { host: bindHost, port: Number(bindPort) },
  target: { host: targetHost, port: Number(targetPort) },
});
console.log(`ready ${formatEndpoint(listener.address)} native-crypto=${nativeCryptoAvailable()}`);
const stop = (): void => void session.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
