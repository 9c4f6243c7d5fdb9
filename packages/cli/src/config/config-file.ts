import { isUtf8 } from 'node:buffer';
import { open } from 'node:fs/promises';
import type { ConfigProblem } from './problems.js';

/**
 * Largest tunnels.yaml read. A file of a thousand tunnels is ~60 KiB; a 50 MB one (a log pasted
 * by mistake, a hostile file) took minutes and gigabytes to parse before it was refused.
 */
export const MAX_CONFIG_BYTES: number = 1024 * 1024;

/** The text of a config file, or why it cannot be read as one (located when it can be). */
export type ConfigText = { text: string } | { problems: ConfigProblem[] };

/**
 * Reads tunnels.yaml as UTF-8 text, refusing a file over {@link MAX_CONFIG_BYTES} without reading
 * it all, and a byte sequence that is not UTF-8 at its offset (decoding would turn it into U+FFFD
 * silently, and a host name with one in it would never match). `name` is the file as the user
 * gave it, for messages. Rejects with the fs error when the file cannot be read at all.
 */
export async function readConfigFile(path: string, name: string): Promise<ConfigText> {
  const fail = (message: string, line = 1, col = 1): ConfigText => ({
    problems: [{ file: name, line, col, path: '', message }],
  });
  let bytes: Buffer;
  {
    await using handle = await open(path, 'r');
    // At most one byte more than allowed: enough to know it is too big, whatever fstat says (a pipe).
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) {
        const size = (await handle.stat()).size;
        const what = size > MAX_CONFIG_BYTES ? `${size} bytes` : `over ${MAX_CONFIG_BYTES} bytes`;
        return fail(
          `the file is ${what}; a tunnels file may be at most 1 MiB (${MAX_CONFIG_BYTES} bytes): is this the right file?`,
        );
      }
    }
    bytes = buffer.subarray(0, length);
  }
  if (!isUtf8(bytes)) {
    const at = firstInvalidUtf8(bytes);
    const before = bytes.subarray(0, at).toString('utf8');
    const line = before.split('\n').length;
    const col = before.length - before.lastIndexOf('\n');
    const hex = bytes[at]?.toString(16).padStart(2, '0') ?? '';
    return fail(`not UTF-8: byte 0x${hex} at offset ${at}; save the file as UTF-8`, line, col);
  }
  return { text: bytes.toString('utf8') };
}

/**
 * The offset of the first byte that does not belong to a well-formed UTF-8 sequence (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF), or the length when there is none.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    // Lead byte: how many continuation bytes follow, and the allowed range of the first one.
    let need: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < (k === 1 ? low : 0x80) || c > (k === 1 ? high : 0xbf)) return i;
    }
    i += need + 1;
  }
  return bytes.length;
}
