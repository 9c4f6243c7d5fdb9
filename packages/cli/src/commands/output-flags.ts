import { parseDuration } from '../config/index.js';
import type { RunOptions } from '../runtime/run-tunnels.js';

/** The output flags `fwd up` and one-offs share. */
export const OUTPUT_FLAGS = {
  json: { type: 'boolean' },
  'stats-interval': { type: 'string' },
} as const;

/** RunOptions from parsed output flags; throws with a usage message on a bad duration. */
export function runOptionsFrom(values: { json?: boolean; 'stats-interval'?: string }): RunOptions {
  const options: RunOptions = { json: values.json === true };
  const interval = values['stats-interval'];
  if (interval !== undefined) {
    const parsed = parseDuration(interval);
    if (!parsed.ok) throw new Error(`--stats-interval ${interval}: ${parsed.error}`);
    options.statsIntervalMs = parsed.value;
  }
  return options;
}
