import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bearerSubprotocol } from './protocol.js';
import { loadTokenFile, parseTokenList, presentedToken, tokenVerifier } from './relay-auth.js';

const A = 'a'.repeat(16);
const B = 'b-token-0123456789';

describe('relay tokens', () => {
  it('accepts any configured token and nothing else', () => {
    const verifier = tokenVerifier([A, B]);
    expect(verifier.size).toBe(2);
    expect(verifier.verify(A)).toBe(true);
    expect(verifier.verify(B)).toBe(true);
    expect(verifier.verify(`${A}a`)).toBe(false);
    expect(verifier.verify(A.slice(1))).toBe(false);
    expect(verifier.verify('')).toBe(false);
    expect(verifier.verify(undefined)).toBe(false);
  });

  it('refuses to run open or with a short token, without quoting it', () => {
    expect(() => tokenVerifier([])).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    let message = '';
    try {
      tokenVerifier([A, 'short-secret']);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/token #2 is shorter than 16/);
    expect(message).not.toContain('short-secret');
  });

  it('splits token lists on commas and newlines, skipping blanks and comments', () => {
    expect(parseTokenList(`# ops team\n${A}\n\n ${B} , c-token-0123456789\r\n`)).toEqual([
      A,
      B,
      'c-token-0123456789',
    ]);
  });

  it('loads a token file and reports a missing or empty one as CONFIG_INVALID', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fwd-tokens-'));
    try {
      const file = join(dir, 'tokens');
      await writeFile(file, `${A}\n`);
      expect(await loadTokenFile(file)).toEqual([A]);
      await writeFile(file, '# nothing\n');
      await expect(loadTokenFile(file)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
      await expect(loadTokenFile(join(dir, 'missing'))).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining('ENOENT'),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes the token from Authorization first, else from a bearer subprotocol', () => {
    expect(presentedToken({ authorization: `Bearer ${A}` })).toBe(A);
    expect(presentedToken({ 'sec-websocket-protocol': `fwd.v1, ${bearerSubprotocol(B)}` })).toBe(B);
    expect(
      presentedToken({ authorization: `Bearer ${A}`, 'sec-websocket-protocol': bearerSubprotocol(B) }),
    ).toBe(A);
    expect(presentedToken({})).toBeUndefined();
  });
});
