import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCommand } from './check.js';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => {
    text += c.toString();
  });
  return { stream, text: () => text };
}

describe('fwd check: friendly ports', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fwd-check-ports-'));
    await writeFile(
      join(dir, 'tunnels.yaml'),
      [
        'version: 1',
        'tunnels:',
        '  notebook: { host: alice@login.example.org, local: "8888:localhost:8888" }',
        '  x: { host: alice@login.example.org, local: "6000:localhost:9000" }',
        '  web: { host: alice@login.example.org, local: "80:localhost:80" }',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the URL to open and warns about bad and privileged ports, still exiting 0', async () => {
    const out = capture();
    const err = capture();
    const code = await checkCommand(
      [],
      { stdout: out.stream, stderr: err.stream, stdin: new PassThrough(), env: { HOME: dir }, cwd: dir },
      { anyPort: false, unprivilegedPortStart: 1024 },
    );
    expect(code).toBe(0);
    expect(out.text()).toContain('open http://127.0.0.1:8888/ once notebook is up');
    expect(out.text()).toContain('open http://127.0.0.1/ once web is up');
    expect(out.text()).not.toContain(':6000/');
    expect(err.text()).toMatch(/^fwd: warning: tunnel web: local port 80 is privileged here/m);
    expect(err.text()).toMatch(/^fwd: warning: tunnel x: browsers refuse http:\/\/localhost:6000 .*x11/m);
  });
});
