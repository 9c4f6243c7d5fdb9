// Cold start: how long `fwd --version` takes from spawn to exit, over several fresh processes.
import { spawn } from 'node:child_process';
import { median } from './summary.js';

export interface ColdStart {
  readonly command: string;
  /** What it printed (first line), to show it really answered. */
  readonly output: string;
  readonly runsMs: number[];
  readonly minMs: number;
  readonly medianMs: number;
}

function timeOnce(file: string, args: readonly string[]): Promise<{ ms: number; output: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      output += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      output += s;
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve({ ms, output: output.trim().split('\n')[0] ?? '' });
      else reject(new Error(`${file} ${args.join(' ')} exited ${code}: ${output.trim().slice(0, 200)}`));
    });
  });
}

/** Runs the command `runs` times in a row (not in parallel: each is a cold process start). */
export async function coldStart(file: string, args: readonly string[], runs: number): Promise<ColdStart> {
  const runsMs: number[] = [];
  let output = '';
  for (let i = 0; i < runs; i++) {
    const r = await timeOnce(file, args);
    runsMs.push(r.ms);
    output = r.output;
  }
  return {
    command: [file, ...args].join(' '),
    output,
    runsMs,
    minMs: Math.min(...runsMs),
    medianMs: median(runsMs) ?? 0,
  };
}
