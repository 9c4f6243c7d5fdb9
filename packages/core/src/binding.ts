import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * Whether ssh2's native crypto binding is loaded. Without it AES-GCM runs in JS and throughput
 * drops more than tenfold, so the CLI warns and a test asserts it.
 */
export function nativeCryptoAvailable(): boolean {
  const crypto = require('ssh2/lib/protocol/crypto.js') as { bindingAvailable?: boolean };
  return crypto.bindingAvailable === true;
}
