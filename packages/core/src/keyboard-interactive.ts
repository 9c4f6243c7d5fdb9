/** One round of keyboard-interactive questions from the server (RFC 4256). */
export interface KeyboardInteractiveRequest {
  /** The server's name for this round (often empty), shown before the prompts like OpenSSH does. */
  readonly name: string;
  /** The server's instruction text (often empty). */
  readonly instructions: string;
  /** `echo: false` means a secret (password, code): never show it while typed. */
  readonly prompts: ReadonlyArray<{ readonly prompt: string; readonly echo: boolean }>;
}

export interface KeyboardInteractiveAnswers {
  username: string;
  /** Called once per round the server sends (a password, then a one-time code, ...). */
  ask: (request: KeyboardInteractiveRequest) => Promise<string[] | undefined>;
  /**
   * Set when nobody can answer: called with the round's prompts, quoted, instead of `ask`; the
   * caller hangs up. Answering blank would count as a failed login (PAM delays, lockouts).
   */
  cannotAnswer?: (quotedPrompts: string) => void;
  /** Told why `ask` failed (the round is then answered blank, which the server refuses). */
  onError: (message: string) => void;
}

type Prompt = { prompt: string; echo?: boolean };

/** ssh2's keyboard-interactive method, each round asked through `answers`. */
export function keyboardInteractiveMethod(answers: KeyboardInteractiveAnswers): object {
  return {
    type: 'keyboard-interactive',
    username: answers.username,
    prompt: (
      name: string,
      instructions: string,
      _lang: string,
      prompts: Prompt[],
      finish: (a: string[]) => void,
    ) => {
      const request: KeyboardInteractiveRequest = {
        name,
        instructions,
        prompts: prompts.map((p) => ({ prompt: p.prompt, echo: p.echo === true })),
      };
      if (answers.cannotAnswer) {
        answers.cannotAnswer(quotePrompts(request));
        return;
      }
      answers.ask(request).then(
        (given) => finish(given ?? prompts.map(() => '')),
        (err: unknown) => {
          answers.onError(err instanceof Error ? err.message : String(err));
          // The server insists on one answer per prompt; fewer is a protocol error that drops us.
          finish(prompts.map(() => ''));
        },
      );
    },
  };
}

/** `"Verification code:"`, or several joined: what the server asked, as it asked it. */
function quotePrompts(request: KeyboardInteractiveRequest): string {
  return request.prompts.map((p) => JSON.stringify(p.prompt.trim().slice(0, 100))).join(', ');
}
