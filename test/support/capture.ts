import { PassThrough } from 'node:stream';

/** A stream that keeps what is written to it: a CliIO's stdout or stderr, a renderer's output. */
export function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => {
    text += c.toString();
  });
  return { stream, text: () => text };
}
