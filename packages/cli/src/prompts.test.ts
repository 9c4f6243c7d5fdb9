import { describe, expect, it } from 'vitest';
import { type AskOptions, keyboardInteractiveAsker, type Prompter } from './prompts.js';

/** A prompter that records what it was asked and answers from a list. */
function scripted(answers: Array<string | undefined>): Prompter & { asked: Array<[string, AskOptions]> } {
  const asked: Array<[string, AskOptions]> = [];
  return {
    interactive: true,
    asked,
    ask: async (question, options) => {
      asked.push([question, options]);
      return answers.shift();
    },
  };
}

describe('keyboard-interactive at the terminal', () => {
  it("shows the round's name and instructions first, then each prompt with the server's echo flag", async () => {
    const prompter = scripted(['s3cret', '123456']);
    const ask = keyboardInteractiveAsker(prompter, 'alice@login:22');
    const answers = await ask({
      name: 'Two-factor login',
      instructions: 'Enter your password and a code from your app.\r\n',
      prompts: [
        { prompt: 'Password: ', echo: false },
        { prompt: 'Username again: ', echo: true },
      ],
    });
    expect(answers).toEqual(['s3cret', '123456']);
    expect(prompter.asked).toEqual([
      [
        '(alice@login:22) Password: ',
        { echo: false, preface: 'Two-factor login\nEnter your password and a code from your app.' },
      ],
      ['(alice@login:22) Username again: ', { echo: true }],
    ]);
  });

  it('gives up the round when a prompt is not answered (Ctrl-D)', async () => {
    const ask = keyboardInteractiveAsker(scripted([undefined]), 'alice@login');
    expect(
      await ask({ name: '', instructions: '', prompts: [{ prompt: 'Verification code: ', echo: false }] }),
    ).toBe(undefined);
  });

  it("never passes the server's terminal control sequences through", async () => {
    const prompter = scripted(['x']);
    await keyboardInteractiveAsker(
      prompter,
      'a@b',
    )({
      name: '\u001b]0;owned\u0007',
      instructions: '',
      prompts: [{ prompt: 'Code\u001b[2J: ', echo: false }],
    });
    expect(prompter.asked[0]).toEqual(['(a@b) Code?[2J: ', { echo: false, preface: '?]0;owned?' }]);
  });
});
