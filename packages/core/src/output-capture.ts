/** Output beyond this is dropped: commands run for small answers (squeue, scontrol, cat). */
export const DEFAULT_MAX_OUTPUT_BYTES: number = 4 * 1024 * 1024;

/**
 * Collects a command's stdout and stderr up to a shared byte limit, for remote (SSH exec) and
 * local (child process) commands alike.
 */
export class OutputCapture {
  readonly #limit: number;
  readonly #out: Buffer[] = [];
  readonly #err: Buffer[] = [];
  #size = 0;
  #truncated = false;

  constructor(limit: number = DEFAULT_MAX_OUTPUT_BYTES) {
    this.#limit = limit;
  }

  readonly stdout = (chunk: Buffer): void => this.#take(this.#out, chunk);
  readonly stderr = (chunk: Buffer): void => this.#take(this.#err, chunk);

  result(): { stdout: string; stderr: string; truncated: boolean } {
    return {
      stdout: Buffer.concat(this.#out).toString('utf8'),
      stderr: Buffer.concat(this.#err).toString('utf8'),
      truncated: this.#truncated,
    };
  }

  #take(into: Buffer[], chunk: Buffer): void {
    if (this.#size + chunk.length > this.#limit) {
      this.#truncated = true;
      return;
    }
    this.#size += chunk.length;
    into.push(chunk);
  }
}
