// Reaches login:22 through the relay and runs a command: what `fwd up` does for a host with
// `transport: { type: websocket, url, token }`. The host key is checked for login:22.
// Usage: FWD_RELAY_TOKEN=... node example-client.mjs ws://127.0.0.1:PORT/ssh KEY_FILE KNOWN_HOSTS
import { readFile } from 'node:fs/promises';
import { connect, knownHosts } from '@fwd/core';
import { websocketTransport } from '@fwd/ws-transport';

const [url, keyFile, knownHostsFile] = process.argv.slice(2);
if (!url || !keyFile || !knownHostsFile || !process.env.FWD_RELAY_TOKEN) {
  console.error('usage: FWD_RELAY_TOKEN=... node example-client.mjs URL KEY_FILE KNOWN_HOSTS');
  process.exit(2);
}
const transport = websocketTransport({
  url,
  token: process.env.FWD_RELAY_TOKEN,
  target: { host: 'login', port: 22 },
});
const ssh = await connect({
  transport,
  username: 'alice',
  privateKey: await readFile(keyFile, 'utf8'),
  hostKeys: knownHosts({ files: [knownHostsFile], globalFiles: [] }),
});
try {
  const result = await ssh.exec('echo "$(whoami)@$(hostname): hello through the relay"');
  console.log(`${transport.description}: ${result.stdout.trim()}`);
} finally {
  await ssh.close();
}
