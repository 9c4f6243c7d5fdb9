import { createRequire } from 'node:module';
import './ssh2-adapter.js';

// ssh2 1.17 writes a publickey login's signature under the key's algorithm name; for a
// certificate that is the certificate type, which OpenSSH refuses (it wants "ssh-ed25519", not
// "ssh-ed25519-cert-v01@openssh.com"). patches/ssh2+1.17.0+001+user-certificates.patch names the
// base algorithm instead: the only change to ssh2 that certificate logins need.

const require = createRequire(import.meta.url);

let supported: boolean | undefined;

/** Whether the loaded ssh2 carries fwd's user-certificates patch (npm ci applies it). */
export function certificatesSupported(): boolean {
  if (supported === undefined) {
    const Protocol = require('ssh2/lib/protocol/Protocol.js') as {
      prototype: { authPK: (...args: unknown[]) => unknown };
    };
    supported = Protocol.prototype.authPK.toString().includes('-cert-v01@openssh');
  }
  return supported;
}
