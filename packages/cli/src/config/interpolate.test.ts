// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about literal ${VAR} text
import { describe, expect, it } from 'vitest';
import { interpolate } from './interpolate.js';

const env = { HOME: '/home/alice', EMPTY: '', TOKEN: 's3cr3t-value' };

describe('interpolate', () => {
  it.each([
    ['plain text', 'plain text'],
    ['${HOME}/.ssh/id_ed25519', '/home/alice/.ssh/id_ed25519'],
    ['a${HOME}b${HOME}c', 'a/home/alicebb/home/alicec'.replace('bb', 'b')],
    ['${UNSET:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY-fallback}', ''],
    ['${UNSET-fallback}', 'fallback'],
    ['${HOME:-fallback}', '/home/alice'],
    ['${UNSET:-}', ''],
    ['${UNSET:-wss://relay:443/ssh}', 'wss://relay:443/ssh'],
    ['cost: $$5', 'cost: $5'],
    ['$HOME stays', '$HOME stays'],
    ['trailing $', 'trailing $'],
  ])('%j → %j', (text, expected) => {
    expect(interpolate(text, env)).toEqual({ ok: true, value: expected });
  });

  it('names an unset variable and suggests a default', () => {
    expect(interpolate('token ${FWD_RELAY_TOKEN}', env)).toEqual({
      ok: false,
      error: 'environment variable FWD_RELAY_TOKEN is not set (or write ${FWD_RELAY_TOKEN:-default})',
    });
  });

  it.each([
    ['${HOME', 'unterminated "${"'],
    ['${}', 'is not a variable reference'],
    ['${1ABC}', 'is not a variable reference'],
    ['${A B}', 'is not a variable reference'],
  ])('%j is rejected (%s)', (text, message) => {
    const result = interpolate(text, env);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(message);
  });

  it('never puts a value into an error', () => {
    const result = interpolate('${TOKEN}${MISSING}', env);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).not.toContain('s3cr3t');
  });
});
