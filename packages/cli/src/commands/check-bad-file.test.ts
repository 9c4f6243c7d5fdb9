import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capture } from '../../../../test/support/capture.js';
import { checkCommand } from './check.js';

describe('fwd check: bad files are problems with a position, exit 2 (issue 17.12, 13, 15)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fwd-check-bad-'));
    const bomb = ['version: 1', 'a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const name of ['b', 'c', 'd', 'e', 'f', 'g']) {
      const previous = String.fromCharCode(name.charCodeAt(0) - 1);
      bomb.push(`${name}: &${name} [${Array(10).fill(`*${previous}`).join(', ')}]`);
    }
    await writeFile(join(dir, 'bomb.yaml'), `${bomb.join('\n')}\ntunnels: {}\n`);
    await writeFile(join(dir, 'big.yaml'), `version: 1\n#${'x'.repeat(2 * 1024 * 1024)}\n`);
    await writeFile(join(dir, 'latin1.yaml'), Buffer.from('version: 1\ntunnels: {}\n# caf\xe9\n', 'latin1'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['bomb.yaml', /^bomb\.yaml:6:\d+ {2}aliases expand to more than 100000 values/],
    ['big.yaml', /^big\.yaml:1:1 {2}the file is 2097165 bytes; a tunnels file may be at most 1 MiB/],
    ['latin1.yaml', /^latin1\.yaml:3:6 {2}not UTF-8: byte 0xe9 at offset 28/],
  ])('%s', async (file, expected) => {
    const out = capture();
    const err = capture();
    const code = await checkCommand([file], {
      stdout: out.stream,
      stderr: err.stream,
      stdin: new PassThrough(),
      env: { HOME: dir },
      cwd: dir,
    });
    expect(err.text()).toMatch(expected);
    expect(err.text()).not.toContain('internal error');
    expect(code).toBe(2);
  });
});
