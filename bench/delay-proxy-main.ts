// Entry point of the long-path proxy child: `LISTEN_PORT TARGET_PORT RTT_MS` on 127.0.0.1. Its own
// process, so the delay timers do not share an event loop with the load generator.
import { startDelayProxy } from '../test/support/delay-proxy.js';

const [listen, target, rtt] = process.argv.slice(2).map(Number);
if (listen === undefined || !target || rtt === undefined || !(rtt >= 0)) {
  console.error('usage: delay-proxy-main.ts LISTEN_PORT TARGET_PORT RTT_MS');
  process.exit(2);
}
await startDelayProxy({ host: '127.0.0.1', port: target }, rtt, listen);
console.log(`listening ${listen}`);
process.once('SIGTERM', () => process.exit(0));
