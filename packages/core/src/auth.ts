import type { AuthenticationType, AuthHandlerMiddleware, NextAuthHandler, ParsedKey } from 'ssh2';
import { CertificateAgent } from './agent-client.js';
import {
  type CertificateSource,
  keySources,
  type PrivateKeySource,
  planSteps,
  type Step,
} from './auth-steps.js';
import { certifiedPrivateKey, matchesCertificate, publicKeyOfPrivateKey } from './certified-key.js';
import { FwdError } from './errors.js';
import { type KeyboardInteractiveRequest, keyboardInteractiveMethod } from './keyboard-interactive.js';
import type { OpenSshCertificate } from './openssh-certificate.js';
import { ssh2 } from './ssh2-adapter.js';
import { certificatesSupported } from './ssh2-certificates.js';

export type { CertificateSource, PrivateKeySource } from './auth-steps.js';
export type { KeyboardInteractiveRequest } from './keyboard-interactive.js';

/**
 * How to authenticate. The library never reads a terminal: secrets it needs later come through
 * callbacks (the CLI prompts; a program may read a vault). Returning `undefined` skips the method.
 */
export interface AuthOptions {
  username: string;
  /** One key (contents) or several with labels; tried in order after the agent's keys. */
  privateKey?: string | Buffer | readonly PrivateKeySource[];
  /**
   * User certificates (OpenSSH's CertificateFile), tried first, each with the private key it
   * certifies from `privateKey` or the agent. A certificate outside its validity window fails
   * the login with AUTH_FAILED before anything is sent.
   */
  certificates?: readonly CertificateSource[];
  /** Asked for each encrypted key, up to 3 times while the passphrase is wrong. */
  passphrase?: (keyLabel: string, attempt: number) => Promise<string | undefined>;
  /** ssh-agent socket path (usually $SSH_AUTH_SOCK); the certificates it holds are used too. */
  agent?: string;
  /**
   * OpenSSH's IdentitiesOnly: of the agent's keys, offer only those of `privateKey` and
   * `certificates` (a server that counts failed keys then sees only the ones meant for it).
   */
  identitiesOnly?: boolean;
  password?: (request: { username: string; where: string }) => Promise<string | undefined>;
  /** Called once per round the server sends (a password, then a one-time code, ...). */
  keyboardInteractive?: (request: KeyboardInteractiveRequest) => Promise<string[] | undefined>;
  /**
   * Why nobody can answer password / keyboard-interactive prompts right now (e.g. "no terminal").
   * Passwords are then not attempted; a keyboard-interactive round ends the login with an
   * AUTH_FAILED that quotes the prompt that could not be answered.
   */
  promptsUnavailable?: string;
}

const MAX_PASSPHRASE_ATTEMPTS = 3;

/**
 * Builds ssh2's authHandler for the options, in OpenSSH's order (certificates, agent, keys,
 * keyboard-interactive, password), and remembers what was tried for the failure message.
 * Construct it before connecting: certificates are checked then (see `planSteps`).
 */
export class AuthPlan {
  readonly #options: AuthOptions;
  readonly #where: string;
  readonly #steps: Step[];
  readonly #certificates: OpenSshCertificate[];
  readonly #tried: string[] = [];
  readonly #skipped: string[];
  readonly #parsed = new Map<PrivateKeySource, Promise<ParsedKey | undefined>>();
  #serverMethods: string[] | undefined;
  #unanswered: string | undefined;

  constructor(options: AuthOptions, where: string, nowMs: number = Date.now()) {
    this.#options = options;
    this.#where = where;
    const planned = planSteps(options, where, nowMs);
    this.#steps = planned.steps;
    this.#certificates = planned.certificates;
    this.#skipped = planned.skipped;
    if (this.#steps.some((s) => s.method === 'certificate') && !certificatesSupported()) {
      throw new FwdError(
        'CONFIG_INVALID',
        'certificate login needs ssh2 with fwd\'s "user-certificates" patch (npm ci applies it; see README)',
      );
    }
  }

