import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { FwdError } from '@fwd/core';
import { tokenFromAuthorization, tokenFromSubprotocols } from './protocol.js';

/** Shorter tokens are guessable; the relay refuses to start with one. */
export const MIN_TOKEN_LENGTH = 16;

/** Checks presented tokens against the configured ones without leaking which part matched. */
export interface TokenVerifier {
  readonly size: number;
  verify(presented: string | undefined): boolean;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * A verifier over `tokens`. Tokens are kept only as SHA-256 digests and compared with
 * `timingSafeEqual` against every configured digest (no early exit), so neither the length nor
 * the position of a match shows in the timing. Throws CONFIG_INVALID for an empty list or a
 * token shorter than {@link MIN_TOKEN_LENGTH}; the message never quotes a token.
 *
 * @example
 * const tokens = tokenVerifier(await loadTokenFile('/etc/fwd/relay-tokens'));
 * tokens.verify(presented); // true | false
 */
export function tokenVerifier(tokens: readonly string[]): TokenVerifier {
  if (tokens.length === 0) {
    throw new FwdError('CONFIG_INVALID', 'the relay needs at least one token: it never runs open');
  }
  tokens.forEach((token, index) => {
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new FwdError(
        'CONFIG_INVALID',
        `token #${index + 1} is shorter than ${MIN_TOKEN_LENGTH} characters; generate one with \`openssl rand -base64 32\``,
      );
    }
  });
  const digests = tokens.map(digest);
  return {
    size: digests.length,
    verify(presented: string | undefined): boolean {
      const candidate = digest(presented ?? '');
      let ok = 0;
      for (const known of digests) ok |= timingSafeEqual(candidate, known) ? 1 : 0;
      return presented !== undefined && ok === 1;
    },
  };
}

/**
 * Splits a token list: comma- or newline-separated, blanks and `#` comment lines ignored.
 *
 * @example parseTokenList('# ops\nabc...\n def... ') // ['abc...', 'def...']
 */
export function parseTokenList(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter((line) => !line.trimStart().startsWith('#'))
    .flatMap((line) => line.split(','))
    .map((token) => token.trim())
    .filter((token) => token !== '');
}

/** Reads a token file (one token per line; see {@link parseTokenList}). Rejects with CONFIG_INVALID. */
export async function loadTokenFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new FwdError('CONFIG_INVALID', `cannot read token file ${path}: ${String(code ?? err)}`, {
      cause: err,
    });
  }
  const tokens = parseTokenList(text);
  if (tokens.length === 0) throw new FwdError('CONFIG_INVALID', `token file ${path} holds no token`);
  return tokens;
}

/** The token a relay request presents: `Authorization: Bearer` first, else a `bearer.` subprotocol. */
export function presentedToken(headers: IncomingHttpHeaders): string | undefined {
  const fromHeader = tokenFromAuthorization(headers.authorization);
  if (fromHeader !== undefined) return fromHeader;
  const protocols = headers['sec-websocket-protocol'];
  if (typeof protocols !== 'string') return undefined;
  return tokenFromSubprotocols(protocols.split(',').map((p) => p.trim()));
}
