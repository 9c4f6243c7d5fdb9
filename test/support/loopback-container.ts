import { GenericContainer } from 'testcontainers';

/**
 * A GenericContainer whose published ports bind to 127.0.0.1 only: test servers (with known
 * passwords and keys) must never be reachable from the network.
 */
export class LoopbackContainer extends GenericContainer {
  /** Publishes container ports on 127.0.0.1; `host` 0 (the default) lets Docker pick. */
  withLoopbackPorts(...ports: Array<number | { container: number; host: number }>): this {
    this.withExposedPorts(...ports);
    const bindings = this.hostConfig.PortBindings as Record<
      string,
      Array<{ HostIp?: string; HostPort?: string }>
    >;
    for (const port of ports) {
      const container = typeof port === 'number' ? port : port.container;
      const host = typeof port === 'number' ? 0 : port.host;
      bindings[`${container}/tcp`] = [{ HostIp: '127.0.0.1', HostPort: String(host) }];
    }
    return this;
  }

  /** Docker turns IPv6 off inside containers; SOCKS and bracket-syntax tests need ::1. */
  withIPv6Loopback(): this {
    this.hostConfig.Sysctls = { ...this.hostConfig.Sysctls, 'net.ipv6.conf.all.disable_ipv6': '0' };
    return this;
  }
}
