import { describe, expect, it } from 'vitest';
import { percentExpand } from './percent-expand.js';

const fail = (key: string): never => {
  throw new Error(`bad %${key}`);
};

describe('percentExpand (OpenSSH percent_expand)', () => {
  it('replaces each %x once, %% with %, and leaves $VAR forms to the shell', () => {
    const braced = ['$', '{HOME}'].join(''); // what ssh leaves for the shell
    expect(percentExpand(`ssh -W %h:%p %%h ${braced}`, { h: 'node7', p: '22' }, fail)).toBe(
      `ssh -W node7:22 %h ${braced}`,
    );
    // A value is not expanded again.
    expect(percentExpand('%h', { h: '%p', p: 'x' }, fail)).toBe('%p');
  });

  it('hands an unknown token, or a % that ends the text, to fail', () => {
    expect(() => percentExpand('echo %i', { h: 'x' }, fail)).toThrow('bad %i');
    expect(() => percentExpand('100%', { h: 'x' }, fail)).toThrow('bad %');
  });
});
