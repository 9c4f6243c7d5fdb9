import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { launchdAgent } from './launchd-agent.js';
import { removeServiceFile, serviceManager, WRITTEN_BY, writeServiceFile } from './service-install.js';
import type { ServiceSpec } from './service-spec.js';
import { systemdUnit, systemdWord } from './systemd-unit.js';

const spec: ServiceSpec = {
  name: 'tunnels-3f2a1c',
  file: '/home/alice/my tunnels/tunnels.yaml',
  argv: [
    '/usr/bin/node',
    '/opt/fwd/main.js',
    'up',
    '/home/alice/my tunnels/tunnels.yaml',
    '--x',
    '100%$HOME',
  ],
  version: '0.1.0',
};

describe('systemd unit', () => {
  it('quotes ExecStart words as systemd reads them (%, $, spaces, quotes, backslashes)', () => {
    expect(systemdWord('/usr/bin/node')).toBe('/usr/bin/node');
    expect(systemdWord('100%$HOME')).toBe('100%%$$HOME');
    expect(systemdWord('/a b/"c"\\d')).toBe('"/a b/\\"c\\"\\\\d"');
  });
  it('restarts on failure but not on a config error, and says where it came from', () => {
    const unit = systemdUnit(spec, '/run/user/1000');
    expect(unit).toContain(
      `# fwd tunnels of /home/alice/my tunnels/tunnels.yaml, ${WRITTEN_BY} (fwd 0.1.0).`,
    );
    expect(unit).toContain(
      'ExecStart=/usr/bin/node /opt/fwd/main.js up "/home/alice/my tunnels/tunnels.yaml" --x 100%%$$HOME\n',
    );
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    expect(unit).toMatch(/^RestartPreventExitStatus=2$/m);
    expect(unit).toMatch(/^WantedBy=default.target$/m);
    expect(unit).toContain('# Environment=SSH_AUTH_SOCK=%t/ssh-agent.socket');
  });
  it('passes on an agent socket under $XDG_RUNTIME_DIR as %t, not one that changes at each login', () => {
    const withAgent = (agentSocket: string) => systemdUnit({ ...spec, agentSocket }, '/run/user/1000');
    expect(withAgent('/run/user/1000/gnupg/S.gpg-agent.ssh')).toMatch(
      /^Environment=SSH_AUTH_SOCK=%t\/gnupg\/S\.gpg-agent\.ssh$/m,
    );
    expect(withAgent('/tmp/ssh-XXXX/agent.123')).not.toMatch(/^Environment=/m);
  });
});

describe('launchd agent', () => {
  it.skipIf(spawnSync('python3', ['-c', 'import plistlib']).status !== 0)(
    'is a property list (read back with Python plistlib) that restarts fwd when it fails',
    () => {
      const plist = launchdAgent(spec, '/Users/alice/Library/Logs/fwd/tunnels-3f2a1c.log');
      const json = execFileSync(
        'python3',
        ['-c', 'import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'],
        { input: plist, encoding: 'utf8' },
      );
      expect(JSON.parse(json)).toEqual({
        Label: 'fwd.tunnels-3f2a1c',
        ProgramArguments: spec.argv,
        RunAtLoad: true,
        KeepAlive: { SuccessfulExit: false },
        ThrottleInterval: 10,
        ProcessType: 'Background',
        StandardOutPath: '/Users/alice/Library/Logs/fwd/tunnels-3f2a1c.log',
        StandardErrorPath: '/Users/alice/Library/Logs/fwd/tunnels-3f2a1c.log',
      });
    },
  );
});

describe('service files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fwd-service-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('live where systemd and launchd look for user services', () => {
    expect(serviceManager('linux', { HOME: '/home/a' })?.path('t-1')).toBe(
      '/home/a/.config/systemd/user/fwd-t-1.service',
    );
    expect(serviceManager('linux', { HOME: '/home/a', XDG_CONFIG_HOME: '/cfg' })?.path('t-1')).toBe(
      '/cfg/systemd/user/fwd-t-1.service',
    );
    expect(serviceManager('darwin', { HOME: '/Users/a' }, 501)?.path('t-1')).toBe(
      '/Users/a/Library/LaunchAgents/fwd.t-1.plist',
    );
    expect(serviceManager('darwin', { HOME: '/Users/a' }, 501)?.stopCommands('t-1')).toEqual([
      ['launchctl', 'bootout', 'gui/501/fwd.t-1'],
    ]);
    expect(serviceManager('win32', {})).toBeUndefined();
  });

  it('replace and delete only what fwd wrote', async () => {
    const path = join(dir, 'sub', 'fwd-x.service');
    expect(await writeServiceFile(path, `# ${WRITTEN_BY}\nA\n`, false)).toEqual({ written: path });
    expect(await writeServiceFile(path, `# ${WRITTEN_BY}\nB\n`, false)).toEqual({ written: path });
    expect(await readFile(path, 'utf8')).toContain('B');
    const theirs = join(dir, 'theirs.service');
    await writeFile(theirs, '[Service]\n');
    expect(await writeServiceFile(theirs, 'ours', false)).toEqual({ foreign: theirs });
    expect(await removeServiceFile(theirs)).toBe('foreign');
    expect(await readFile(theirs, 'utf8')).toBe('[Service]\n');
    expect(await removeServiceFile(path)).toBe(true);
    expect(await removeServiceFile(path)).toBe(false);
  });
});
