import ssh2 from 'ssh2';

export interface KeyPair {
  /** OpenSSH private key text. */
  readonly privateKey: string;
  /** "ssh-ed25519 AAAA..." */
  readonly publicKey: string;
}

/**
 * A fresh ed25519 key pair, made at test time: no key material is committed.
 *
 * ssh2 1.17's generateKeyPairSync writes a malformed key about once in 250 (a 31-byte public key
 * when it starts with a zero byte: measured 11-16 in 3000); such a key fails to parse, in fwd
 * and in OpenSSH alike, so generate again until it parses.
 */
export function newKeyPair(passphrase?: string): KeyPair {
  for (;;) {
    const pair = passphrase
      ? ssh2.utils.generateKeyPairSync('ed25519', { passphrase, cipher: 'aes256-ctr', rounds: 4 })
      : ssh2.utils.generateKeyPairSync('ed25519');
    if (!(ssh2.utils.parseKey(pair.private, passphrase) instanceof Error)) {
      return { privateKey: pair.private, publicKey: pair.public.trim() };
    }
  }
}
