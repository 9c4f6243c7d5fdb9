import { parseListenAddress } from '@fwd/core';
import { parseDuration } from '../config/index.js';
import type { RunOptions } from '../runtime/run-tunnels.js';
import { UsageError } from '../usage-error.js';

/** The output flags `fwd up` and one-offs share. */
export const OUTPUT_FLAGS = {
  json: { type: 'boolean' },
  'stats-interval': { type: 'string' },
  metrics: { type: 'string' },
} as const;

/** RunOptions from parsed output flags; throws a UsageError on a bad address or duration. */
export function runOptionsFrom(values: {
  json?: boolean;
  'stats-interval'?: string;
  metrics?: string;
}): RunOptions {
  const options: RunOptions = { json: values.json === true };
  if (values.metrics !== undefined) {
    const listen = parseListenAddress(values.metrics);
    if (!listen)
      throw new UsageError(`--metrics ${values.metrics}: expected [host:]port, e.g. 127.0.0.1:9464`);
    options.metrics = listen;
  }
  const interval = values['stats-interval'];
  if (interval !== undefined) {
    const parsed = parseDuration(interval);
    if (!parsed.ok) throw new UsageError(`--stats-interval ${interval}: ${parsed.error}`);
    options.statsIntervalMs = parsed.value;
  }
  return options;
}
