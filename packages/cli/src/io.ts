/** What a command may touch of the process: streams, environment, a signal for Ctrl-C. */
export interface CliIO {
  readonly stdout: NodeJS.WriteStream | NodeJS.WritableStream;
  readonly stderr: NodeJS.WriteStream | NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadStream | NodeJS.ReadableStream;
  readonly env: Record<string, string | undefined>;
  readonly cwd: string;
}

/** Exit codes of every command (design §1.2). */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

export function isTTY(stream: NodeJS.WritableStream | NodeJS.ReadableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

/** Writes `fwd: <message>` lines to stderr. */
export function complain(io: CliIO, message: string): void {
  io.stderr.write(`fwd: ${message}\n`);
}
