import { readFile } from 'node:fs/promises';
import { type CertificateSource, FwdError, type PrivateKeySource } from '@fwd/core';
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
