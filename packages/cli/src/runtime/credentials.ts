import { readFile } from 'node:fs/promises';
import { type CertificateSource, FwdError, type PrivateKeySource, parseCertificate } from '@fwd/core';
import type { PlanHop } from '../config/index.js';

export interface HopCredentials {
  privateKey: PrivateKeySource[];
  certificates: CertificateSource[];
}

/**
 * Reads the key and certificate files hops log in with, each file once however many hops name it.
 * As OpenSSH does (ssh.c load_public_identity_files): missing default keys are skipped; a
 * CertificateFile is used with the key it certifies; only when no CertificateFile is configured,
 * `<key>-cert.pub` next to each key is offered after that key.
 */
export class CredentialFiles {
  readonly #cache = new Map<string, Promise<Buffer | undefined>>();
  readonly #warn: (message: string) => void;

  constructor(warn: (message: string) => void) {
    this.#warn = warn;
  }

  async forHop(hop: PlanHop): Promise<HopCredentials> {
    const implicit = hop.certificateFiles.length === 0;
    const keys = await Promise.all(
      hop.identityFiles.map(async (file): Promise<PrivateKeySource | undefined> => {
        const key = await this.#read(file, 'identity file');
        if (key === undefined) return undefined;
        const cert = implicit ? await this.#read(`${file}-cert.pub`, 'certificate') : undefined;
        const certificate = cert && { certificate: cert, label: `${file}-cert.pub` };
        return { key, label: file, ...(certificate ? { certificate } : {}) };
      }),
    );
    const certificates = await Promise.all(
      hop.certificateFiles.map(async (file): Promise<CertificateSource | undefined> => {
        const certificate = await this.#read(file, 'certificate');
        if (certificate === undefined) this.#warn(`${hop.name}: certificate file ${file} does not exist`);
        return certificate && { certificate, label: file };
      }),
    );
    return {
      privateKey: keys.filter((k): k is PrivateKeySource => k !== undefined),
      certificates: certificates.filter((c): c is CertificateSource => c !== undefined),
    };
  }

  #read(file: string, what: string): Promise<Buffer | undefined> {
    let pending = this.#cache.get(file);
    if (!pending) {
      pending = readIfExists(file, what);
      this.#cache.set(file, pending);
    }
    return pending;
  }
}

async function readIfExists(file: string, what: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (err) {
    // OpenSSH skips default identity files (and certificates) that do not exist; so do we.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FwdError('CONFIG_INVALID', `cannot read ${what} ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * A hop's files read again at each login (a certificate renewed while fwd runs), falling back file
 * by file to the last good read: a renewal caught mid-write, a file briefly missing or a
 * certificate cut short, must not become a failed login.
 */
export function rereadCredentials(hop: PlanHop, first: HopCredentials): () => Promise<HopCredentials> {
  let last = first;
  return async () => {
    const now = await new CredentialFiles(() => undefined).forHop(hop).catch(() => last);
    last = {
      privateKey: hop.identityFiles.flatMap((file) => {
        const fresh = now.privateKey.find((k) => k.label === file);
        const before = last.privateKey.find((k) => k.label === file);
        if (!fresh) return before ? [before] : [];
        const certificate =
          fresh.certificate && usable(fresh.certificate) ? fresh.certificate : before?.certificate;
        const { certificate: _, ...key } = fresh;
        return [{ ...key, ...(certificate ? { certificate } : {}) }];
      }),
      certificates: hop.certificateFiles.flatMap((file) => {
        const fresh = now.certificates.find((c) => c.label === file);
        const kept = fresh && usable(fresh) ? fresh : last.certificates.find((c) => c.label === file);
        return kept ? [kept] : [];
      }),
    };
    return last;
  };
}

/** Whether a certificate file reads as one (expired or not: the login says so). */
function usable(source: CertificateSource): boolean {
  try {
    parseCertificate(source.certificate, source.label);
    return true;
  } catch {
    return false;
  }
}
