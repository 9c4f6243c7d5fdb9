import { readFileSync } from 'node:fs';
import { formatEndpoint } from '@fwd/core';
import type { ParsedForward, Plan } from '../config/index.js';

/**
 * The Fetch standard's "bad ports" (https://fetch.spec.whatwg.org/#port-blocking, as of
 * whatwg/fetch 586cd2a, July 2026) with their typical service. Browsers refuse http(s) URLs on
 * these ports outright (Chrome: ERR_UNSAFE_PORT; Firefox: "This address is restricted"), so a
 * tunnel to a web app on one of them looks broken for no visible reason.
 */
export const BAD_PORTS: ReadonlyMap<number, string> = new Map([
  [0, '—'],
  [1, 'tcpmux'],
  [7, 'echo'],
  [9, 'discard'],
  [11, 'systat'],
  [13, 'daytime'],
  [15, 'netstat'],
  [17, 'qotd'],
  [19, 'chargen'],
  [20, 'ftp-data'],
  [21, 'ftp'],
  [22, 'ssh'],
  [23, 'telnet'],
  [25, 'smtp'],
  [37, 'time'],
  [42, 'name'],
  [43, 'nicname'],
  [53, 'domain'],
  [69, 'tftp'],
  [77, '—'],
  [79, 'finger'],
  [87, '—'],
  [95, 'supdup'],
  [101, 'hostname'],
  [102, 'iso-tsap'],
  [103, 'gppitnp'],
  [104, 'acr-nema'],
  [109, 'pop2'],
  [110, 'pop3'],
  [111, 'sunrpc'],
  [113, 'auth'],
  [115, 'sftp'],
  [117, 'uucp-path'],
  [119, 'nntp'],
  [123, 'ntp'],
  [135, 'epmap'],
  [137, 'netbios-ns'],
  [139, 'netbios-ssn'],
  [143, 'imap'],
  [161, 'snmp'],
  [179, 'bgp'],
  [389, 'ldap'],
  [427, 'svrloc'],
  [465, 'submissions'],
  [512, 'exec'],
  [513, 'login'],
  [514, 'shell'],
  [515, 'printer'],
  [526, 'tempo'],
  [530, 'courier'],
  [531, 'chat'],
  [532, 'netnews'],
  [540, 'uucp'],
  [548, 'afp'],
  [554, 'rtsp'],
  [556, 'remotefs'],
  [563, 'nntps'],
  [587, 'submission'],
  [601, 'syslog-conn'],
  [636, 'ldaps'],
  [989, 'ftps-data'],
  [990, 'ftps'],
  [993, 'imaps'],
  [995, 'pop3s'],
  [1719, 'h323gatestat'],
  [1720, 'h323hostcall'],
  [1723, 'pptp'],
  [2049, 'nfs'],
  [3659, 'apple-sasl'],
  [4045, 'npp'],
  [4190, 'sieve'],
  [5060, 'sip'],
  [5061, 'sips'],
  [6000, 'x11'],
  [6566, 'sane-port'],
  [6665, 'ircu'],
  [6666, 'ircu'],
  [6667, 'ircu'],
  [6668, 'ircu'],
  [6669, 'ircu'],
  [6679, 'osaut'],
  [6697, 'ircs-u'],
  [10080, 'amanda'],
]);

/** The nearest port above `port` that browsers accept. */
export function nextGoodPort(port: number): number {
  let next = port + 1;
  while (BAD_PORTS.has(next)) next++;
  return next;
}

/** What this process may bind: ports from `unprivilegedPortStart` up, or all of them. */
export interface BindRights {
  readonly anyPort: boolean;
  readonly unprivilegedPortStart: number;
}

/** CAP_NET_BIND_SERVICE is capability 10. */
const CAP_NET_BIND_SERVICE = 10n;

/**
 * This process's right to bind low ports. Linux: root, CAP_NET_BIND_SERVICE in the effective set,
 * or net.ipv4.ip_unprivileged_port_start (containers often set it to 0). macOS has let anyone bind
 * them since 10.14; elsewhere ports below 1024 are taken to need root.
 */
export function detectBindRights(): BindRights {
  if (process.platform === 'win32' || process.platform === 'darwin')
    return { anyPort: true, unprivilegedPortStart: 0 };
  const root = process.getuid?.() === 0;
  if (process.platform !== 'linux') return { anyPort: root, unprivilegedPortStart: 1024 };
  let capable = root;
  try {
    const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (capEff) capable ||= ((BigInt(`0x${capEff}`) >> CAP_NET_BIND_SERVICE) & 1n) === 1n;
  } catch {}
  let start = 1024;
  try {
    const value = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());
    if (Number.isInteger(value) && value >= 0) start = value;
  } catch {}
  return { anyPort: capable, unprivilegedPortStart: start };
}

export interface PortAdvice {
  /** Shown, and the run goes on: browsers will refuse these ports. */
  readonly warnings: string[];
  /** Ports this user cannot bind: `fwd up` refuses to start (`fwd check` shows them as warnings). */
  readonly denied: string[];
}

function localPort(forward: ParsedForward): number | undefined {
  if (forward.kind !== 'local' && forward.kind !== 'dynamic') return undefined;
  return 'port' in forward.bind && forward.bind.port > 0 ? forward.bind.port : undefined;
}

/** How to write the same forward on another local port, for the advice. */
function respelled(forward: ParsedForward, port: number): string {
  if (forward.kind === 'dynamic') return `dynamic: ${port}`;
  if (forward.kind !== 'local') return String(port);
  const host = 'host' in forward.bind ? forward.bind.host : undefined;
  // The default bind address is left out, as users write it.
  const bind = host && host !== '127.0.0.1' && host !== 'localhost' ? `${host}:` : '';
  return `local: ${bind}${port}:${formatEndpoint(forward.target, 'localhost')}`;
}

/**
 * Friendly-port advice for every local listening port of a plan: those browsers refuse (the
 * Fetch standard's bad ports) and privileged ones this user may not bind.
 */
export function adviseOnPorts(plan: Plan, rights: BindRights): PortAdvice {
  const warnings: string[] = [];
  const denied: string[] = [];
  for (const tunnel of plan.tunnels) {
    for (const forward of tunnel.forwards) {
      const port = localPort(forward);
      if (port === undefined) continue;
      if (!rights.anyPort && port < rights.unprivilegedPortStart) {
        const other = port + 8000 <= 65535 && !BAD_PORTS.has(port + 8000) ? port + 8000 : 8080;
        denied.push(
          `tunnel ${tunnel.name}: local port ${port} is privileged here: only root (or a program with CAP_NET_BIND_SERVICE) may listen below ${rights.unprivilegedPortStart}; use a higher local port, e.g. ${respelled(forward, other)}`,
        );
      }
      const service = BAD_PORTS.get(port);
      if (forward.kind === 'local' && service !== undefined) {
        warnings.push(
          `tunnel ${tunnel.name}: browsers refuse http://localhost:${port} without saying why (port ${port}${service === '—' ? '' : `, ${service},`} is on the Fetch standard's "bad ports" list: Chrome shows ERR_UNSAFE_PORT); to open it in a browser, pick another local port, e.g. ${respelled(forward, nextGoodPort(port))}`,
        );
      }
    }
  }
  return { warnings, denied };
}
