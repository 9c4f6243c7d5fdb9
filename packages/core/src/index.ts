export { abortable } from './abortable.js';
export type { AuthOptions, CertificateSource, KeyboardInteractiveRequest, PrivateKeySource } from './auth.js';
export { CertificateUnusableError } from './auth-steps.js';
export { type BackoffOptions, backoffDelay } from './backoff.js';
export { nativeCryptoAvailable } from './binding.js';
export { type CommandTransportOptions, commandTransport } from './command-transport.js';
export { type ConnectOptions, connect } from './connect.js';
export { type Deadline, deadline } from './deadline.js';
export { DEFAULTS } from './defaults.js';
export type { BindAddress, ChannelOpener, ForwardTarget, SocketPath, TcpAddress } from './endpoints.js';
export {
  formatEndpoint,
  isLoopbackHost,
  isSocketPath,
  isWildcardHost,
  parseHostPort,
  parseListenAddress,
  withDefaultHost,
} from './endpoints.js';
export { errorCode, errorMessage, fromBindError, fromSocketError } from './error-translation.js';
export { abortError, asFwdError, ERROR_CODES, FwdError, type FwdErrorCode, isFwdError } from './errors.js';
export { type LocalListenSpec, listenForward } from './forward-listener.js';
export {
  type FreshCredentials,
  HostConnection,
  type HostConnectionEvents,
  type HostSpec,
  type HostState,
  type HostStatus,
} from './host-connection.js';
export { type HostKeyMode, type HostKeyPolicy, type KnownHostsOptions, knownHosts } from './host-keys.js';
export { cannotRecordKnownHosts } from './known-hosts-append.js';
export { fingerprint, knownHostsName, matchPattern, matchPatternList } from './known-hosts-file.js';
export {
  type ConnectionClosedInfo,
  type ConnectionInfo,
  type ForwardEvents,
  type ForwardStats,
  ListeningForward,
  type Negotiator,
} from './listening-forward.js';
export { type OpenSshCertificate, parseCertificate } from './openssh-certificate.js';
export { DEFAULT_MAX_OUTPUT_BYTES, OutputCapture } from './output-capture.js';
export { percentExpand } from './percent-expand.js';
export type { ByteCounters } from './pipe.js';
export { bytesPiped } from './pipe.js';
export { checkProxyCommand, expandProxyCommand, type ProxyCommandTokens } from './proxy-command.js';
export { checkReadyOnce, type ReadyCheck } from './ready-check.js';
export { type RemoteBinding, RemoteForward } from './remote-forward.js';
export type { CommandResult, RunCommandOptions } from './run-command.js';
export { socksNegotiator } from './socks-negotiator.js';
export {
  type DynamicForwardOptions,
  type LocalForwardOptions,
  type RemoteForwardOptions,
  type SessionEvents,
  SshSession,
} from './ssh-session.js';
export { corkForThisTick } from './ssh2-adapter.js';
export {
  openTunnels,
  Supervisor,
  type SupervisorEvents,
  type SupervisorOptions,
  type SupervisorSpec,
} from './supervisor.js';
export { type TcpTransportOptions, tcpTransport } from './tcp-transport.js';
export type { Transport } from './transport.js';
export type { GateContext, GateOpen, TunnelEnd, TunnelGate, TunnelNotice } from './tunnel-gate.js';
export type { TunnelEvents, TunnelSpec } from './tunnel-runtime.js';
export type {
  ForwardSpec,
  ForwardStatus,
  TunnelFacts,
  TunnelState,
  TunnelStatus,
} from './tunnel-status.js';