  /**
   * The ssh2 `authHandler` for one connection attempt. `giveUp` ends the attempt (a prompt
   * nobody can answer): the caller closes the connection and reports the error.
   */
  handler(giveUp?: (error: FwdError) => void): AuthHandlerMiddleware {
    let index = 0;
    return (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, next: NextAuthHandler) => {
      if (methodsLeft !== null) this.#serverMethods = methodsLeft;
      const advance = (): void => {
        const step = this.#steps[index++];
        if (step === undefined) {
          next(false as unknown as AuthenticationType);
          return;
        }
        const family = step.method === 'agent' || step.method === 'certificate' ? 'publickey' : step.method;
        if (methodsLeft !== null && !methodsLeft.includes(family as AuthenticationType)) {
          advance();
          return;
        }
        this.#resolve(step, giveUp).then(
          (auth) => (auth === undefined ? advance() : next(auth as unknown as AuthenticationType)),
          (err: unknown) => {
            // A callback that throws says why it could not answer (e.g. "no terminal to ask").
            this.#skipped.push(`${step.label} (${err instanceof Error ? err.message : String(err)})`);
            advance();
          },
        );
      };
      advance();
      return undefined as unknown as AuthenticationType;
    };
  }

  /**
   * ssh2 could not use the agent (a stale SSH_AUTH_SOCK, a refused signature) and goes on with
   * the next method, as OpenSSH does: the agent counts as skipped, with why, not as tried.
   */
  agentFailed(err: Error): void {
    const at = this.#tried.indexOf('agent');
    if (at >= 0) this.#tried.splice(at, 1);
    this.#skipped.push(`agent (${err.message})`);
  }

  /** "tried agent, publickey ~/.ssh/id_ed25519; the server accepts publickey,password". */
  describeFailure(): string {
    const parts: string[] = [this.#tried.length ? `tried ${this.#tried.join(', ')}` : 'had nothing to try'];
    const skipped = [...this.#skipped];
    const unavailable = this.#options.promptsUnavailable;
    if (unavailable !== undefined && this.#serverMethods?.includes('password') && this.#options.password)
      skipped.push(`password (${unavailable})`);
    if (skipped.length) parts.push(`skipped ${skipped.join(', ')}`);
    if (this.#unanswered) parts.push(this.#unanswered);
    if (this.#serverMethods) parts.push(`the server accepts ${this.#serverMethods.join(',')}`);
    const certified = this.#tried.some((t) => t.startsWith('certificate '));
    const hint = certified
      ? `check that the certificate names ${this.#options.username} as a principal and that the server trusts its CA (TrustedUserCAKeys)`
      : this.#tried.length
        ? 'check the user name and that your public key is in ~/.ssh/authorized_keys on the server'
        : 'give an identity file (identityFile: / -i) or load a key into ssh-agent';
    return `${parts.join('; ')}; ${hint}`;
  }

  async #resolve(step: Step, giveUp: ((error: FwdError) => void) | undefined): Promise<object | undefined> {
    const username = this.#options.username;
    switch (step.method) {
      case 'none':
        return { type: 'none', username };
      case 'agent': {
        this.#tried.push(step.label);
        const socket = this.#options.agent;
        const agent =
          socket === 'pageant' || socket === undefined
            ? socket
            : new CertificateAgent(socket, {
                certificates: this.#certificates,
                onSkip: (what, why) => this.#skipped.push(`${what} (${why})`),
                ...(this.#options.identitiesOnly ? { only: this.#identityKeys() } : {}),
              });
        return { type: 'agent', username, agent };
      }
      case 'publickey': {
        const key = await this.#privateKey(step.source);
        if (key === undefined) return undefined;
        this.#tried.push(step.label);
        return { type: 'publickey', username, key };
      }
      case 'certificate':
        return this.#certificateAuth(step);
      case 'keyboard-interactive':
        return this.#keyboardInteractive(giveUp);
      case 'password': {
        const ask = this.#options.password;
        const password = ask ? await ask({ username, where: this.#where }) : undefined;
        if (password === undefined) return undefined;
        this.#tried.push(step.label);
        return { type: 'password', username, password };
      }
    }
  }

  /** The public keys of the user's identity and certificate files (those IdentitiesOnly allows). */
  #identityKeys(): Buffer[] {
    const fromFiles = keySources(this.#options.privateKey).flatMap((s) => publicKeyOfPrivateKey(s.key) ?? []);
    return [...fromFiles, ...this.#certificates.map((c) => c.publicKey)];
  }

  async #certificateAuth(step: Extract<Step, { method: 'certificate' }>): Promise<object | undefined> {
    const { cert } = step;
    const source =
      step.source ??
      keySources(this.#options.privateKey).find((s) =>
        matchesCertificate(publicKeyOfPrivateKey(s.key), cert),
      );
    if (source === undefined) {
      // Its key may be in the agent, which offers it then; otherwise say why it was not used.
      if (!this.#options.agent)
        this.#skipped.push(`${step.label} (no identity file holds its private key, and no ssh-agent)`);
      return undefined;
    }
    const key = await this.#privateKey(source);
    if (key === undefined) return undefined;
    if (!matchesCertificate(key.getPublicSSH(), cert)) {
      this.#skipped.push(`${step.label} (it certifies another key than ${source.label})`);
      return undefined;
    }
    this.#tried.push(step.label);
    return { type: 'publickey', username: this.#options.username, key: certifiedPrivateKey(key, cert) };
  }

  #keyboardInteractive(giveUp: ((error: FwdError) => void) | undefined): object | undefined {
    const ask = this.#options.keyboardInteractive;
    const unavailable = this.#options.promptsUnavailable;
    if (!ask || (unavailable !== undefined && !giveUp)) return undefined;
    this.#tried.push('keyboard-interactive');
    const cannotAnswer = (quoted: string): void => {
      this.#unanswered = `could not answer the server's prompt ${quoted} (${unavailable})`;
      const message = `authentication to ${this.#where} failed: ${this.describeFailure()}`;
      giveUp?.(new FwdError('AUTH_FAILED', message));
    };
    return keyboardInteractiveMethod({
      username: this.#options.username,
      ask,
      ...(unavailable !== undefined ? { cannotAnswer } : {}),
      onError: (message) => this.#skipped.push(`keyboard-interactive (${message})`),
    });
  }

  /** Parses a key once per attempt, asking for its passphrase if it is encrypted. */
  #privateKey(source: PrivateKeySource): Promise<ParsedKey | undefined> {
    let pending = this.#parsed.get(source);
    if (!pending) {
      pending = this.#parseKey(source);
      this.#parsed.set(source, pending);
    }
    return pending;
  }

  async #parseKey(source: PrivateKeySource): Promise<ParsedKey | undefined> {
    const first = ssh2.utils.parseKey(source.key);
    if (!(first instanceof Error)) return single(first);
    if (!/passphrase/i.test(first.message)) {
      this.#skipped.push(`${source.label} (not a usable private key: ${first.message})`);
      return undefined;
    }
    const ask = this.#options.passphrase;
    if (!ask) {
      this.#skipped.push(`${source.label} (encrypted, and no way to ask for its passphrase)`);
      return undefined;
    }
    for (let attempt = 1; attempt <= MAX_PASSPHRASE_ATTEMPTS; attempt++) {
      const passphrase = await ask(source.label, attempt);
      if (passphrase === undefined) break;
      const parsed = ssh2.utils.parseKey(source.key, passphrase);
      if (!(parsed instanceof Error)) return single(parsed);
    }
    this.#skipped.push(`${source.label} (wrong or no passphrase)`);
    return undefined;
  }
}

function single(parsed: ParsedKey | ParsedKey[]): ParsedKey | undefined {
  return Array.isArray(parsed) ? parsed[0] : parsed;
}
