// Kept apart from the transport so that `fwd check` can show a relay URL without loading `ws`.

/** Query parameters whose values are secrets: `token`, `access_token`, `key`, `api-key`, `password`, `sig`, ... */
const SECRET_PARAM =
  /(?:^|[_.-])(?:token|key|apikey|secret|password|passwd|pwd|pass|auth|sig|signature|credentials?|jwt|session)$/i;

const MASK = '***';

/**
 * A URL as it may be shown: `user:password@` becomes `***@`, and the value of every token-like
 * query parameter becomes `***`; the rest stays as written. Text that is not a URL is returned
 * with the same patterns masked.
 *
 * @example
 * redactUrl('wss://alice:s3cret@relay.example/ssh?token=abc&target=login:22')
 * // 'wss://***@relay.example/ssh?token=***&target=login:22'
 */
export function redactUrl(url: string | URL): string {
  const text = String(url);
  return text
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, `$1${MASK}@`)
    .replace(/([?&;])([^=&;#]*)=([^&;#]*)/g, (whole, sep: string, name: string) =>
      SECRET_PARAM.test(safeDecode(name)) ? `${sep}${name}=${MASK}` : whole,
    );
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
