import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { Duplex } from 'node:stream';
import { FwdError } from './errors.js';

/** Kept of the command's stderr for error messages: enough for a few lines of diagnostics. */
const STDERR_KEPT = 4 * 1024;
/** A proxy that ignores SIGTERM this long is killed. */
const KILL_GRACE_MS = 2_000;
/**
 * After SSH has said goodbye (our side ended), the time the command has to pass it on and exit
 * before it is killed: `nc` keeps running after stdin ends for as long as its peer stays.
 */
const EXIT_AFTER_END_MS = 1_000;

export interface ChildProcessStreamOptions {
  /** "ProxyCommand \"ssh -W %h:%p gw\"": how messages name the command. */
  readonly what: string;
  /** Told each line the command writes on stderr (a login URL, a warning). */
  readonly onStderr?: (line: string) => void;
}

/**
 * A child process's stdout and stdin as one Duplex, for SSH to run over (OpenSSH's ProxyCommand).
 * The child leads its own process group: destroying the stream (close, abort) sends SIGTERM to the
 * whole group, SIGKILL after 2 s, and 'close' is emitted only once the child has exited. A child
 * that exits with a failure, or before it wrote anything, ends the stream with a FwdError that
 * quotes the end of its stderr.
 */
export class ChildProcessStream extends Duplex {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #options: ChildProcessStreamOptions;
  #stderr = '';
  #partialLine = '';
  #receivedOutput = false;
  /** The process has exited ('exit'); its output may still be flowing. */
  #gone = false;
  /** Exited and every pipe closed ('close'): what it wrote is all read. */
  #exited = false;
  #killing = false;

  constructor(child: ChildProcessWithoutNullStreams, options: ChildProcessStreamOptions) {
    super({ allowHalfOpen: false });
    this.#child = child;
    this.#options = options;
    child.stdout.on('data', (chunk: Buffer) => {
      this.#receivedOutput = true;
      if (!this.push(chunk)) child.stdout.pause();
    });
    child.stderr.on('data', (chunk: Buffer) => this.#keepStderr(chunk.toString('utf8')));
    // A write after the child died fails with EPIPE; how it died is said on 'close'.
    child.stdin.on('error', () => undefined);
    // Spawning failed (its caller reports that) or a signal could not be sent: nothing to add.
    child.on('error', () => undefined);
    child.once('exit', () => {
      this.#gone = true;
    });
    child.once('close', (code, signal) => this.#onChildClose(code, signal));
  }

  /** The child's process id (its process group id too). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** The last lines the command wrote on stderr, trimmed. */
  get stderrTail(): string {
    return (this.#stderr + this.#partialLine).trim().split(/\r?\n/).filter(Boolean).slice(-3).join(' / ');
  }

  override _read(): void {
    this.#child.stdout.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#exited || !this.#child.stdin.writable) callback();
    else this.#child.stdin.write(chunk, () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#child.stdin.end();
    if (!this.#gone) {
      const timer = setTimeout(() => this.destroy(), EXIT_AFTER_END_MS);
      this.#child.once('exit', () => clearTimeout(timer));
    }
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#child.stdout.destroy();
    this.#child.stdin.destroy();
    if (this.#child.pid === undefined || this.#gone) {
      // Never started, or exited: SIGTERM what it may have left running in its group.
      this.#signalGroup('SIGTERM');
      callback(error);
      return;
    }
    this.#killing = true;
    this.#signalGroup('SIGTERM');
    const timer = setTimeout(() => this.#signalGroup('SIGKILL'), KILL_GRACE_MS);
    this.#child.once('exit', () => {
      clearTimeout(timer);
      callback(error);
    });
  }

  #signalGroup(signal: NodeJS.Signals): void {
    const pid = this.#child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  }

  #keepStderr(text: string): void {
    const lines = (this.#partialLine + text).split('\n');
    this.#partialLine = lines.pop() ?? '';
    for (const line of lines) {
      this.#options.onStderr?.(line.replace(/\r$/, ''));
      this.#stderr = `${this.#stderr}${line}\n`.slice(-STDERR_KEPT);
    }
    this.#partialLine = this.#partialLine.slice(-STDERR_KEPT);
  }

  #onChildClose(code: number | null, signal: NodeJS.Signals | null): void {
    this.#exited = true;
    if (this.#partialLine) this.#keepStderr('\n');
    if (this.#killing || this.destroyed) return;
    const failed = code !== 0;
    if (!failed && this.#receivedOutput) {
      this.push(null);
      return;
    }
    const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
    const when = this.#receivedOutput ? '' : ' before the SSH server answered';
    const said = this.stderrTail ? `: ${this.stderrTail.slice(-500)}` : ' (it wrote nothing on stderr)';
    // 126/127: the shell could not run it; retrying cannot help.
    const errorCode =
      !this.#receivedOutput && (code === 126 || code === 127)
        ? 'CONFIG_INVALID'
        : this.#receivedOutput
          ? 'TRANSPORT_CLOSED'
          : 'CONNECT_FAILED';
    this.destroy(new FwdError(errorCode, `${this.#options.what} ${how}${when}${said}`));
  }
}
