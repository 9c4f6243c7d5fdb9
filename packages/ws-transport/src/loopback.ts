/**
 * True when `host` names this machine's loopback interface: `localhost`, 127.0.0.0/8, `::1`
 * (with or without brackets, or IPv4-mapped). Names are not resolved: anything else counts as
 * reachable from the network, which is what the plain-text warnings need.
 *
 * @example isLoopbackHost('[::1]') // true;  isLoopbackHost('0.0.0.0') // false
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (bare === '::1' || bare === '0:0:0:0:0:0:0:1') return true;
  const v4 = bare.replace(/^::ffff:/, '');
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}
