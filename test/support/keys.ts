import ssh2 from 'ssh2';

export interface KeyPair {
  /** OpenSSH private key text. */
  readonly privateKey: string;
  /** "ssh-ed25519 AAAA..." */
  readonly publicKey: string;
}

/** A fresh ed25519 key pair, made at test time: no key material is committed. */
export function newKeyPair(passphrase?: string): KeyPair {
  const pair = passphrase
    ? ssh2.utils.generateKeyPairSync('ed25519', { passphrase, cipher: 'aes256-ctr', rounds: 4 })
    : ssh2.utils.generateKeyPairSync('ed25519');
  return { privateKey: pair.private, publicKey: pair.public.trim() };
}
