import { describe, expect, it } from 'vitest';
import { redactUrl } from './redact-url.js';

describe('redactUrl', () => {
  it('masks user:password@ and token-like query values, keeping everything else as written', () => {
    expect(redactUrl('wss://alice:s3cret@relay.example/ssh?token=abc&target=login:22')).toBe(
      'wss://***@relay.example/ssh?token=***&target=login:22',
    );
    expect(redactUrl('ws://relay:8080/ssh?access_token=a&api-key=b&KEY=c&x.sig=d&password=e&foo=bar')).toBe(
      'ws://relay:8080/ssh?access_token=***&api-key=***&KEY=***&x.sig=***&password=***&foo=bar',
    );
    expect(redactUrl('wss://relay.example/ssh')).toBe('wss://relay.example/ssh');
    expect(redactUrl(new URL('wss://u@relay.example/'))).toBe('wss://***@relay.example/');
  });

  it('masks a password holding an unencoded @, and encoded parameter names', () => {
    expect(redactUrl('ws://alice:p@ss@relay/ssh')).toBe('ws://***@relay/ssh');
    expect(redactUrl('ws://relay/ssh?%74oken=abc')).toBe('ws://relay/ssh?%74oken=***');
  });

  it('leaves parameters that merely contain a secret-sounding word alone', () => {
    expect(redactUrl('ws://relay/ssh?monkey=1&tokens_left=2&target=login:22')).toBe(
      'ws://relay/ssh?monkey=1&tokens_left=2&target=login:22',
    );
  });

  it('masks the same patterns in text that is not a URL', () => {
    expect(redactUrl('not a url?token=abc')).toBe('not a url?token=***');
  });
});
