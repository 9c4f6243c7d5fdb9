import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFwd } from './support/fwd-cli.js';
import { type SshHome, tempHome } from './support/ssh-home.js';

const EXAMPLES = new URL('../examples/', import.meta.url).pathname;

describe('examples/', () => {
  let home: SshHome;
  beforeAll(async () => {
    // demo.yaml resolves "demo" through the ssh config that npm run demo writes; stand one in.
    home = await tempHome({
      prefix: 'fwd-examples-',
      sshConfig: 'Host demo\n  HostName 127.0.0.1\n  Port 2222\n  User alice\n',
    });
  });
  afterAll(async () => {
    await home?.[Symbol.asyncDispose]();
  });

  it('every example passes fwd check', async () => {
    const files = (await readdir(EXAMPLES)).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const file of files) {
      const result = await runFwd(['check', join(EXAMPLES, file)], { home: home.dir });
      expect({ file, code: result.code, stderr: result.stderr }).toEqual({ file, code: 0, stderr: '' });
    }
  });

  it('the seed case (Uppmax notebook) is 5 lines of YAML', async () => {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(join(EXAMPLES, 'uppmax-notebook.yaml'), 'utf8');
    expect(text.trim().split('\n')).toHaveLength(5);
  });
});
