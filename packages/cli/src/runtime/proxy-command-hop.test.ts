import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostSpec } from '@fwd/core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.js';
import { buildPlan } from '../config/plan.js';
import { sshConfigHostNames } from '../config/ssh-config.js';
import type { Prompter } from '../prompts.js';
import { supervisorSpecFromPlan } from './host-specs.js';
import { PROXY_COMMAND_CONNECT_TIMEOUT_MS } from './proxy-command-hop.js';

const home = mkdtempSync(join(tmpdir(), 'fwd-proxyhop-'));
mkdirSync(join(home, '.ssh'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const prompter: Prompter = { interactive: false, ask: () => Promise.reject(new Error('no terminal')) };

/** The host specs `fwd up` would run for this file and ~/.ssh/config (nothing is started). */
async function specs(yaml: string, sshConfig: string): Promise<Map<string, HostSpec>> {
  writeFileSync(join(home, '.ssh/config'), sshConfig);
  const ssh = { homeDir: home, user: 'alice', env: {} };
  const loaded = loadConfig(yaml, 'tunnels.yaml', {}, { knownSshHosts: sshConfigHostNames(ssh) });
  const { plan, problems } = buildPlan(loaded.config ?? ({} as never), ssh);
  expect(problems).toEqual([]);
  const spec = await supervisorSpecFromPlan(plan ?? ({} as never), { prompter, warn: () => undefined });
  return new Map(spec.hosts.map((h) => [h.name, h]));
}

describe('a ProxyCommand hop', () => {
  it('runs the command for the first hop only, with %n the alias, and waits for a person (no 10 s bound)', async () => {
    const hosts = await specs(
      'version: 1\ntunnels:\n  a: { host: gw, local: "0:x:1" }\n  b: { host: alice@node:2200, local: "0:x:1" }\n',
      'Host gw\n  HostName gw.example.org\n  ProxyCommand cloudflared access ssh --hostname %n\nHost node\n  ProxyJump gw\n',
    );
    const gw = hosts.get('gw');
    expect(gw?.transport?.description).toBe('command cloudflared access ssh --hostname %n');
    expect(gw?.transport?.probe).toBe(false);
    expect(gw?.session.connectTimeoutMs).toBe(PROXY_COMMAND_CONNECT_TIMEOUT_MS);
    // The jump hop of alice@node:2200 is gw through its ProxyCommand; node itself is a channel.
    const node = hosts.get('alice@node:2200');
    expect(node?.transport).toBeUndefined();
    expect(node?.session.connectTimeoutMs).toBeUndefined();
  });

  it('expands %n to the name as given, without user@ and :port, as ssh does', async () => {
    const hosts = await specs(
      'version: 1\ntunnels:\n  a: { host: "bob@gw:2222", local: "0:x:1" }\n',
      'Host gw\n  HostName GW.example.org\n  ProxyCommand echo %n %h %p %r\n',
    );
    const transport = hosts.get('bob@gw:2222')?.transport;
    const stream = await transport?.connect(new AbortController().signal);
    const chunks: Buffer[] = [];
    for await (const chunk of stream ?? []) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('gw gw.example.org 2222 bob\n');
  });

  it('keeps ConnectTimeout when ~/.ssh/config sets it', async () => {
    const hosts = await specs(
      'version: 1\ntunnels:\n  a: { host: gw, local: "0:x:1" }\n',
      'Host gw\n  ConnectTimeout 5\n  ProxyCommand nc %h %p\n',
    );
    expect(hosts.get('gw')?.session.connectTimeoutMs).toBe(5_000);
  });
});
