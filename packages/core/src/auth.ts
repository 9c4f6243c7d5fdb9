import type { AuthenticationType, AuthHandlerMiddleware, NextAuthHandler, ParsedKey } from 'ssh2';
import { ssh2 } from './ssh2-adapter.js';

/** A private key's contents, and what to call it in prompts and messages (usually its path). */
export interface PrivateKeySource {
  readonly key: string | Buffer;
  readonly label: string;
}

export interface KeyboardInteractiveRequest {
  readonly name: string;
  readonly instructions: string;
  readonly prompts: ReadonlyArray<{ readonly prompt: string; readonly echo: boolean }>;
}

/**
 * How to authenticate. The library never reads a terminal: secrets it needs later come through
 * callbacks (the CLI prompts; a program may read a vault). Returning `undefined` skips the method.
 */
export interface AuthOptions {
  username: string;
  /** One key (contents) or several with labels; tried in order after the agent's keys. */
  privateKey?: string | Buffer | readonly PrivateKeySource[];
  /** Asked for each encrypted key, up to 3 times while the passphrase is wrong. */
  passphrase?: (keyLabel: string, attempt: number) => Promise<string | undefined>;
  /** ssh-agent socket path (usually $SSH_AUTH_SOCK). */
  agent?: string;
  password?: (request: { username: string; where: string }) => Promise<string | undefined>;
  keyboardInteractive?: (request: KeyboardInteractiveRequest) => Promise<string[] | undefined>;
  /**
   * Why nobody can answer password / keyboard-interactive prompts right now (e.g. "no terminal").
   * Those methods are then not attempted, and the AUTH_FAILED message says why.
   */
  promptsUnavailable?: string;
}

type Step =
  | { method: 'none'; label: string }
  | { method: 'agent'; label: string }
  | { method: 'publickey'; source: PrivateKeySource }
  | { method: 'keyboard-interactive'; label: string }
  | { method: 'password'; label: string };

const MAX_PASSPHRASE_ATTEMPTS = 3;

/**
 * Builds ssh2's authHandler for the options, in OpenSSH's order (agent, keys,
 * keyboard-interactive, password), and remembers what was tried for the failure message.
 */
export class AuthPlan {
  readonly #options: AuthOptions;
  readonly #where: string;
  readonly #steps: Step[];
  readonly #tried: string[] = [];
  readonly #skipped: string[] = [];
  #serverMethods: string[] | undefined;

  constructor(options: AuthOptions, where: string) {
    this.#options = options;
    this.#where = where;
    this.#steps = planSteps(options);
  }

  /** The ssh2 `authHandler` for one connection attempt. */
  handler(): AuthHandlerMiddleware {
    let index = 0;
    return (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, next: NextAuthHandler) => {
      if (methodsLeft !== null) this.#serverMethods = methodsLeft;
      const advance = (): void => {
        const step = this.#steps[index++];
        if (step === undefined) {
          next(false as unknown as AuthenticationType);
          return;
        }
        const family = step.method === 'agent' ? 'publickey' : step.method;
        if (methodsLeft !== null && !methodsLeft.includes(family as AuthenticationType)) {
          advance();
          return;
        }
        this.#resolve(step).then(
          (auth) => (auth === undefined ? advance() : next(auth as unknown as AuthenticationType)),
          (err: unknown) => {
            // A callback that throws says why it could not answer (e.g. "no terminal to ask").
            this.#skipped.push(`${stepLabel(step)} (${err instanceof Error ? err.message : String(err)})`);
            advance();
          },
        );
      };
      advance();
      return undefined as unknown as AuthenticationType;
    };
  }

  /** "tried agent, publickey ~/.ssh/id_ed25519; the server accepts publickey,password". */
  describeFailure(): string {
    const parts: string[] = [this.#tried.length ? `tried ${this.#tried.join(', ')}` : 'had nothing to try'];
    const skipped = [...this.#skipped];
    const unavailable = this.#options.promptsUnavailable;
    const serverPrompts = this.#serverMethods?.some((m) => m === 'password' || m === 'keyboard-interactive');
    if (unavailable !== undefined && serverPrompts)
      skipped.push(`password and keyboard-interactive (${unavailable})`);
    if (skipped.length) parts.push(`skipped ${skipped.join(', ')}`);
    if (this.#serverMethods) parts.push(`the server accepts ${this.#serverMethods.join(',')}`);
    const hint = this.#tried.length
      ? 'check the user name and that your public key is in ~/.ssh/authorized_keys on the server'
      : 'give an identity file (identityFile: / -i) or load a key into ssh-agent';
    return `${parts.join('; ')}; ${hint}`;
  }

  async #resolve(step: Step): Promise<object | undefined> {
    const username = this.#options.username;
    switch (step.method) {
      case 'none':
        return { type: 'none', username };
      case 'agent':
        this.#tried.push(step.label);
        return { type: 'agent', username, agent: this.#options.agent };
      case 'publickey': {
        const key = await this.#parseKey(step.source);
        if (key === undefined) return undefined;
        this.#tried.push(`publickey ${step.source.label}`);
        return { type: 'publickey', username, key };
      }
      case 'keyboard-interactive': {
        const ask = this.#options.keyboardInteractive;
        if (!ask) return undefined;
        this.#tried.push(step.label);
        return {
          type: 'keyboard-interactive',
          username,
          prompt: (
            name: string,
            instructions: string,
            _lang: string,
            prompts: Array<{ prompt: string; echo?: boolean }>,
            finish: (answers: string[]) => void,
          ) => {
            const request = {
              name,
              instructions,
              prompts: prompts.map((p) => ({ prompt: p.prompt, echo: p.echo === true })),
            };
            ask(request).then(
              (answers) => finish(answers ?? prompts.map(() => '')),
              (err: unknown) => {
                this.#skipped.push(`${step.label} (${err instanceof Error ? err.message : String(err)})`);
                // The server insists on one answer per prompt; fewer is a protocol error that drops us.
                finish(prompts.map(() => ''));
              },
            );
          },
        };
      }
      case 'password': {
        const ask = this.#options.password;
        const password = ask ? await ask({ username, where: this.#where }) : undefined;
        if (password === undefined) return undefined;
        this.#tried.push(step.label);
        return { type: 'password', username, password };
      }
    }
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

function stepLabel(step: Step): string {
  return step.method === 'publickey' ? `publickey ${step.source.label}` : step.label;
}

function single(parsed: ParsedKey | ParsedKey[]): ParsedKey | undefined {
  return Array.isArray(parsed) ? parsed[0] : parsed;
}

function planSteps(options: AuthOptions): Step[] {
  // "none" first, as OpenSSH does: the server's reply lists the methods it accepts.
  const steps: Step[] = [{ method: 'none', label: 'none' }];
  if (options.agent) steps.push({ method: 'agent', label: 'agent' });
  for (const source of keySources(options.privateKey)) steps.push({ method: 'publickey', source });
  // Prompts nobody can answer are not attempted: each failed attempt costs a PAM delay.
  if (options.promptsUnavailable === undefined) {
    if (options.keyboardInteractive)
      steps.push({ method: 'keyboard-interactive', label: 'keyboard-interactive' });
    if (options.password) steps.push({ method: 'password', label: 'password' });
  }
  return steps;
}

function keySources(key: AuthOptions['privateKey']): readonly PrivateKeySource[] {
  if (key === undefined) return [];
  if (typeof key === 'string' || Buffer.isBuffer(key)) return [{ key, label: 'the given private key' }];
  return key;
}
