export { describeForward, describePlan, planJson } from './describe-plan.js';
export { DURATION_HINT, formatDuration, parseDuration } from './duration.js';
export {
  type DynamicForwardEntry,
  type ForwardFlag,
  type LocalForwardEntry,
  type ParsedForward,
  parseForward,
  type RemoteDynamicForwardEntry,
  type RemoteForwardEntry,
} from './forward-spec.js';
export { type Env, interpolate } from './interpolate.js';
export { type LoadOptions, type LoadResult, loadConfig } from './load.js';
export type {
  ConfigDefaults,
  HostConfig,
  SlurmConfig,
  TunnelConfig,
  TunnelsConfig,
} from './normalize.js';
export {
  buildPlan,
  type OneOffArgs,
  type Plan,
  type PlanHop,
  type PlanHost,
  type PlanResult,
  type PlanTunnel,
  planFromArgs,
} from './plan.js';
export { type ConfigProblem, formatProblem, type ParseResult, type SourcePosition } from './problems.js';
export {
  type DefaultsEntry,
  type HostEntry,
  type ReadyEntry,
  type SlurmEntry,
  type TransportEntry,
  type TunnelEntry,
  type TunnelsFile,
  tunnelsJsonSchema,
} from './schema.js';
export {
  parseDestination,
  type ResolvedSshHost,
  resolveSshHost,
  type SshConfigOptions,
  type SshDestination,
  sshConfigHostNames,
} from './ssh-config.js';
