import type { Plan } from '../config/index.js';
import { type CliIO, complain, EXIT } from '../io.js';
import { openRequests } from '../open/open-when-ready.js';
import { httpUrls } from '../render/http-urls.js';
import { withJobFacts } from '../render/job-facts.js';
import type { PlanOutcome } from '../runtime/load-plan.js';
import { type BackgroundHooks, type RunOptions, runTunnels } from '../runtime/run-tunnels.js';
import { UsageError } from '../usage-error.js';
import { adviseOnExposure, metricsExposure } from './exposure-advice.js';
import { runOptionsFrom } from './output-flags.js';
import { adviseOnPorts, detectBindRights } from './port-advice.js';

export interface LaunchOptions {
  /** The output flags as parsed (--json, --stats-interval, --metrics, --open). */
  flags: { json?: boolean; 'stats-interval'?: string; metrics?: string; open?: boolean };
  /** Set when this process is the background fwd (daemon/daemon-main.ts). */
  background: BackgroundHooks | undefined;
  /** -d: hand the plan to a background fwd instead; how to name and start it. */
  detach: { name: string; source: string; args: string[]; replace: boolean } | undefined;
  baseDir?: string;
  /** How to read the file again (SIGHUP, `fwd reload`); one-offs have none. */
  reread?: () => Promise<PlanOutcome>;
}

/**
 * What `fwd up` and one-offs do once they have a plan: refuse ports that cannot be bound
 * (exit 2), warn about ports browsers block, then run in the foreground or start a background fwd.
 */
export async function launchPlan(plan: Plan, io: CliIO, options: LaunchOptions): Promise<number> {
  const advice = adviseOnPorts(plan, detectBindRights());
  if (advice.denied.length > 0) {
    for (const message of advice.denied) complain(io, message);
    return EXIT.usage;
  }
  let run: RunOptions;
  try {
    run = runOptionsFrom(options.flags);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    complain(io, err.message);
    return EXIT.usage;
  }
  const { detach, background } = options;
  const exposed = run.metrics ? metricsExposure(run.metrics) : undefined;
  const warnings = [...advice.warnings, ...adviseOnExposure(plan), ...(exposed ? [exposed] : [])];
  const open = openRequests(plan, options.flags.open === true);
  if (detach && !background) {
    for (const warning of warnings) complain(io, `warning: ${warning}`);
    const { startInBackground } = await import('../daemon/start-daemon.js');
    return startInBackground({ ...detach, json: run.json, ...(open.size > 0 ? { open } : {}) }, io);
  }
  return runTunnels(plan, io, {
    ...run,
    ...(options.baseDir !== undefined ? { baseDir: options.baseDir } : {}),
    warnings,
    urls: withJobFacts(httpUrls(plan)),
    ...(options.reread
      ? { reread: { plan: options.reread, decorate: (p) => withJobFacts(httpUrls(p)) } }
      : {}),
    ...(background ? { background } : {}),
    ...(open.size > 0 ? { open } : {}),
  });
}
