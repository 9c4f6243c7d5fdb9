import { FwdError } from './errors.js';
import { certificateProblem, type OpenSshCertificate, parseCertificate } from './openssh-certificate.js';

/** A private key's contents, and what to call it in prompts and messages (usually its path). */
export interface PrivateKeySource {
  readonly key: string | Buffer;
  readonly label: string;
  /**
   * The certificate found next to the key (`<key>-cert.pub`, OpenSSH's default), offered right
   * after the plain key.
   */
  readonly certificate?: CertificateSource;
}

/** An OpenSSH user certificate (`ssh-keygen -s` output) and what to call it (usually its path). */
export interface CertificateSource {
  readonly certificate: string | Buffer;
  readonly label: string;
}

/** How to log in, in OpenSSH's order; see `planSteps`. */
export type Step =
  | { method: 'none'; label: 'none' }
  | { method: 'agent'; label: 'agent' }
  | { method: 'publickey'; label: string; source: PrivateKeySource }
  | { method: 'certificate'; label: string; cert: OpenSshCertificate; source?: PrivateKeySource }
  | { method: 'keyboard-interactive'; label: 'keyboard-interactive' }
  | { method: 'password'; label: 'password' };

export interface StepsInput {
  privateKey?: string | Buffer | readonly PrivateKeySource[];
  certificates?: readonly CertificateSource[];
  agent?: string;
  keyboardInteractive?: unknown;
  password?: unknown;
  promptsUnavailable?: string;
}

/**
 * AUTH_FAILED before anything was sent: every certificate the user named is expired, not yet
 * valid or unreadable. A long-running connection retries it (the files are read again each
 * time, so a renewed certificate ends it); other AUTH_FAILED stay final.
 */
export class CertificateUnusableError extends FwdError {
  constructor(message: string) {
    super('AUTH_FAILED', message);
  }
}

export interface PlannedSteps {
  steps: Step[];
  /** The user's own certificates (CertificateFile), usable now: the agent may hold their keys. */
  certificates: OpenSshCertificate[];
  /** Certificates left out before connecting, and why (shown if the login fails). */
  skipped: string[];
}

export function keySources(key: StepsInput['privateKey']): readonly PrivateKeySource[] {
  if (key === undefined) return [];
  if (typeof key === 'string' || Buffer.isBuffer(key)) return [{ key, label: 'the given private key' }];
  return key;
}

/**
 * The methods to try, in OpenSSH's order (sshconnect2.c pubkey_prepare): the user's certificates,
 * the agent's keys, then each identity file followed by its `-cert.pub`; keyboard-interactive and
 * password last. Certificates are checked here, before any network traffic: one outside its
 * validity window is left out, and when every certificate the user named is unusable the login
 * fails at once with AUTH_FAILED naming the window: nothing else was meant to be tried, and the
 * server would only say "Permission denied".
 */
export function planSteps(options: StepsInput, where: string, nowMs: number): PlannedSteps {
  const skipped: string[] = [];
  const usable = (source: CertificateSource, strict: boolean): OpenSshCertificate | undefined => {
    let cert: OpenSshCertificate;
    try {
      cert = parseCertificate(source.certificate, source.label);
    } catch (err) {
      if (strict) throw err;
      skipped.push(`certificate ${source.label} (${(err as Error).message})`);
      return undefined;
    }
    const problem = certificateProblem(cert, nowMs);
    if (problem === undefined) return cert;
    skipped.push(`certificate ${source.label} (${problem})`);
    return undefined;
  };

  // "none" first, as OpenSSH does: the server's reply lists the methods it accepts.
  const steps: Step[] = [{ method: 'none', label: 'none' }];
  const given = options.certificates ?? [];
  const certificates: OpenSshCertificate[] = [];
  for (const source of given) {
    const cert = usable(source, true);
    if (cert === undefined) continue;
    certificates.push(cert);
    steps.push({ method: 'certificate', label: `certificate ${source.label}`, cert });
  }
  if (given.length > 0 && certificates.length === 0) {
    throw new CertificateUnusableError(
      `authentication to ${where} not attempted: ${skipped.join('; ')}; get a new certificate from your CA`,
    );
  }
  if (options.agent) steps.push({ method: 'agent', label: 'agent' });
  for (const source of keySources(options.privateKey)) {
    steps.push({ method: 'publickey', label: `publickey ${source.label}`, source });
    const cert = source.certificate && usable(source.certificate, false);
    if (cert && source.certificate)
      steps.push({ method: 'certificate', label: `certificate ${source.certificate.label}`, cert, source });
  }
  if (options.keyboardInteractive)
    steps.push({ method: 'keyboard-interactive', label: 'keyboard-interactive' });
  // Without anyone to answer, a password attempt is not made: each failure costs a PAM delay.
  if (options.password && options.promptsUnavailable === undefined)
    steps.push({ method: 'password', label: 'password' });
  return { steps, certificates, skipped };
}
