import type { KeyboardInteractiveRequest } from '@fwd/core';
import { isTTY } from './io.js';

export interface AskOptions {
  /** false hides the answer (passwords, one-time codes, passphrases). */
  echo: boolean;
  /** Lines shown first, in the same turn at the terminal (a server's name and instructions). */
  preface?: string;
}

export interface Prompter {
  /** Asks on the terminal. Rejects when there is no terminal. */
  ask(question: string, options: AskOptions): Promise<string | undefined>;
  readonly interactive: boolean;
}

/** Why prompts cannot be answered without a terminal, as AUTH_FAILED messages show it. */
export const NO_TERMINAL = 'no terminal to ask on; use a key or ssh-agent';

export interface PromptHooks {
  /** Called around each prompt so a live display can step aside. */
  before?: () => void;
  after?: () => void;
}

/**
 * Terminal prompts for secrets: never echoed (raw mode), never logged, one at a time (several
 * hosts may ask at once). Without a TTY asking fails with a reason that the AUTH_FAILED message shows.
 */
export function terminalPrompter(
  stdin: NodeJS.ReadableStream,
  stderr: NodeJS.WritableStream,
  hooks: PromptHooks = {},
): Prompter {
  const interactive = isTTY(stdin) && isTTY(stderr);
  let queue: Promise<unknown> = Promise.resolve();
  const ask = (question: string, options: AskOptions): Promise<string | undefined> => {
    if (!interactive) return Promise.reject(new Error(NO_TERMINAL));
    const run = queue.then(() => readLine(stdin as NodeJS.ReadStream, stderr, question, options, hooks));
    queue = run.catch(() => undefined);
    return run;
  };
  return { ask, interactive };
}

function readLine(
  stdin: NodeJS.ReadStream,
  stderr: NodeJS.WritableStream,
  question: string,
  { echo, preface }: AskOptions,
  hooks: PromptHooks,
): Promise<string | undefined> {
  hooks.before?.();
  return new Promise((resolve) => {
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.resume();
    if (preface) stderr.write(`${preface.replace(/\r?\n$/, '')}\n`);
    stderr.write(question);
    let answer = '';
    const finish = (value: string | undefined): void => {
      stdin.off('data', onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      stderr.write('\n');
      hooks.after?.();
      resolve(value);
    };
    const onData = (data: Buffer): void => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          finish(answer);
          return;
        }
        // Ctrl-C or Ctrl-D at a prompt: give up on this answer, the caller reports auth failure.
        if (ch === '\u0003' || ch === '\u0004') {
          finish(undefined);
          if (ch === '\u0003') process.kill(process.pid, 'SIGINT');
          return;
        }
        if (ch === '\u007f' || ch === '\b') {
          if (answer.length > 0) {
            answer = answer.slice(0, -1);
            if (echo) stderr.write('\b \b');
          }
          continue;
        }
        answer += ch;
        if (echo) stderr.write(ch);
      }
    };
    stdin.on('data', onData);
  });
}

/** Server text made safe to print: no terminal control sequences (OpenSSH strnvis()es it too). */
function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  return text.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?');
}

/**
 * Answers keyboard-interactive rounds (a password, then a one-time code, a Duo menu ...) at the
 * terminal as OpenSSH does: the round's name and instructions first, then each prompt as
 * `(user@host) Prompt: `, hidden unless the server asks for echo.
 */
export function keyboardInteractiveAsker(
  prompter: Prompter,
  where: string,
): (request: KeyboardInteractiveRequest) => Promise<string[] | undefined> {
  return async (request) => {
    const answers: string[] = [];
    const preface = [request.name, request.instructions].map((t) => printable(t).trim()).filter(Boolean);
    for (const [i, p] of request.prompts.entries()) {
      const options = { echo: p.echo, ...(i === 0 && preface.length ? { preface: preface.join('\n') } : {}) };
      const answer = await prompter.ask(`(${where}) ${printable(p.prompt)}`, options);
      if (answer === undefined) return undefined;
      answers.push(answer);
    }
    return answers;
  };
}
