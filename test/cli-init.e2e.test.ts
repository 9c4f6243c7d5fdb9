import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FWD_MAIN, runFwd } from './support/fwd-cli.js';
import { type SshHome, tempHome } from './support/ssh-home.js';
import { hasTmux, type Tmux, tmuxServer } from './support/tmux.js';
import { waitFor } from './support/wait.js';

describe.skipIf(!hasTmux)('fwd init on a terminal (tmux)', () => {
  let home: SshHome;
  let tmux: Tmux;
  const until = (pattern: RegExp, what: string) =>
    waitFor(() => (pattern.test(tmux.screen('init')) ? tmux.screen('init') : undefined), { what });

  beforeAll(async () => {
    home = await tempHome({ sshConfig: 'Host cluster\n  HostName login.example.edu\n  User alice\n' });
    tmux = tmuxServer(`fwd-init-${process.pid}`);
  });
  afterAll(async () => {
    tmux?.kill();
    await home?.[Symbol.asyncDispose]();
  });

  it('asks for the host, ports, Slurm and socket, then writes a file fwd check accepts', async () => {
    tmux.start('init', `cd ${home.dir} && ${FWD_MAIN} init; echo EXITED=$?; sleep 600`, {
      home: home.dir,
      width: 150,
      height: 30,
    });
    await until(
      /Host to forward from \(Hosts in ~\/\.ssh\/config: cluster\) \[cluster\]:\s*$/m,
      'the host question',
    );
    tmux.sendKeys('init', 'Enter');
    await until(/Ports of the app on cluster .*\[8888\]:\s*$/m, 'the ports question');
    tmux.sendKeys('init', '8888 6006', 'Enter');
    await until(/Does it run in a Slurm job\? .*:\s*$/m, 'the Slurm question');
    tmux.sendKeys('init', 'Enter');
    await until(/Does it listen on a unix socket\? .*:\s*$/m, 'the socket question');
    tmux.sendKeys('init', 'Enter');
    const done = await until(/EXITED=\d+/, 'fwd init to finish');
    expect(done).toContain('wrote tunnels.yaml: 2 tunnels to cluster (alice@login.example.edu:22)');
    expect(done).toContain('EXITED=0');
    expect(await readFile(join(home.dir, 'tunnels.yaml'), 'utf8')).toContain('local: 6006:localhost:6006');
    const check = await runFwd(['check', 'tunnels.yaml'], { home: home.dir });
    expect(check).toMatchObject({ code: 0 });
    expect(check.stdout).toContain('tunnels.yaml: ok (2 tunnels, 1 host)');
  });
});
