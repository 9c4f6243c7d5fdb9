/**
 * What fwd does with each ssh_config keyword (OpenSSH 10.x's list, readconf.c `keywords[]`):
 * - `honoured`: resolved as `ssh -G` resolves it and used for the connection;
 * - `structure`: Host, Match, Include, IgnoreUnknown, Tag: they decide which lines apply;
 * - `ignored`: changes what ssh does on the connection, but fwd does not do it; `fwd check`
 *   lists it for the host, so nothing is dropped silently;
 * - `quiet`: no bearing on a forwarding connection (logging, display, the terminal) or
 *   deprecated/unsupported in OpenSSH itself.
 */
export type KeywordUse = 'honoured' | 'structure' | 'ignored' | 'quiet';

const HONOURED = [
  'HostName',
  'Port',
  'User',
  'IdentityFile',
  'IdentitiesOnly',
  'CertificateFile',
  'IdentityAgent',
  'ProxyJump',
  'ProxyCommand',
  'ProxyUseFdpass',
  'UserKnownHostsFile',
  'GlobalKnownHostsFile',
  'StrictHostKeyChecking',
  'HashKnownHosts',
  'HostKeyAlias',
  'ServerAliveInterval',
  'ServerAliveCountMax',
  'ConnectTimeout',
];

const STRUCTURE = ['Host', 'Match', 'Include', 'IgnoreUnknown', 'Tag'];

const IGNORED = [
  'AddressFamily',
  'BatchMode',
  'BindAddress',
  'BindInterface',
  'CanonicalDomains',
  'CanonicalizeFallbackLocal',
  'CanonicalizeHostname',
  'CanonicalizeMaxDots',
  'CanonicalizePermittedCNAMEs',
  'CASignatureAlgorithms',
  'ChannelTimeout',
  'CheckHostIP',
  'Ciphers',
  'ClearAllForwardings',
  'Compression',
  'ConnectionAttempts',
  'ControlMaster',
  'ControlPath',
  'ControlPersist',
  'DynamicForward',
  'EnableSSHKeysign',
  'ExitOnForwardFailure',
  'ForkAfterAuthentication',
  'ForwardAgent',
  'ForwardX11',
  'ForwardX11Timeout',
  'ForwardX11Trusted',
  'GatewayPorts',
  'GSSAPIAuthentication',
  'GSSAPIDelegateCredentials',
  'HostbasedAcceptedAlgorithms',
  'HostbasedAuthentication',
  'HostKeyAlgorithms',
  'IPQoS',
  'KbdInteractiveAuthentication',
  'KbdInteractiveDevices',
  'KexAlgorithms',
  'KnownHostsCommand',
  'LocalCommand',
  'LocalForward',
  'MACs',
  'NoHostAuthenticationForLocalhost',
  'NumberOfPasswordPrompts',
  'PasswordAuthentication',
  'PermitLocalCommand',
  'PermitRemoteOpen',
  'PKCS11Provider',
  'PreferredAuthentications',
  'PubkeyAcceptedAlgorithms',
  'PubkeyAuthentication',
  'RefuseConnection',
  'RekeyLimit',
  'RemoteCommand',
  'RemoteForward',
  'RequestTTY',
  'RequiredRSASize',
  'RevokedHostKeys',
  'SecurityKeyProvider',
  'SendEnv',
  'SessionType',
  'SetEnv',
  'StdinNull',
  'StreamLocalBindMask',
  'StreamLocalBindUnlink',
  'TCPKeepAlive',
  'Tunnel',
  'TunnelDevice',
  'UpdateHostKeys',
  'VerifyHostKeyDNS',
  'VersionAddendum',
];

const QUIET = [
  'AddKeysToAgent',
  'EnableEscapeCommandline',
  'EscapeChar',
  'FingerprintHash',
  'LogLevel',
  'LogVerbose',
  'ObscureKeystrokeTiming',
  'SyslogFacility',
  'VisualHostKey',
  'WarnWeakCrypto',
  'XAuthLocation',
  // Deprecated or unsupported in OpenSSH itself (it ignores them too).
  'AFSTokenPassing',
  'Cipher',
  'CompressionLevel',
  'FallBackToRsh',
  'GlobalKnownHostsFile2',
  'KerberosAuthentication',
  'KerberosTGTPassing',
  'Protocol',
  'RhostsAuthentication',
  'RhostsRSAAuthentication',
  'RSAAuthentication',
  'SmartcardDevice',
  'UseRoaming',
  'UseRsh',
  'UsePrivilegedPort',
  'UserKnownHostsFile2',
];

/** Other spellings OpenSSH accepts for the same option. */
const ALIASES: Record<string, string> = {
  identityfile2: 'IdentityFile',
  challengeresponseauthentication: 'KbdInteractiveAuthentication',
  skeyauthentication: 'KbdInteractiveAuthentication',
  tisauthentication: 'KbdInteractiveAuthentication',
  dsaauthentication: 'PubkeyAuthentication',
  keepalive: 'TCPKeepAlive',
  hostbasedkeytypes: 'HostbasedAcceptedAlgorithms',
  pubkeyacceptedkeytypes: 'PubkeyAcceptedAlgorithms',
};

/** A keyword as written in the table: its canonical spelling and what fwd does with it. */
export interface Keyword {
  readonly name: string;
  readonly use: KeywordUse;
}

const TABLE = new Map<string, Keyword>();
for (const [names, use] of [
  [HONOURED, 'honoured'],
  [STRUCTURE, 'structure'],
  [IGNORED, 'ignored'],
  [QUIET, 'quiet'],
] as const) {
  for (const name of names) TABLE.set(name.toLowerCase(), { name, use });
}
for (const [alias, name] of Object.entries(ALIASES)) {
  const target = TABLE.get(name.toLowerCase());
  if (target) TABLE.set(alias, target);
}

/** The keyword OpenSSH knows by this lower-cased spelling, or undefined. */
export function lookupKeyword(lowerCased: string): Keyword | undefined {
  return TABLE.get(lowerCased);
}

/** Every honoured keyword, for documentation and `fwd check`. */
export const HONOURED_KEYWORDS: readonly string[] = HONOURED;
