import { describe, expect, it } from 'vitest';
import { commandSpecs, oneoffSpec } from './completion-spec.js';
import { helpFor } from './help.js';

describe('completion spec', () => {
  it('names only commands that have help, and flags their parsers accept', () => {
    const commands = commandSpecs();
    for (const command of commands.filter((c) => c.name !== 'help')) {
      expect(helpFor(command.name), command.name).not.toBe(helpFor());
    }
    const up = commands.find((c) => c.name === 'up');
    expect(up?.flags.find((f) => f.names.includes('--only'))?.value).toEqual({ dynamic: 'tunnels' });
    expect(up?.flags.find((f) => f.names.includes('-d'))).toEqual({ names: ['--detach', '-d'] });
    expect(oneoffSpec().flags.find((f) => f.names.includes('-J'))?.value).toEqual({ dynamic: 'hosts' });
  });
});
