import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeHostKeys } from './node-host-keys.js';

/** A fresh ed25519 public key blob, as SSH sends it. */
function newKey(): Buffer {
  const string = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return Buffer.concat([string(Buffer.from('ssh-ed25519')), string(randomBytes(32))]);
}
const line = (names: string, key: Buffer) => `${names} ssh-ed25519 ${key.toString('base64')}\n`;

let dir: string;
let userFile: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fwd-node-keys-'));
  userFile = join(dir, 'known_hosts');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function keys(clusterList: string | Error, mode: 'strict' | 'accept-new' = 'strict') {
  let reads = 0;
  const policy = nodeHostKeys({
    mode,
    files: [userFile],
    cluster: {
      where: 'login',
      read: async () => {
        reads++;
        if (clusterList instanceof Error) throw clusterList;
        return clusterList;
      },
    },
  });
  return { policy, reads: () => reads };
}

describe('nodeHostKeys', () => {
  it("trusts a node the cluster's list knows, reading the list once", async () => {
    const node1 = newKey();
    const { policy, reads } = keys(`${line('login', newKey())}${line('node1,10.0.0.11', node1)}`);
    await policy.verify('node1', 22, node1);
    await policy.verify('node1', 22, node1);
    expect(await policy.knownKeyTypes('node1', 22)).toEqual(['ssh-ed25519']);
    expect(reads()).toBe(1);
    await policy.close();
  });

  it("trusts a node the user's own files know, and accepts either list's key (as OpenSSH does)", async () => {
    const [mine, listed] = [newKey(), newKey()];
    await writeFile(userFile, line('node1', mine));
    const { policy } = keys(line('node2', listed));
    await policy.verify('node1', 22, mine);
    await writeFile(userFile, line('node2', newKey()));
    await policy.verify('node2', 22, listed);
    await policy.close();
  });

  it("refuses a key that differs from the cluster's list, naming the node and the list", async () => {
    const { policy } = keys(line('node1', newKey()));
    await expect(policy.verify('node1', 22, newKey())).rejects.toMatchObject({
      code: 'HOST_KEY_CHANGED',
      message: expect.stringMatching(
        /^host key of node node1 \(now ssh-ed25519 SHA256:\S+\) does not match the one in login:\/etc\/ssh\/ssh_known_hosts — possible attack/,
      ),
    });
    await policy.close();
  });

  it('refuses a key revoked in the cluster list even if the user trusts it', async () => {
    const key = newKey();
    await writeFile(userFile, line('node1', key));
    const { policy } = keys(`@revoked ${line('*', key)}`);
    await expect(policy.verify('node1', 22, key)).rejects.toMatchObject({ code: 'HOST_KEY_REVOKED' });
    await policy.close();
  });

  it('refuses an unknown node when strict, and records it with accept-new', async () => {
    const key = newKey();
    const strict = keys(line('node2', newKey()));
    await expect(strict.policy.verify('node1', 22, key)).rejects.toMatchObject({
      code: 'HOST_KEY_UNKNOWN',
      message: expect.stringContaining('host key of node node1 is not known (ssh-ed25519 SHA256:'),
    });
    await expect(strict.policy.verify('node1', 22, key)).rejects.toThrow(
      /neither in your known_hosts files nor in login:\/etc\/ssh\/ssh_known_hosts; ask the cluster's admins/,
    );
    const lenient = keys('', 'accept-new');
    await lenient.policy.verify('node1', 22, key);
    expect(await readFile(userFile, 'utf8')).toBe(line('node1', key));
    await Promise.all([strict.policy.close(), lenient.policy.close()]);
  });

  it('says so when the cluster list could not be read, and tries again next time', async () => {
    const { policy, reads } = keys(new Error('session closed'));
    await expect(policy.verify('node1', 22, newKey())).rejects.toThrow(/\(which could not be read\)/);
    await expect(policy.verify('node1', 22, newKey())).rejects.toThrow(/could not be read/);
    expect(reads()).toBeGreaterThanOrEqual(2);
    await policy.close();
  });

  it('without a cluster list (fwd on the login node) is the plain known_hosts check', async () => {
    const key = newKey();
    const policy = nodeHostKeys({ mode: 'strict', files: [userFile] });
    await expect(policy.verify('node1', 22, key)).rejects.toMatchObject({ code: 'HOST_KEY_UNKNOWN' });
    await writeFile(userFile, line('node1', key));
    await policy.verify('node1', 22, key);
    await policy.close();
  });
});
