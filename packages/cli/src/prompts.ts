import { isTTY } from './io.js';

export interface Prompter {
  /** Asks on the terminal; `echo: false` hides the answer. Rejects when there is no terminal. */
  ask(question: string, options: { echo: boolean }): Promise<string | undefined>;
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
  const ask = (question: string, options: { echo: boolean }): Promise<string | undefined> => {
    if (!interactive) return Promise.reject(new Error(NO_TERMINAL));
    const run = queue.then(() => readLine(stdin as NodeJS.ReadStream, stderr, question, options.echo, hooks));
    queue = run.catch(() => undefined);
    return run;
  };
  return { ask, interactive };
}

function readLine(
  stdin: NodeJS.ReadStream,
  stderr: NodeJS.WritableStream,
  question: string,
  echo: boolean,
  hooks: PromptHooks,
): Promise<string | undefined> {
  hooks.before?.();
  return new Promise((resolve) => {
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.resume();
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
